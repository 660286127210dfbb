// The resolved serverless.yml (through `osls print`): the local stack provisions the emulators from its
// `resources` and wires queue triggers from its `functions`, so a resource added for the cloud exists
// on every laptop and in every test run without a second list to keep in step.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { projectRoot } from '../lib/projectRoot.js';

export const PROJECT_ROOT = projectRoot();
export const OSLS_BIN = join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

const Resource = z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).default({}) });
export type Resource = z.infer<typeof Resource>;

const SqsTrigger = z.object({
  arn: z.unknown(),
  batchSize: z.number().int().positive().default(10),
  maximumBatchingWindow: z.number().int().nonnegative().default(0),
  functionResponseType: z.string().optional(),
});
export type SqsTrigger = z.infer<typeof SqsTrigger>;

const ServiceDefinition = z.object({
  service: z.string(),
  provider: z.object({ environment: z.record(z.string(), z.string()).default({}) }),
  functions: z.record(
    z.string(),
    z.object({
      handler: z.string(),
      timeout: z.number().optional(),
      events: z.array(z.record(z.string(), z.unknown())).default([]),
    }),
  ),
  resources: z.object({ Resources: z.record(z.string(), Resource) }),
});
export type ServiceDefinition = z.infer<typeof ServiceDefinition> & { stage: string };

/** Resolves serverless.yml for a stage; cached by the file's hash (osls takes a few seconds). */
export async function loadServiceDefinition(stage: string): Promise<ServiceDefinition> {
  return { ...ServiceDefinition.parse(await printService(stage)), stage };
}

const ServiceResources = z.object({ resources: ServiceDefinition.shape.resources });
export type ServiceResources = z.infer<typeof ServiceResources>;

/**
 * Only the resources of a stage: a cloud stage's environment holds CloudFormation intrinsics that the
 * local definition's schema rejects, and tests compare the local resources with the deployed ones.
 */
export async function loadServiceResources(stage: string): Promise<ServiceResources> {
  return ServiceResources.parse(await printService(stage));
}

async function printService(stage: string): Promise<unknown> {
  const yaml = await readFile(join(PROJECT_ROOT, 'serverless.yml'), 'utf8');
  const hash = createHash('sha256').update(stage).update(yaml).digest('hex').slice(0, 16);
  const cacheFile = join(PROJECT_ROOT, '.local', `service-${stage}-${hash}.json`);
  let printed: string;
  try {
    printed = await readFile(cacheFile, 'utf8');
  } catch {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [OSLS_BIN, 'print', '--stage', stage, '--format', 'json'],
      {
        cwd: PROJECT_ROOT,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
      },
    );
    printed = stdout;
    await mkdir(dirname(cacheFile), { recursive: true });
    await writeFile(cacheFile, printed);
  }
  return JSON.parse(printed);
}

export function resourcesOfType(def: ServiceResources, type: string): [string, Resource][] {
  return Object.entries(def.resources.Resources).filter(([, r]) => r.Type === type);
}

/** The deployed name of a function, as serverless-offline exposes it for invocation. */
export const functionName = (def: ServiceDefinition, key: string) => `${def.service}-${def.stage}-${key}`;

export interface QueueTrigger extends SqsTrigger {
  readonly functionKey: string;
  readonly queueName: string;
  readonly timeoutSeconds: number;
}

/** Every SQS trigger of every function, with its queue's name resolved from the resources. */
export function queueTriggers(def: ServiceDefinition): QueueTrigger[] {
  const out: QueueTrigger[] = [];
  for (const [functionKey, fn] of Object.entries(def.functions)) {
    for (const event of fn.events) {
      if (!event.sqs) continue;
      const trigger = SqsTrigger.parse(event.sqs);
      const logicalId = getAttTarget(trigger.arn);
      const queueName = logicalId ? def.resources.Resources[logicalId]?.Properties.QueueName : undefined;
      if (typeof queueName !== 'string') {
        throw new Error(
          `function ${functionKey}: sqs arn must be !GetAtt <Queue>.Arn of a resource with a QueueName`,
        );
      }
      out.push({ ...trigger, functionKey, queueName, timeoutSeconds: fn.timeout ?? 6 });
    }
  }
  return out;
}

/** The logical id in `{ "Fn::GetAtt": [id, "Arn"] }`. */
export function getAttTarget(value: unknown): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | null)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}
