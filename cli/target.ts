// Which Precis a command talks to: the running local stack (default), or a deployed stage when
// PRECIS_STAGE names one (AWS credentials and region then come from the usual AWS environment).
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type Config, config, configFor } from '../lib/config.js';
import { STACK_FILE } from '../local/stack.js';

const StackFile = z.object({
  httpUrl: z.string(),
  writeKey: z.string(),
  adminKey: z.string(),
  env: z.record(z.string(), z.string()),
});
export type StackFile = z.infer<typeof StackFile>;

export async function runningStack(): Promise<StackFile> {
  const parsed = StackFile.safeParse(JSON.parse(await readFile(STACK_FILE, 'utf8').catch(() => '{}')));
  if (!parsed.success)
    throw new Error('No local stack is running: start one with `npm start` (or `npm run dev`).');
  return parsed.data;
}

export async function targetConfig(): Promise<Config> {
  if (config().stage !== 'local') return config();
  return configFor({ ...(await runningStack()).env, PRECIS_STAGE: 'local' });
}

/** Runs a command's main, printing a failure as one line (no stack trace for expected errors). */
export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
