// Locates the public datasets in ../shared/data and streams their gzipped CSV rows as records.
// Nothing is loaded whole: the mappers built on this stay within a few MB even on the 540k-row file.
import { createReadStream, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { projectRoot } from '../projectRoot.js';

export type DatasetName = 'online_retail' | 'rees46' | 'marketing_campaign';

const FILE_NAMES: Record<DatasetName, string> = {
  online_retail: 'online_retail.csv.gz',
  rees46: 'rees46_2019-Oct_head.csv.gz',
  marketing_campaign: 'marketing_campaign.csv.gz',
};

/** A CSV row keyed by the header's column names. */
export type CsvRecord = Record<string, string>;

export interface ReadCsvOptions {
  /** One character; marketing_campaign is TAB-separated. Defaults to ','. */
  delimiter?: string;
}

/** `<project root>/../shared/data`, where the project root is the directory holding package.json. */
export function defaultDataDir(): string {
  return join(projectRoot(), '..', 'shared', 'data');
}

export function datasetPath(name: DatasetName, dataDir = defaultDataDir()): string {
  return resolve(dataDir, FILE_NAMES[name]);
}

/** True when all three files are present, so demos can say so and tests skip cleanly when they are not. */
export function datasetsAvailable(dataDir = defaultDataDir()): boolean {
  return missingDatasets(dataDir).length === 0;
}

function missingDatasets(dataDir: string): string[] {
  return (Object.keys(FILE_NAMES) as DatasetName[])
    .filter((name) => !existsSync(datasetPath(name, dataDir)))
    .map((name) => FILE_NAMES[name]);
}

/**
 * Whether the tests that need the datasets run: they skip on a laptop without them, but in CI a
 * missing file throws, failing the run (a green run that skipped the acceptance tests proves nothing).
 */
export function datasetsForTests({
  ci,
  dataDir = defaultDataDir(),
}: {
  ci: boolean;
  dataDir?: string;
}): boolean {
  const missing = missingDatasets(dataDir);
  if (missing.length > 0 && ci) {
    throw new Error(
      `CI=true and datasets are missing: ${missing.join(', ')} not in ${dataDir} (see the shared data folder's README)`,
    );
  }
  return missing.length === 0;
}

/** Streams the records of a .csv.gz file, columns named from its header row. */
export async function* readCsvGz(path: string, options: ReadCsvOptions = {}): AsyncGenerator<CsvRecord> {
  const parser = parse({ columns: true, bom: true, delimiter: options.delimiter ?? ',' });
  // pipeline (not .pipe) so a read or gunzip error destroys the parser and surfaces in the loop below,
  // and an early `break` by the consumer tears the file stream down; the callback only swallows the
  // error already thrown to the consumer.
  pipeline(createReadStream(path), createGunzip(), parser, () => {});
  for await (const record of parser as AsyncIterable<CsvRecord>) yield record;
}
