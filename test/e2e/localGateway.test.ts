// The local stack's HTTP front answers as API Gateway does: a burst of SDK connections is absorbed (no
// function timeouts), and a 200 always means the events are stored.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, inject, it } from 'vitest';
import { startHttpGateway } from '../../local/httpGateway.js';
import { archivedWithPrefix, waitForArchived } from '../support/archiveWait.js';
import { ARCHIVE_IDLE_TIMEOUT_MS, waitForArchiveIdle } from '../support/pipelineIdle.js';
import { testConfig } from '../support/provided.js';

const CONNECTIONS = 100;
const EVENTS_PER_REQUEST = 5;

/** A RudderStack-shaped request: a gzipped batch with Basic auth. */
function batchRequest(run: string, connection: number): RequestInit {
  const batch = Array.from({ length: EVENTS_PER_REQUEST }, (_, i) => ({
    type: 'track',
    event: 'Product Viewed',
    userId: `burst-${connection}`,
    messageId: `${run}-${connection}-${i}`,
    properties: { product_id: `p${i}` },
  }));
  return {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${inject('writeKey')}:`).toString('base64')}`,
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    },
    body: gzipSync(JSON.stringify({ batch, sentAt: new Date().toISOString() })),
  };
}

describe('local stack HTTP front', () => {
  it(
    'absorbs a burst of 100 concurrent connections, each request sent twice: every one ends in a 200 that stored its events',
    async () => {
      const run = `burst-${randomUUID()}`;
      // Retried on 5xx as both SDKs do (a function timeout on a loaded machine is a 500); every answer kept.
      const send = async (connection: number) => {
        const answers: { status: number; body: string }[] = [];
        for (let attempt = 0; attempt < 5; attempt++) {
          if (attempt > 0) await sleep(500 * 2 ** attempt);
          const res = await fetch(`${inject('httpUrl')}/v1/batch`, batchRequest(run, connection));
          answers.push({ status: res.status, body: await res.text() });
          if (res.status < 500) break;
        }
        return answers;
      };
      // Every connection sends its batch, and the same batch again at once (an app retrying early).
      const perRequest = await Promise.all(
        Array.from({ length: CONNECTIONS * 2 }, (_, i) => send(i % CONNECTIONS)),
      );
      const answers = perRequest.flat();
      // A 200 is always a success that accepted the events; anything else is a 5xx an SDK retries.
      const accepted = `"accepted":${EVENTS_PER_REQUEST}`;
      const falseSuccess = answers.filter((a) => a.status === 200 && !a.body.includes(accepted));
      expect(falseSuccess.slice(0, 3)).toEqual([]);
      expect(answers.filter((a) => a.status !== 200 && a.status < 500)).toEqual([]);
      // Absorbed: the burst waits in line for warm workers, and every request ends in a 200.
      expect(perRequest.filter((a) => a.at(-1)?.status !== 200).length).toBe(0);

      const expected = CONNECTIONS * EVENTS_PER_REQUEST;
      await waitForArchived(testConfig(), run, expected, 120_000);
      // Counted once the archive has nothing left to do: a late duplicate would be in the count.
      await waitForArchiveIdle(testConfig());
      const ids = (await archivedWithPrefix(testConfig(), run)).map((r) => r.message_id);
      expect(ids.length).toBe(expected);
      expect(new Set(ids).size).toBe(expected);
    },
    300_000 + ARCHIVE_IDLE_TIMEOUT_MS,
  );

  it('answers a function that throws with 500, never with 200 and the error as the body', async () => {
    // A real function failing in serverless-offline: the archive consumer given an HTTP event throws
    // (it has no Records), exactly as a handler bug would. A Lambda timeout takes the same path: the
    // Lambda API reports both as an unhandled function error.
    const gateway = await startHttpGateway({
      routes: [{ method: 'POST', path: '/fails', functionName: 'precis-local-archive' }],
      lambdaUrl: inject('lambdaUrl'),
      port: 0,
      concurrency: 1,
    });
    try {
      const res = await fetch(`${gateway.url}/fails`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    } finally {
      await gateway.stop();
    }
  });
});
