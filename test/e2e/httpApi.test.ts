// The HTTP API through plain clients (fetch and the curl binary): every kind of bad input gets its
// status and reason; client retries and body write keys work as with Segment.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { openApiDocument } from '../../lib/openapi.js';
import { waitForArchived } from '../support/archiveWait.js';
import { ARCHIVE_IDLE_TIMEOUT_MS, waitForArchiveIdle } from '../support/pipelineIdle.js';
import { testConfig } from '../support/provided.js';

const url = (path: string) => `${inject('httpUrl')}${path}`;
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** `key: null` sends no Authorization header. */
async function post(path: string, body: unknown, key: string | null = inject('writeKey')) {
  const res = await fetch(url(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: basic(key) } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('HTTP API with plain clients', () => {
  it('accepts a track call from curl with the write key as Basic user name', () => {
    const messageId = `curl-${randomUUID()}`;
    const out = execFileSync(
      'curl',
      [
        '-sS',
        '-w',
        '\n%{http_code}',
        '-u',
        `${inject('writeKey')}:`,
        '-H',
        'content-type: application/json',
        '-d',
        JSON.stringify({ userId: 'curl-user', event: 'Product Shared', messageId }),
        url('/v1/track'),
      ],
      { encoding: 'utf8' },
    );
    const [body, status] = out.trimEnd().split('\n');
    expect(status).toBe('200');
    expect(JSON.parse(body ?? '')).toEqual({ success: true, accepted: 1, rejected: [] });
  });

  it('answers 401 without a key and with an unknown key, 403 for a write key on admin routes', async () => {
    const noKey = await post('/v1/track', { userId: 'u', event: 'E' }, null);
    expect(noKey.status).toBe(401);
    expect(noKey.body.error).toBe('unauthorized');
    expect((await post('/v1/track', { userId: 'u', event: 'E' }, 'wk_not_a_key')).status).toBe(401);
    const res = await fetch(url('/v1/quarantine'), { headers: { authorization: basic(inject('writeKey')) } });
    expect(res.status).toBe(403);
  });

  it('answers 400 for malformed JSON and for invalid batches, naming the field', async () => {
    const malformed = await post('/v1/batch', '{"batch": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('malformed_json');
    const notBatch = await post('/v1/batch', { batch: 'nope' });
    expect(notBatch.status).toBe(400);
    expect(notBatch.body.details).toEqual([expect.objectContaining({ path: 'batch' })]);
    const invalid = await post('/v1/identify', { traits: { plan: 'x' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toBe('invalid_events');
    const details = invalid.body.details as { rejected: { errors: { path: string; code: string }[] }[] };
    expect(details.rejected[0]?.errors).toEqual([
      expect.objectContaining({ path: 'userId', code: 'required' }),
    ]);
  });

  it('answers 413 for a request over 500 KB and rejects only the event over 32 KB in a batch', async () => {
    const huge = {
      batch: [{ type: 'track', userId: 'u', event: 'E', properties: { blob: 'x'.repeat(520 * 1024) } }],
    };
    const tooBig = await post('/v1/batch', huge);
    expect(tooBig.status).toBe(413);
    expect(String(tooBig.body.message)).toContain('512000 bytes');

    const run = `size-${randomUUID()}`;
    const batch = [
      { type: 'track', messageId: `${run}-ok`, userId: 'u', event: 'E' },
      {
        type: 'track',
        messageId: `${run}-big`,
        userId: 'u',
        event: 'E',
        properties: { blob: 'y'.repeat(33 * 1024) },
      },
    ];
    const mixed = await post('/v1/batch', { batch });
    expect(mixed.status).toBe(200);
    expect(mixed.body.accepted).toBe(1);
    expect(mixed.body.rejected).toEqual([
      expect.objectContaining({
        index: 1,
        messageId: `${run}-big`,
        errors: [expect.objectContaining({ code: 'event_too_large' })],
      }),
    ]);
    await waitForArchived(testConfig(), `${run}-ok`, 1);
  });

  it(
    'deduplicates a retried batch and concurrent copies of it, and accepts writeKey in the body',
    async () => {
      const run = `retry-${randomUUID()}`;
      const batch = Array.from({ length: 25 }, (_, i) => ({
        type: 'track',
        messageId: `${run}-${i}`,
        userId: `u${i}`,
        event: 'Checkout Started',
      }));
      const sends = await Promise.all([1, 2, 3, 4, 5].map(() => post('/v1/batch', { batch })));
      expect(sends.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
      // Segment SDKs also put the write key in the body; without an Authorization header it is used.
      expect((await post('/v1/batch', { batch, writeKey: inject('writeKey') }, null)).status).toBe(200);
      const rows = await waitForArchived(testConfig(), run, batch.length);
      // Once the consumer is idle, a copy that slipped through would be in the archive.
      await waitForArchiveIdle(testConfig());
      const again = await waitForArchived(testConfig(), run, batch.length);
      expect(again.length).toBe(rows.length);
      expect(new Set(again.map((r) => r.message_id)).size).toBe(batch.length);
      expect(again.length).toBe(batch.length);
    },
    120_000 + ARCHIVE_IDLE_TIMEOUT_MS,
  );

  it('lists, shows and replays a quarantined event with a correction, then archives it', async () => {
    const run = `replay-${randomUUID()}`;
    const bad = {
      userId: 'u',
      messageId: run,
      event: 'Order Completed',
      properties: { revenue: -3, order_id: 'o' },
    };
    const sent = await post('/v1/track', bad);
    expect(sent.status).toBe(400);
    const id = (sent.body.details as { rejected: { quarantineId: string }[] }).rejected[0]?.quarantineId;
    const admin = { authorization: `Bearer ${inject('adminKey')}` };

    const shown = await fetch(url(`/v1/quarantine/${id}`), { headers: admin });
    expect(shown.status).toBe(200);
    expect(await shown.json()).toMatchObject({ id, status: 'open', messageId: run, replayable: true });
    expect((await fetch(url('/v1/quarantine/q_missing'), { headers: admin })).status).toBe(404);
    const forged = await fetch(url('/v1/quarantine?cursor=garbage'), { headers: admin });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { details: unknown }).details).toEqual([
      expect.objectContaining({ path: 'cursor' }),
    ]);

    const unchanged = await fetch(url(`/v1/quarantine/${id}/replay`), { method: 'POST', headers: admin });
    expect(await unchanged.json()).toMatchObject({ outcome: 'still_invalid' });
    const corrected = await fetch(url(`/v1/quarantine/${id}/replay`), {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ event: { ...bad, properties: { revenue: 3, order_id: 'o' } } }),
    });
    expect(await corrected.json()).toMatchObject({ outcome: 'replayed', messageId: run });
    const [row] = await waitForArchived(testConfig(), run, 1);
    expect(JSON.parse(row?.properties ?? '{}')).toEqual({ revenue: 3, order_id: 'o' });
  });

  it('accepts analytics.js requests: one-letter paths, text/plain bodies with the write key inside', async () => {
    const run = `browser-${randomUUID()}`;
    const send = (path: string, body: unknown) =>
      fetch(url(path), {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(body),
      });
    const writeKey = inject('writeKey');
    const single = await send('/v1/p', {
      writeKey,
      anonymousId: 'a1',
      messageId: `${run}-page`,
      name: 'Home',
    });
    expect(single.status).toBe(200);
    const batched = await send('/v1/b', {
      writeKey,
      sentAt: new Date().toISOString(),
      batch: [
        { type: 'track', anonymousId: 'a1', messageId: `${run}-t`, event: 'Product Clicked' },
        { type: 'identify', anonymousId: 'a1', userId: 'u1', messageId: `${run}-i` },
      ],
    });
    expect(await batched.json()).toEqual({ success: true, accepted: 2, rejected: [] });
    const rows = await waitForArchived(testConfig(), run, 3);
    expect(rows.map((r) => r.type).sort()).toEqual(['identify', 'page', 'track']);
  });

  it('answers 404 or 400, never 500, for a percent sign in a customer id (decoded exactly once)', async () => {
    // `%25` is a literal `%`: API Gateway hands the handler `%`, and decoding it again threw URIError.
    for (const suffix of ['', '/events', '/identities']) {
      const res = await fetch(url(`/v1/customers/%25${suffix}`), { headers: bearer(inject('readKey')) });
      expect([400, 404], `GET /v1/customers/%25${suffix}`).toContain(res.status);
    }
    const unmerge = await fetch(url('/v1/customers/%25/unmerge'), {
      method: 'POST',
      headers: { ...bearer(inject('adminKey')), 'content-type': 'application/json' },
      body: JSON.stringify({ mergeId: 'mrg_none' }),
    });
    expect([400, 404]).toContain(unmerge.status);
    // An id that really contains `%` is looked up as sent, not decoded a second time.
    const percent = await fetch(url(`/v1/customers/${encodeURIComponent('50%off')}`), {
      headers: bearer(inject('readKey')),
    });
    expect(percent.status).toBe(404);
    expect(((await percent.json()) as { message: string }).message).toContain('"50%off"');
  });

  it('answers 400 naming path.id for a 5,000-character id on customer, quarantine and run routes', async () => {
    const long = 'x'.repeat(5_000);
    const routes: [string, string, string][] = [
      ['GET', `/v1/customers/${long}`, inject('readKey')],
      ['GET', `/v1/customers/${long}/events`, inject('readKey')],
      ['GET', `/v1/customers/${long}/identities`, inject('readKey')],
      ['POST', `/v1/customers/${long}/unmerge`, inject('adminKey')],
      ['GET', `/v1/quarantine/${long}`, inject('adminKey')],
      ['POST', `/v1/quarantine/${long}/replay`, inject('adminKey')],
      ['GET', `/v1/segmentation/runs/seg_${long}`, inject('readKey')],
    ];
    for (const [method, path, key] of routes) {
      const res = await fetch(url(path), {
        method,
        headers: { ...bearer(key), 'content-type': 'application/json' },
        body: method === 'POST' ? JSON.stringify({ mergeId: 'mrg_x' }) : undefined,
      });
      const body = (await res.json()) as { details?: { path: string; code: string }[] };
      expect(res.status, `${method} ${path.slice(0, 30)}`).toBe(400);
      expect(body.details, `${method} ${path.slice(0, 30)}`).toEqual([
        expect.objectContaining({ path: 'path.id', code: 'too_long' }),
      ]);
    }
  });

  it('answers a retried run request with the same Idempotency-Key with the run it made, 409 with another body', async () => {
    const ask = (body: unknown, key: string) =>
      fetch(url('/v1/segmentation/runs'), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${inject('adminKey')}`,
          'content-type': 'application/json',
          'Idempotency-Key': key,
        },
        body: JSON.stringify(body),
      });
    const key = `e2e-${randomUUID()}`;
    const back = { asOf: '2011-06-01', publish: false };
    const first = await ask(back, key);
    const again = await ask(back, key);
    expect([first.status, again.status]).toEqual([202, 202]);
    const runOf = async (res: Response) => ((await res.json()) as { run: { runId: string } }).run.runId;
    const runId = await runOf(first);
    expect(await runOf(again)).toBe(runId);
    const other = await ask({ ...back, parameters: { kMax: 5 } }, key);
    expect(other.status).toBe(409);
    const bad = await ask(back, 'has spaces in it');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { details: { path: string }[] }).details).toEqual([
      expect.objectContaining({ path: 'headers.idempotency-key' }),
    ]);
  });

  it('answers 401 to a request without a valid key before reading its body (no 400 or 413)', async () => {
    const tooBig = JSON.stringify({ batch: [{ blob: 'x'.repeat(600 * 1024) }] });
    for (const key of ['wk_not_a_key', inject('readKey')]) {
      expect((await post('/v1/batch', tooBig, key)).status).toBe(key === inject('readKey') ? 403 : 401);
      expect((await post('/v1/batch', '{"batch": [', key)).status).toBe(
        key === inject('readKey') ? 403 : 401,
      );
    }
    const gzipGarbage = await fetch(url('/v1/batch'), {
      method: 'POST',
      headers: { authorization: basic('wk_not_a_key'), 'content-encoding': 'gzip' },
      body: 'not gzip at all',
    });
    expect(gzipGarbage.status).toBe(401);
  });

  it('serves the OpenAPI document generated from the schemas', async () => {
    const res = await fetch(url('/openapi.json'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });
});
