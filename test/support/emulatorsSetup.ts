// Integration tier: the three emulators with every resource of serverless.yml, for the whole run.
import type { TestProject } from 'vitest/node';
import { startProvisionedEmulators } from '../../local/provision.js';
import { localSecrets } from '../../local/stack.js';

export default async function setup(project: TestProject) {
  const { emulators, env } = await startProvisionedEmulators(localSecrets());
  project.provide('stackEnv', env);
  return () => emulators.stop();
}
