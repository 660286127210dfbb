// Whether a test that needs the public datasets runs: skipped without them on a laptop, a failure in CI.
import { datasetsForTests } from '../../lib/datasets/index.js';
import { runningInCi } from '../../local/config.js';

/** For `describe.skipIf(!datasetsPresent())`: throws under CI=true when a dataset is missing. */
export const datasetsPresent = (): boolean => datasetsForTests({ ci: runningInCi() });
