// The campaign part of `npm run dev`: the demo campaigns of campaigns/ saved and enabled through the admin
// API, then 17 of the first 80 customers of the replayed Online Retail data come back today, in two time
// zones an hour apart: some leave a cart, some have their birthday, one can only be reached by SMS, one has
// unsubscribed, and a few left a cart yesterday that a till only now synced. The engine's clock is then
// moved on as its schedules would move it — the minute's timer sweep an hour after the carts, the hourly
// date job at 09:00 in each zone — by invoking those functions with `{ now }`. Some customers order
// afterwards. What arrives is returned and printed: each customer's decisions at their local time, the
// e-mails in the SES emulator, the SMS in the outbox, the abandoned-cart report with the uplift over the
// held-out customers and its interval, and a back-test of the campaign over yesterday's archive.
// test/e2e/campaignDemo.test.ts runs this on a stack of its own and checks each of those.
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntilDrained } from '../lib/adapters/sqs/drained.js';
import { createSqs } from '../lib/aws/clients.js';
import { measuredGroup } from '../lib/campaigns/assignment.js';
import {
  castDemo,
  type DemoCustomer,
  type DemoZones,
  demoZones,
  loadDemoCampaigns,
} from '../lib/campaigns/demo.js';
import { addDays, instantAt, localDate, localMinutes } from '../lib/campaigns/localTime.js';
import type { LocalStack } from '../local/stack.js';

/**
 * Online Retail customers (the data set's first 80, their orders are in the replayed data) who may come
 * back in the demo; castDemo picks the parts among them (with the default salt, 4 of the 79 after the
 * first are in the abandoned-cart campaign's control group or holdout).
 */
export const DEMO_POOL: readonly string[] = [
  '17850 13047 12583 13748 15100 15291 14688 17809 15311 14527 16098 18074',
  '17420 16029 16250 12431 17511 17548 13705 13747 13408 13767 17924 13448',
  '15862 15513 12791 16218 14045 14307 17908 17920 12838 13255 16583 18085',
  '13758 13694 15983 14849 17968 16210 17897 17377 16552 17181 17951 14729',
  '12748 15012 12868 17572 14078 14001 12662 15525 14237 17905 15485 12433',
  '16955 15350 15605 18144 15922 14594 15165 14911 16456 17841 12472 17346',
  '17643 17873 13093 12921 13468 17760 16928 16048',
]
  .join(' ')
  .split(' ');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const CART_CAMPAIGN = 'abandoned-cart';

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

/** Sends events as a client would (POST /v1/batch, the write key); anything but 200 stops the demo. */
async function sendBatch(stack: Stack, what: string, batch: readonly unknown[]): Promise<void> {
  const res = await fetch(`${stack.httpUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${stack.writeKey}:`).toString('base64')}` },
    body: JSON.stringify({ batch }),
  });
  if (res.status !== 200) throw new Error(`${what}: ${res.status} ${await res.text()}`);
}

/**
 * Until every event sent is archived, applied to profiles and through the campaign engine, and every
 * segment change of the demo's segmentation run is through it too.
 */
async function settled(stack: Stack): Promise<void> {
  const q = stack.config.queues;
  await waitUntilDrained(
    createSqs(stack.config),
    [q.ingest, q.profiles, q.segmentChanges, q.campaignActivity],
    {
      timeoutMs: 600_000,
    },
  );
  // A batch taken off a queue is still being applied when the queue shows empty.
  await sleep(2_000);
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

/** The demo's made-up addresses: a reserved domain, and UK numbers reserved for drama (07700 900xxx). */
export const demoEmail = (userId: string) => `customer-${userId}@demo.precis.local`;
export const demoPhone = (userId: string) => `+447700900${userId.slice(-3)}`;

export interface DemoPart extends DemoCustomer {
  /** The IANA zone their events carry. */
  readonly timezone: string;
  readonly email?: string;
  readonly phone: string;
}

export interface Decision {
  campaignId: string;
  at: string;
  outcome: string;
  reason: string;
  channel?: string;
  sendId?: string;
}

export interface CampaignDemoResult {
  readonly zones: DemoZones;
  readonly customers: readonly DemoPart[];
  /** The clock the demo moved the engine through (ISO): the cart sweep and 09:00 in each zone. */
  readonly clock: { readonly cartsSwept: string; readonly birthdays: Record<'east' | 'west', string> };
  /** GET /v1/customers/{id}/decisions of each customer, by user id. */
  readonly decisions: Readonly<Record<string, Decision[]>>;
  /** GET /v1/campaigns/abandoned-cart/report (baseline: holdout and control pooled). */
  readonly report: {
    byGroup: Record<string, { members: number; converted: number; revenue: number }>;
    uplift: {
      baseline: string;
      rates: { treated: number | null; control: number | null };
      absolute: { estimate: number; ci95: { lower: number; upper: number } } | null;
      pValue: number | null;
      verdict: string;
    };
  };
  /** POST /v1/campaigns/abandoned-cart/backtest over yesterday (UTC). */
  readonly backtest: {
    from: string;
    to: string;
    events: number;
    candidates: number;
    wouldSend: number;
    control: number;
    holdout: number;
    skipped: Record<string, number>;
    truncated: boolean;
  };
}

/** Reads each pool customer's id (the profile's, which the control and holdout hashes use). */
async function customerIds(stack: Stack): Promise<{ userId: string; customerId: string }[]> {
  const found: { userId: string; customerId: string }[] = [];
  for (const userId of DEMO_POOL) {
    const res = await api<{ customerId?: string }>(stack, `/v1/customers/${userId}`, { key: stack.readKey });
    if (res.status !== 200 || !res.body.customerId)
      throw new Error(`customer ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
    found.push({ userId, customerId: res.body.customerId });
  }
  return found;
}

/** The events of each part: who they are and what they consent to, and yesterday's late-synced visit. */
function arrivals(parts: readonly DemoPart[], zones: DemoZones, yesterday: number) {
  return parts.flatMap((p, i) => {
    const identify = {
      type: 'identify',
      userId: p.userId,
      messageId: `demo-identify-${p.userId}-${zones.day}`,
      traits: {
        ...(p.email ? { email: p.email } : {}),
        phone: p.phone,
        firstName: `Customer ${p.userId}`,
        ...(p.birthday ? { birthday: `1985-${zones.day.slice(5)}` } : {}),
        consent: { marketing: { ...(p.email ? { email: true } : {}), sms: true } },
      },
      context: { timezone: p.timezone },
    };
    if (p.yesterday === undefined) return [identify];
    const at = yesterday + i * 10 * MINUTE;
    const cart = cartAdd(p, `demo-yesterday-${p.userId}-${zones.day}`, at);
    const order =
      p.yesterday === 'cart_then_order'
        ? [orderOf(p, `demo-yesterday-order-${p.userId}`, at + 20 * MINUTE)]
        : [];
    return [identify, cart, ...order];
  });
}

function cartAdd(p: DemoPart, cartId: string, at?: number) {
  return {
    type: 'track',
    userId: p.userId,
    messageId: `${cartId}-add`,
    event: 'Product Added',
    properties: {
      cart_id: cartId,
      product_id: '85123A',
      name: 'White hanging heart T-light holder',
      price: 2.55,
      quantity: 6,
      currency: 'GBP',
    },
    ...(at === undefined ? {} : { timestamp: new Date(at).toISOString() }),
    context: { timezone: p.timezone },
  };
}

function orderOf(p: DemoPart, orderId: string, at: number) {
  return {
    type: 'track',
    userId: p.userId,
    messageId: orderId,
    event: 'Order Completed',
    properties: { order_id: orderId, revenue: 15.3, currency: 'GBP' },
    timestamp: new Date(at).toISOString(),
    context: { timezone: p.timezone },
  };
}

export async function campaignDemo(
  stack: Stack,
  options: { print?: boolean } = {},
): Promise<CampaignDemoResult> {
  const say = options.print === false ? () => {} : (line: string) => console.log(line);
  // The segmentation run's changes go through before the campaigns are on: the win-back is for later entries.
  await settled(stack);
  const ids = await enableDemoCampaigns(stack);
  say(`[precis] campaigns enabled: ${ids.join(', ')}`);
  const zones = demoZones(Date.now());

  // Who comes back: each pool customer's profile (created by the replay, or now), then the cast.
  await sendBatch(
    stack,
    'the returning customers',
    DEMO_POOL.map((userId) => ({
      type: 'identify',
      userId,
      messageId: `demo-return-${userId}-${zones.day}`,
      traits: { firstName: `Customer ${userId}` },
    })),
  );
  await settled(stack);
  const cartCampaign = (await loadDemoCampaigns()).find((c) => c.id === CART_CAMPAIGN);
  if (!cartCampaign) throw new Error(`the demo campaign ${CART_CAMPAIGN} is missing`);
  const measured = {
    salt: stack.config.sendDecision.controlSalt,
    controlPercent: stack.config.sendDecision.controlPercent,
  };
  const cast = castDemo(
    await customerIds(stack),
    (id) => measuredGroup(cartCampaign, id, measured) !== undefined,
  );
  const parts: DemoPart[] = cast.map((c) => ({
    ...c,
    timezone: zones[c.zone],
    ...(c.smsOnly ? {} : { email: demoEmail(c.userId) }),
    phone: demoPhone(c.userId),
  }));

  // Who they are, their consent, and yesterday's visits (older than any campaign allows: never a send).
  const yesterday = Date.parse(`${addDays(localDate(Date.now(), 'UTC'), -1)}T10:00:00Z`);
  await sendBatch(stack, "the customers' details", arrivals(parts, zones, yesterday));
  await settled(stack);
  for (const p of parts.filter((x) => x.optedOut)) {
    const res = await api(stack, `/v1/customers/${p.userId}/consent`, {
      key: stack.writeKey,
      method: 'PUT',
      body: { channel: 'all', status: 'revoked', source: 'preference-center' },
    });
    if (res.status !== 200)
      throw new Error(`unsubscribing ${p.userId}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const carts = parts.filter((p) => p.cart);
  const cartsAt = Date.now();
  await sendBatch(
    stack,
    "today's carts",
    carts.map((p) => cartAdd(p, `demo-cart-${p.userId}-${zones.day}`)),
  );
  await settled(stack);
  say(
    `[precis] ${parts.length} customers came back in ${zones.east} and ${zones.west}: ${carts.length} left a cart, ` +
      `${parts.filter((p) => p.birthday).length} have their birthday today, one unsubscribed`,
  );

  // The engine's clock, moved as its schedules would: the sweep an hour after the carts (their waits end),
  // at 08:00 in the east if that is still to come (its quiet hours end: carts held by them go), and at
  // 09:00 in each zone the hourly date job and the sweep (the birthdays). See demoZones.
  const clock = {
    cartsSwept: cartsAt + 61 * MINUTE,
    eastOpens: instantAt(zones.day, 8 * 60, zones.east),
    east: instantAt(zones.day, 9 * 60, zones.east),
    west: instantAt(zones.day, 9 * 60, zones.west),
  };
  const moments = [clock.cartsSwept, clock.east, clock.west];
  if (clock.eastOpens > cartsAt) moments.push(clock.eastOpens);
  for (const at of moments.sort((a, b) => a - b)) {
    if (at % HOUR === 0) await invoke(stack, 'campaignDates', at);
    await invoke(stack, 'campaignTimers', at);
  }

  // Some come back and order, after the messages (the clock above is ahead of the wall clock's).
  const last = Math.max(clock.cartsSwept, clock.west);
  await sendBatch(
    stack,
    'the orders',
    parts
      .filter((p) => p.ordersAfter)
      .map((p) => orderOf(p, `demo-order-${p.userId}-${zones.day}`, last + 30 * MINUTE)),
  );
  await settled(stack);

  const decisions: Record<string, Decision[]> = {};
  for (const p of parts) {
    const res = await api<{ items?: Decision[] }>(stack, `/v1/customers/${p.userId}/decisions?limit=50`, {
      key: stack.readKey,
    });
    decisions[p.userId] = res.body.items ?? [];
  }
  const report = await api<CampaignDemoResult['report']>(stack, `/v1/campaigns/${CART_CAMPAIGN}/report`, {
    key: stack.readKey,
  });
  if (report.status !== 200) throw new Error(`the report: ${report.status} ${JSON.stringify(report.body)}`);
  const day = localDate(yesterday, 'UTC');
  const backtest = await api<CampaignDemoResult['backtest']>(
    stack,
    `/v1/campaigns/${CART_CAMPAIGN}/backtest`,
    {
      key: stack.adminKey,
      body: { from: day, to: day },
    },
  );
  if (backtest.status !== 200)
    throw new Error(`the back-test: ${backtest.status} ${JSON.stringify(backtest.body)}`);
  const result: CampaignDemoResult = {
    zones,
    customers: parts,
    clock: {
      cartsSwept: new Date(clock.cartsSwept).toISOString(),
      birthdays: { east: new Date(clock.east).toISOString(), west: new Date(clock.west).toISOString() },
    },
    decisions,
    report: report.body,
    backtest: backtest.body,
  };
  if (options.print !== false) await printDemo(stack, result);
  return result;
}

/** HH:MM at `iso` in `zone`. */
const localClock = (iso: string, zone: string) => {
  const minutes = localMinutes(Date.parse(iso), zone);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
};

const percent = (x: number | null | undefined) => (x == null ? 'n/a' : `${(x * 100).toFixed(1)} %`);

/** What the SES emulator's store and the outbox hold of a message, as the demo (and its test) read them. */
export interface StoredEmail {
  destination: { to: string[] };
  subject: string;
  body: { text?: string };
}
export interface OutboxItem {
  customerId: string;
  campaignId: string;
  channel: string;
  content: { text?: string };
}

async function printDemo(stack: Stack, r: CampaignDemoResult): Promise<void> {
  const ses = stack.config.endpoints.ses;
  const emails = ses
    ? ((await (await fetch(`${ses}/store`)).json()) as { emails: StoredEmail[] }).emails
    : [];
  const outbox = await api<{ items?: OutboxItem[] }>(stack, '/v1/outbox?limit=200', { key: stack.adminKey });
  console.log("\nWhat the campaigns did, at each customer's local time (GET /v1/customers/{id}/decisions):");
  for (const p of r.customers) printCustomer(p, r.decisions[p.userId] ?? [], emails, outbox.body.items ?? []);
  if (ses) console.log(`  E-mails: ${ses}/store (the SES emulator; its web view at ${ses})`);
  console.log(`  SMS, push, webhooks: GET ${stack.httpUrl}/v1/outbox (admin key)`);
  printMeasures(r);
}

/** One customer: what they did, the decisions at their local time, and the messages that reached them. */
function printCustomer(
  p: DemoPart,
  decisions: readonly Decision[],
  emails: StoredEmail[],
  outbox: OutboxItem[],
) {
  const tags = [
    p.optedOut && 'unsubscribed',
    p.smsOnly && 'SMS only',
    p.cart && 'cart',
    p.birthday && 'birthday',
    p.cartHeldOut && 'held out of abandoned-cart',
    p.ordersAfter && 'orders after',
  ].filter(Boolean);
  console.log(`  customer ${p.userId} (${p.timezone}; ${tags.join(', ')})`);
  for (const d of [...decisions].reverse()) {
    const channel = d.channel ? `, ${d.channel}` : '';
    console.log(`    ${localClock(d.at, p.timezone)} ${d.campaignId}: ${d.outcome} (${d.reason}${channel})`);
  }
  for (const mail of emails.filter((m) => p.email !== undefined && m.destination.to.includes(p.email))) {
    const coupon = mail.body.text?.match(/\b[A-Z]{2,8}-[0-9A-Z]{4}-[0-9A-Z]{4}\b/)?.[0];
    console.log(`    e-mail "${mail.subject}"${coupon ? ` with coupon ${coupon}` : ''}`);
  }
  for (const m of outbox.filter((o) => o.customerId === p.customerId))
    console.log(`    ${m.channel} (outbox) ${m.campaignId}: "${(m.content.text ?? '').slice(0, 90)}"`);
}

/** The abandoned-cart report's groups and uplift with its interval, and the back-test's counts. */
function printMeasures({ report, backtest: b }: CampaignDemoResult) {
  const { byGroup, uplift } = report;
  const group = (g: string) => {
    const f = byGroup[g];
    return f ? `${f.converted}/${f.members}` : '0/0';
  };
  const interval = uplift.absolute
    ? `${percent(uplift.absolute.estimate)} (95 % interval ${percent(uplift.absolute.ci95.lower)} to ${percent(uplift.absolute.ci95.upper)})`
    : 'n/a';
  console.log(
    `\nAbandoned-cart report: treated ${group('treated')} ordered, held out: control ${group('control')}, ` +
      `holdout ${group('holdout')}; uplift ${interval}: ${uplift.verdict}`,
  );
  console.log(
    `Back-test of abandoned-cart over ${b.from} (the archive, ${b.events} events): ${b.candidates} candidates, ` +
      `${b.wouldSend} would have been sent, ${b.control + b.holdout} held out, skipped ${JSON.stringify(b.skipped)}` +
      `${b.truncated ? ' (stopped early)' : ''}`,
  );
}
