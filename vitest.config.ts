// Three tiers: unit (no I/O), integration (real emulators over HTTP, started by the tier's global
// setup), e2e (the whole local stack behind serverless-offline, driven by real HTTP clients).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    env: { PRECIS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/emulatorsSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        // osls package, offline: the CloudFormation a deployment would use.
        test: { name: 'deploy', include: ['test/deploy/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/stackSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One stack for the tier; files share it, so they run one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
