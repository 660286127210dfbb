// Signed webhooks for POS and CRM tools: a JSON POST with `Precis-Signature` (signature.ts),
// `Idempotency-Key: <sendId>` (the receiver deduplicates our retries and the queue's redeliveries), and a
// few retries with exponential backoff and full jitter for what may pass: 408, 429, 5xx, a network error
// or an attempt's timeout. Other 4xx are the receiver refusing the message: rejected, never retried.
// After the last attempt a transient failure is thrown, so the queue redelivers later (bounded by its DLQ).
import type { ChannelSender, SendResult, WebhookMessage } from '../../campaigns/channels.js';
import { SIGNATURE_HEADER, signWebhook } from './signature.js';

/** A configured webhook: the URL messages go to and the secret that signs them. */
export interface WebhookEndpoint {
  readonly url: string;
  readonly secret: string;
}

export interface WebhookOptions {
  readonly endpoints: readonly WebhookEndpoint[];
  /** Epoch milliseconds: the signature's timestamp. */
  readonly now: () => number;
  /** Attempts per send (default 3): their timeouts and backoff must fit the calling function's timeout. */
  readonly attempts?: number;
  readonly attemptTimeoutMs?: number;
  /** Backoff before attempt n (n ≥ 1): random in [0, base × 2^(n-1)), full jitter. */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

/** A delivery that may succeed later: the queue should redeliver the message. */
export class WebhookUnavailableError extends Error {
  override readonly name = 'WebhookUnavailableError';
}

const RETRIED_STATUSES = new Set([408, 429]);
const isRetriedStatus = (status: number) => status >= 500 || RETRIED_STATUSES.has(status);
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A receiver's answer as a result, or 'retry' for one that may pass. */
async function outcomeOf(response: Response, sendId: string): Promise<SendResult | { status: 'retry' }> {
  // The socket is freed either way; a receiver's explanation is worth a few hundred characters.
  const text = (await response.text().catch(() => '')).slice(0, 300);
  if (response.status >= 200 && response.status < 300)
    return { status: 'sent', providerId: `webhook:${sendId}` };
  if (isRetriedStatus(response.status)) return { status: 'retry' };
  return { status: 'rejected', reason: `http_${response.status}`, permanent: true, detail: text };
}

export function webhookSender(options: WebhookOptions): ChannelSender<WebhookMessage> {
  const {
    attempts = 3,
    attemptTimeoutMs = 5_000,
    baseDelayMs = 250,
    sleep = wait,
    random = Math.random,
    fetch: post = fetch,
  } = options;

  async function attempt(endpoint: WebhookEndpoint, message: WebhookMessage, body: string) {
    return post(endpoint.url, {
      method: 'POST',
      body,
      // A redirect would re-POST to a URL nobody configured: refused, not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(attemptTimeoutMs),
      headers: {
        'Content-Type': 'application/json',
        'Idempotency-Key': message.sendId,
        // Signed per attempt: a retry carries a fresh timestamp within the receiver's tolerance.
        [SIGNATURE_HEADER]: signWebhook(endpoint.secret, Math.floor(options.now() / 1000), body),
        'User-Agent': 'Precis-Webhooks/1',
      },
    });
  }

  return {
    async send(message): Promise<SendResult> {
      const endpoint = options.endpoints.find((e) => e.url === message.url);
      if (!endpoint) {
        return { status: 'rejected', reason: 'unknown_webhook', permanent: false, detail: message.url };
      }
      const body = JSON.stringify(message.body);
      let lastFailure = '';
      for (let n = 0; n < attempts; n++) {
        if (n > 0) await sleep(Math.floor(random() * baseDelayMs * 2 ** (n - 1)));
        let response: Response;
        try {
          response = await attempt(endpoint, message, body);
        } catch (error) {
          lastFailure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          continue;
        }
        const outcome = await outcomeOf(response, message.sendId);
        if (outcome.status !== 'retry') return outcome;
        lastFailure = `HTTP ${response.status}`;
      }
      throw new WebhookUnavailableError(
        `webhook ${new URL(endpoint.url).host} failed ${attempts} attempts (last: ${lastFailure})`,
      );
    },
  };
}
