// Public entry to the dataset mappers, and the event sequence the demo replays through the HTTP API.
import type { SpecEventInput } from '../ingest/spec.js';
import { datasetPath, defaultDataDir } from './files.js';
import { onlineRetailEvents, onlineRetailIdentifies } from './onlineRetail.js';
import { rees46Events } from './rees46.js';

export {
  type CsvRecord,
  type DatasetName,
  datasetPath,
  datasetsAvailable,
  datasetsForTests,
  defaultDataDir,
  type ReadCsvOptions,
  readCsvGz,
} from './files.js';
export { MAX_DATASET_EVENT_BYTES, onlineRetailEvents, onlineRetailIdentifies } from './onlineRetail.js';
export { rees46Events } from './rees46.js';

/** Identifies first so every Online Retail order lands on a known profile, then orders, then REES46. */
export async function* demoEvents(dataDir = defaultDataDir()): AsyncGenerator<SpecEventInput> {
  const retail = datasetPath('online_retail', dataDir);
  yield* onlineRetailIdentifies(retail);
  yield* onlineRetailEvents(retail);
  yield* rees46Events(datasetPath('rees46', dataDir));
}
