// An object under raw/ that the archive writer did not name (a stray upload) has no time for the ledgers:
// the live profiles consumer refuses it (it waits in the DLQ under its key), the nightly history skips it
// with a warning so one stray object cannot fail every run; neither dates it "now".
import { describe, expect, it } from 'vitest';
import { archiveObjectKey, toArchiveRecord } from '../../lib/archive/record.js';
import { applyArchiveObject, type ProfileDeps } from '../../lib/profiles/consume.js';
import { historyAsOf } from '../../lib/segmentation/history.js';
import { makeEvent, recordingLogger } from '../support/archiveFixtures.js';

const FOREIGN = 'raw/dt=2026-03-10/uploaded-by-hand.ndjson.gz';
const at = Date.parse('2026-03-10T08:00:00Z');
const OURS = archiveObjectKey('2026-03-10', at, 'w1');
const recordsOf = (key: string) => [
  toArchiveRecord(
    makeEvent('web', { userId: `u-${key.length}`, receivedAt: '2026-03-10T08:00:00.000Z' }),
    '2026-03-10T08:00:00.000Z',
  ),
];

describe('archive objects the writer did not name', () => {
  it('are refused by the profiles consumer, by key, before anything is read or written', async () => {
    const untouched = new Proxy({} as ProfileDeps, {
      get: (_, name) => {
        throw new Error(`a refused object used deps.${String(name)}`);
      },
    });
    await expect(applyArchiveObject(FOREIGN, untouched)).rejects.toThrow(FOREIGN);
  });

  it('are skipped, with a warning naming the key, by the history a run rebuilds', async () => {
    const { log, entries } = recordingLogger();
    const history = await historyAsOf(Date.parse('2026-03-11T00:00:00Z'), {
      archive: {
        keys: async function* () {
          yield OURS;
          yield FOREIGN;
        },
        records: async (key) => recordsOf(key),
      },
      identity: { getNodes: async () => new Map() },
      log,
    });
    expect(history).toMatchObject({ objects: 1, events: 1 });
    expect(entries).toEqual([
      expect.objectContaining({ level: 'warn', extra: [expect.objectContaining({ key: FOREIGN })] }),
    ]);
  });
});
