// The CLIs' retry of API calls: what a retry can fix (429, 5xx, a dropped connection) is asked again with
// backoff; any other answer is returned at once; the last failure is thrown with its status and message.
import { describe, expect, it } from 'vitest';
import { type ApiAnswer, withRetries } from '../../cli/apiCall.js';

const answer = (status: number, body: unknown = {}): ApiAnswer => ({
  status,
  text: JSON.stringify(body),
  body,
});

/** A call that gives the scripted answers (or throws the scripted errors) in turn, counting calls. */
function scripted(...steps: (ApiAnswer | Error)[]) {
  const calls = { count: 0 };
  const call = async () => {
    const step = steps[Math.min(calls.count++, steps.length - 1)];
    if (step instanceof Error) throw step;
    return step as ApiAnswer;
  };
  return { call, calls };
}

describe('withRetries', () => {
  it('asks again after a 5xx, a 429 and a dropped connection, and returns the answer that settles it', async () => {
    const { call, calls } = scripted(answer(504), answer(429), new TypeError('fetch failed'), answer(202));
    expect(await withRetries(call, { baseDelayMs: 1 })).toEqual(answer(202));
    expect(calls.count).toBe(4);
  });

  it('returns a 4xx at once: asking again would not change it', async () => {
    const { call, calls } = scripted(answer(409, { message: 'reused' }), answer(202));
    expect((await withRetries(call, { baseDelayMs: 1 })).status).toBe(409);
    expect(calls.count).toBe(1);
  });

  it('throws the status and the message after the last attempt, or the last network error', async () => {
    const busy = scripted(answer(503, { message: 'the stack is busy' }));
    await expect(withRetries(busy.call, { attempts: 3, baseDelayMs: 1 })).rejects.toThrow(
      'the API answered 503: the stack is busy',
    );
    expect(busy.calls.count).toBe(3);
    const down = scripted(new TypeError('fetch failed'));
    await expect(withRetries(down.call, { attempts: 2, baseDelayMs: 1 })).rejects.toThrow('fetch failed');
  });

  it('retries what the caller says is retryable', async () => {
    const { call, calls } = scripted(answer(200, {}), answer(200, { report: true }));
    const got = await withRetries(call, {
      baseDelayMs: 1,
      retryable: (a) => !(a.body as { report?: boolean }).report,
    });
    expect(got.body).toEqual({ report: true });
    expect(calls.count).toBe(2);
  });
});
