// Settings of the development machine: the ports the local stack (`npm start`, `npm run dev`) listens on
// (0 picks a free port), and whether this is CI. Parsed with zod from the environment; the one place
// under local/ that reads process.env. Documented in docs/operations.md ("Running locally").
import { z } from 'zod';
import { ConfigError } from '../lib/config.js';

const Port = z.coerce.number().int().min(0).max(65_535);

/** Each port of the local stack, with the setting that changes it and what listens there. */
export const LOCAL_PORTS = {
  http: { setting: 'PRECIS_LOCAL_HTTP_PORT', default: 3000, what: 'the HTTP API' },
  lambda: { setting: 'PRECIS_LOCAL_LAMBDA_PORT', default: 3002, what: "serverless-offline's Lambda API" },
  dynamodb: { setting: 'PRECIS_LOCAL_DYNAMODB_PORT', default: 4567, what: 'the DynamoDB emulator' },
  s3: { setting: 'PRECIS_LOCAL_S3_PORT', default: 4568, what: 'the S3 emulator' },
  sqs: { setting: 'PRECIS_LOCAL_SQS_PORT', default: 4569, what: 'the SQS emulator' },
} as const;
export type LocalPortName = keyof typeof LOCAL_PORTS;
export type LocalPorts = Readonly<Record<LocalPortName, number>>;

const names = Object.keys(LOCAL_PORTS) as LocalPortName[];

const LocalEnv = z.object(
  Object.fromEntries(names.map((n) => [LOCAL_PORTS[n].setting, Port.default(LOCAL_PORTS[n].default)])),
);

/** The ports of the local stack from an environment (default: this process's); a bad value throws one line. */
export function localPorts(env: Record<string, string | undefined> = process.env): LocalPorts {
  const parsed = LocalEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: must be a port number (0-65535)`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const values = parsed.data as Record<string, number>;
  return Object.fromEntries(names.map((n) => [n, values[LOCAL_PORTS[n].setting]])) as LocalPorts;
}

/** CI services set CI=true (some CI=1); anything else, or nothing, is a laptop. */
const CiFlag = z
  .string()
  .optional()
  .transform((v) => ['true', '1'].includes((v ?? '').toLowerCase()));

/** Whether this runs in CI, where tests must not skip for want of the datasets (lib/datasets). */
export function runningInCi(env: Record<string, string | undefined> = process.env): boolean {
  return CiFlag.parse(env.CI);
}
