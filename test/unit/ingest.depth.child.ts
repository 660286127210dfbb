// Runs request bodies through the ingest edge (body reading, routing, quarantine entry, envelope
// packing) in a plain `node` process, so ingest.depth.test.ts sees the default main-thread stack that
// Lambda has, not a test worker's. Prints the outcomes as one JSON array; a crash exits non-zero.
import { parseConfig } from '../../lib/config.js';
import { readJsonBody } from '../../lib/http/body.js';
import { packEnvelopes } from '../../lib/ingest/envelope.js';
import { ingest } from '../../lib/ingest/ingest.js';
import type { QuarantineEntry } from '../../lib/quarantine/model.js';

// The requests come on stdin, one per line as `<path> <body>`: a 100,000-level body is over the 128 KB
// a single argument may have.
const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const requests = Buffer.concat(chunks)
  .toString('utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => ({ path: line.slice(0, line.indexOf(' ')), text: line.slice(line.indexOf(' ') + 1) }));

const apiEvent = (path: string, text: string) =>
  ({
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body: text,
    requestContext: { timeEpoch: Date.parse('2026-11-22T14:30:00Z') },
  }) as unknown as Parameters<typeof readJsonBody>[0];

const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function post(path: string, text: string) {
  const quarantined: QuarantineEntry[] = [];
  let envelopes = 0;
  try {
    const body = readJsonBody(apiEvent(path, text), 500 * 1024);
    const outcome = await ingest(
      {
        route: path === '/v1/batch' ? 'batch' : 'track',
        body: body.value,
        bodyBytes: body.bytes,
        sourceId: 'src',
      },
      {
        sink: {
          enqueue: async (events) => {
            envelopes += packEnvelopes(events).length;
          },
        },
        quarantine: { put: async (entries) => void quarantined.push(...entries) },
        quality: parseConfig({}).quality,
        log: silent,
        now: () => Date.parse('2026-11-22T14:30:00Z'),
        protect: async (e) => e,
        sealPayload: async (p) => p,
      },
    );
    return { outcome, envelopes, quarantined };
  } catch (error) {
    const e = error as { name?: string; message?: string; status?: number; code?: string };
    return { thrown: { name: e.name, message: e.message?.slice(0, 300), status: e.status, code: e.code } };
  }
}

const results: unknown[] = [];
for (const { path, text } of requests) results.push(await post(path, text));
process.stdout.write(`${JSON.stringify(results)}\n`);
