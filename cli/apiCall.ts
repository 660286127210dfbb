// The CLIs' calls to the HTTP API: one request, read whole; and the retry of what a retry can fix — a 429,
// a 5xx (a function that timed out on a busy machine), a dropped connection — with doubling waits, as the
// SDKs do. Only safe to retry requests that are idempotent: imports (dedup), or a POST with an
// Idempotency-Key.
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonOrUndefined } from '../lib/json.js';

export interface ApiAnswer {
  readonly status: number;
  readonly text: string;
  /** The parsed JSON body; undefined when the body is not JSON. */
  readonly body: unknown;
}

export async function apiRequest(url: string, init: RequestInit): Promise<ApiAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, text, body: jsonOrUndefined(text) };
}

export interface RetryOptions {
  readonly attempts?: number;
  /** The first wait, doubled at each attempt. */
  readonly baseDelayMs?: number;
  /** Whether an answer may change by asking again (default: 429 and 5xx). */
  readonly retryable?: (answer: ApiAnswer) => boolean;
}

const retryableStatus = (answer: ApiAnswer): boolean => answer.status === 429 || answer.status >= 500;

/**
 * Calls until an answer a retry cannot change, which it returns (a 2xx, or a 4xx the caller reads); after
 * the last attempt throws what it saw: the status and the API's message, or the network error.
 */
export async function withRetries(
  call: () => Promise<ApiAnswer>,
  options: RetryOptions = {},
): Promise<ApiAnswer> {
  const attempts = options.attempts ?? 5;
  const retryable = options.retryable ?? retryableStatus;
  for (let attempt = 1; ; attempt++) {
    const answer = await call().catch((error: unknown) => {
      if (attempt >= attempts) throw error;
      return undefined;
    });
    if (answer !== undefined && !retryable(answer)) return answer;
    if (answer !== undefined && attempt >= attempts) {
      throw new Error(`the API answered ${answer.status}: ${messageOf(answer)}`);
    }
    await sleep((options.baseDelayMs ?? 1_000) * 2 ** (attempt - 1));
  }
}

/** The API's error message (or a Lambda's `errorMessage`), else the start of the body. */
export function messageOf(answer: ApiAnswer): string {
  const body = answer.body as { message?: unknown; errorMessage?: unknown } | undefined;
  const message = body?.message ?? body?.errorMessage;
  return typeof message === 'string' ? message : answer.text.slice(0, 300);
}
