// An unmodified RudderStack SDK (@rudderstack/rudder-sdk-node, default settings: gzip on) replaying real
// orders into the local stack: the stack must pass its compressed bodies byte-exact, as API Gateway does,
// and every event the API accepts must reach the archive exactly once.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { acceptedMessageIds, retailOrders } from '../../local/replay.js';
import { drainRudderstack, rudderstackClient, sendWithRudderstack } from '../../local/rudderstack.js';
import { archivedWithPrefix, waitForArchived } from '../support/archiveWait.js';
import { datasetsPresent } from '../support/datasets.js';
import { ARCHIVE_IDLE_TIMEOUT_MS, waitForArchiveIdle } from '../support/pipelineIdle.js';
import { testConfig } from '../support/provided.js';

const ORDERS = 600;
const CLIENTS = 5;

describe.skipIf(!datasetsPresent())('RudderStack SDK against the local stack', () => {
  it(
    'replays real orders with gzip on (the default) and every accepted order is archived once',
    async () => {
      const run = `rs-${randomUUID()}`;
      const events = await retailOrders(run, ORDERS);
      const expected = acceptedMessageIds(events, testConfig().quality);
      // Most real orders pass; a few carry bad quantities and are quarantined (not lost).
      expect(expected.length).toBeGreaterThan(ORDERS * 0.9);

      // Several apps at once, each with its own SDK (one request in flight each), as in production.
      const clients = Array.from({ length: CLIENTS }, () =>
        rudderstackClient({ httpUrl: inject('httpUrl'), writeKey: inject('writeKey') }),
      );
      const errors: unknown[] = [];
      const delivered = events.map(
        (e, i) =>
          new Promise<void>((resolve) =>
            sendWithRudderstack(clients[i % CLIENTS] as (typeof clients)[number], e, (error) => {
              if (error) errors.push(error);
              resolve();
            }),
          ),
      );
      await Promise.all(clients.map((c) => drainRudderstack(c)));
      await Promise.all(delivered);
      expect(errors.map((e) => String(e))).toEqual([]);

      await waitForArchived(testConfig(), run, expected.length, 120_000);
      // Counted once the archive has nothing left to do: a late duplicate would be in the count.
      await waitForArchiveIdle(testConfig());
      const ids = (await archivedWithPrefix(testConfig(), run)).map((r) => r.message_id).sort();
      expect(ids).toEqual([...expected].sort());
    },
    300_000 + ARCHIVE_IDLE_TIMEOUT_MS,
  );
});
