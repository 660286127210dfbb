// The campaign part of `npm run dev`: the demo
// campaigns of campaigns/ saved and enabled through the admin API, then a few customers of the replayed
// Online Retail data come back today — they consent to e-mail, it is their birthday, and they leave a cart
// — and the engine's clock is moved on as its schedules would (the hourly date job, the minute's timer
// sweep an hour later) by invoking those functions with `{ now }`. What arrives is printed: each customer's
// decisions with their reasons, the e-mails in the SES emulator, the outbox, and the abandoned-cart report.
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntilDrained } from '../lib/adapters/sqs/drained.js';
import { createSqs } from '../lib/aws/clients.js';
import { loadDemoCampaigns, noonZoneAt } from '../lib/campaigns/demo.js';
import { instantAt, localDate } from '../lib/campaigns/localTime.js';
import type { LocalStack } from '../local/stack.js';

/** Online Retail customers (their orders are in the replayed data) who come back in the demo. */
export const DEMO_CUSTOMERS = ['17850', '13047', '12583', '14688', '15311'] as const;
const MINUTE = 60_000;

type Stack = Pick<LocalStack, 'httpUrl' | 'lambdaUrl' | 'writeKey' | 'adminKey' | 'readKey' | 'config'>;

async function api<T>(stack: Stack, path: string, init: { key: string; method?: string; body?: unknown }) {
  const res = await fetch(`${stack.httpUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { authorization: `Bearer ${init.key}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

/** Invokes a function of the stack as its schedule would, at `now`. */
async function invoke(stack: Stack, fn: string, now: number): Promise<unknown> {
  const res = await fetch(`${stack.lambdaUrl}/2015-03-31/functions/precis-local-${fn}/invocations`, {
    method: 'POST',
    body: JSON.stringify({ now: new Date(now).toISOString() }),
  });
  const body = await res.json();
  if (res.headers.get('x-amz-function-error')) throw new Error(`${fn} failed: ${JSON.stringify(body)}`);
  return body;
}

/** Saves every demo campaign enabled, as shipped otherwise (PUT saves a new version or creates it). */
async function enableDemoCampaigns(stack: Stack): Promise<string[]> {
  const ids: string[] = [];
  for (const campaign of await loadDemoCampaigns()) {
    const saved = await api(stack, `/v1/campaigns/${campaign.id}`, {
      key: stack.adminKey,
      method: 'PUT',
      body: { ...campaign, enabled: true },
    });
    if (saved.status !== 200 && saved.status !== 201)
      throw new Error(`campaign ${campaign.id}: ${saved.status} ${JSON.stringify(saved.body)}`);
    ids.push(campaign.id);
  }
  return ids;
}

interface Decision {
  campaignId: string;
  outcome: string;
  reason: string;
  channel?: string;
}
interface StoredEmail {
  destination: { to: string[] };
  subject: string;
  body: { text?: string };
}

export async function campaignDemo(stack: Stack): Promise<void> {
  const ids = await enableDemoCampaigns(stack);
  console.log(`[precis] campaigns enabled: ${ids.join(', ')}`);
  const now = Date.now();
  // Noon where they live an hour from now: no quiet hours in the way of what the demo shows.
  const zone = noonZoneAt(now + 61 * MINUTE);
  const today = localDate(now, zone);
  const email = (id: string) => `customer-${id}@demo.precis.local`;
  const batch = DEMO_CUSTOMERS.flatMap((id) => [
    {
      type: 'identify',
      userId: id,
      messageId: `demo-identify-${id}-${today}`,
      traits: {
        email: email(id),
        firstName: `Customer ${id}`,
        birthday: `1985-${today.slice(5)}`,
        consent: { marketing: { email: true } },
      },
      context: { timezone: zone },
    },
    {
      type: 'track',
      userId: id,
      messageId: `demo-cart-${id}-${today}`,
      event: 'Product Added',
      properties: {
        cart_id: `demo-cart-${id}`,
        product_id: '85123A',
        price: 2.55,
        quantity: 6,
        currency: 'GBP',
      },
      context: { timezone: zone },
    },
  ]);
  const res = await fetch(`${stack.httpUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${stack.writeKey}:`).toString('base64')}` },
    body: JSON.stringify({ batch }),
  });
  if (res.status !== 200) throw new Error(`the demo customers' events: ${res.status} ${await res.text()}`);
  console.log(
    `[precis] ${DEMO_CUSTOMERS.length} customers came back (zone ${zone}): consent to e-mail, a birthday today, a cart left`,
  );
  // Archived, applied to profiles, and through the campaign engine (consent recorded, carts' waits open).
  const q = stack.config.queues;
  await waitUntilDrained(createSqs(stack.config), [q.ingest, q.profiles, q.campaignActivity], {
    timeoutMs: 600_000,
  });
  await sleep(2_000);

  // The hourly date job at 09:00 their time, then the minute's sweep now: the birthday messages.
  await invoke(stack, 'campaignDates', instantAt(today, 9 * 60, zone));
  await invoke(stack, 'campaignTimers', now);
  // An hour later: the carts' waits end, and nobody ordered.
  await invoke(stack, 'campaignTimers', now + 61 * MINUTE);
  await report(stack, email);
}

async function report(stack: Stack, email: (id: string) => string): Promise<void> {
  const ses = stack.config.endpoints.ses;
  const stored = ses
    ? ((await (await fetch(`${ses}/store`)).json()) as { emails: StoredEmail[] }).emails
    : [];
  console.log('\nWhat the campaigns did (GET /v1/customers/{id}/decisions):');
  for (const id of DEMO_CUSTOMERS) {
    const decisions = await api<{ items: Decision[] }>(stack, `/v1/customers/${id}/decisions?limit=20`, {
      key: stack.readKey,
    });
    const lines = (decisions.body.items ?? []).map(
      (d) => `${d.campaignId}: ${d.outcome} (${d.reason}${d.channel ? `, ${d.channel}` : ''})`,
    );
    console.log(`  customer ${id}: ${lines.join('; ') || 'no decision'}`);
    for (const mail of stored.filter((m) => m.destination.to.includes(email(id)))) {
      const coupon = mail.body.text?.match(/\b[A-Z]{2,8}-[0-9A-Z]{4}-[0-9A-Z]{4}\b/)?.[0];
      console.log(`    e-mail "${mail.subject}"${coupon ? ` with coupon ${coupon}` : ''}`);
    }
  }
  if (ses) console.log(`  E-mails: ${ses}/store (the SES emulator; its web view at ${ses})`);
  const cart = await api<{ totals?: Record<string, unknown> }>(stack, '/v1/campaigns/abandoned-cart/report', {
    key: stack.readKey,
  });
  console.log(`  Abandoned-cart report: ${JSON.stringify(cart.body.totals ?? cart.body).slice(0, 400)}`);
  console.log(`  Outbox (SMS, push, webhooks): GET ${stack.httpUrl}/v1/outbox (admin key)`);
}
