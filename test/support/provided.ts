// What the global setups hand to tests (vitest provide/inject), and a Config for the emulators.
import { inject } from 'vitest';
import { type Config, parseConfig } from '../../lib/config.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Environment of the stack under test: endpoints of the emulators and resource names. */
    stackEnv: Record<string, string>;
    /** e2e only: the local stack's HTTP API. */
    httpUrl: string;
    /** e2e only: serverless-offline's Lambda invoke API. */
    lambdaUrl: string;
    /** e2e only: where serverless-offline's output goes. */
    offlineLog: string;
    writeKey: string;
    adminKey: string;
    readKey: string;
  }
}

/** The configuration a function of the stack under test would have. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({ ...inject('stackEnv'), PRECIS_LOG_LEVEL: 'SILENT', ...overrides });
}
