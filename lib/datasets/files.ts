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

/** True when all three files are present, so tests and demos can skip cleanly when they are not. */
export function datasetsAvailable(dataDir = defaultDataDir()): boolean {
  return (Object.keys(FILE_NAMES) as DatasetName[]).every((name) => existsSync(datasetPath(name, dataDir)));
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
