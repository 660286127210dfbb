// npm run bench:campaigns [-- --inputs N] [--seconds S] [--seed N] [--samples N] [--concurrency C]
// Campaigns, one section per measure:
//   1. send decisions per second, in-process on one core (goal: 50,000/s): the demo campaigns over a
//      seeded population of varied candidates (zones with and without DST, consent mostly granted, some
//      revoked or unknown, unsubscribes, suppressions, addresses, activity histograms, engagement, sends
//      over the last week), decided over and over for --seconds; first pass (cold zone caches) and
//      steady state, the outcome mix, peak RSS.
//   2. trigger-to-dispatch latency on the local stack (goal: p95 <= 5 s): the whole stack started on its
//      emulators, a campaign with an immediate event trigger saved through the admin API, then --samples
//      new customers (--concurrency at a time), each identified with e-mail consent and, once that
//      consent is recorded, sending the trigger event: from the HTTP 200 of that event to its e-mail in
//      the SES emulator, through ingest, archive, profiles, the campaign-activity queue, the send
//      decision and SES. --samples 0 skips it.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pMap from 'p-map';
import { inGlobalControl } from '../lib/campaigns/assignment.js';
import type { ConsentRecord } from '../lib/campaigns/consent.js';
import { type DecisionInput, type DecisionSettings, decide } from '../lib/campaigns/decision.js';
import { loadDemoCampaigns, noonZoneAt } from '../lib/campaigns/demo.js';
import { addDays, localDate, zoneOr } from '../lib/campaigns/localTime.js';
import type { DayCount } from '../lib/campaigns/messaging.js';
import { type CampaignDefinition, CHANNELS, type Channel } from '../lib/campaigns/model.js';
import { seededRandom } from '../lib/clustering/random.js';
import { DEFAULT_CAPS } from '../lib/config.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { machine, mb, peakRss, percentile } from './common.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '42' },
    samples: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '4' },
  },
});
const INPUTS = Math.max(1, Number(values.inputs) || 20_000);
const SECONDS = Math.max(1, Number(values.seconds) || 5);
const line = (label: string, value: string) => console.log(`${label.padEnd(34)}${value}`);

// ---------------------------------------------------------------------------------------------------
// 1. Send decisions per second.

/** Where customers live, by weight: the demo retailer's markets. */
const ZONES: [string | undefined, number][] = [
  ['Asia/Shanghai', 40],
  ['America/New_York', 15],
  ['Europe/London', 10],
  ['Europe/Berlin', 8],
  ['America/Los_Angeles', 8],
  ['Australia/Sydney', 5],
  ['Australia/Lord_Howe', 1],
  ['Asia/Kolkata', 5],
  [undefined, 7],
  ['Not/AZone', 1],
];

const settings: DecisionSettings = {
  caps: DEFAULT_CAPS,
  quietHours: { start: '21:00', end: '08:00' },
  controlPercent: 5,
  salt: 'bench-salt',
  defaultZone: 'Asia/Shanghai',
  unknownConsentGranted: [],
  webhookConfigured: true,
};

/** A seeded source of the population's random choices. */
function chooser(seed: number) {
  const random = seededRandom(seed);
  return {
    random,
    chance: (p: number) => random() < p,
    int: (max: number) => Math.floor(random() * (max + 1)),
    pick<T>(weighted: [T, number][]): T {
      const total = weighted.reduce((s, [, w]) => s + w, 0);
      let r = random() * total;
      for (const [v, w] of weighted) {
        r -= w;
        if (r < 0) return v;
      }
      return weighted[weighted.length - 1]?.[0] as T;
    },
  };
}
type Chooser = ReturnType<typeof chooser>;

const record = (status: 'granted' | 'revoked'): ConsentRecord => ({
  status,
  source: 'web-form',
  at: '2026-01-01T00:00:00.000Z',
});

/** Consent per channel: 75 % granted, 10 % revoked, 15 % never asked. */
function consentOf(c: Chooser): Partial<Record<Channel, ConsentRecord>> {
  const consent: Partial<Record<Channel, ConsentRecord>> = {};
  for (const ch of CHANNELS) {
    const p = c.random();
    if (p < 0.75) consent[ch] = record('granted');
    else if (p < 0.85) consent[ch] = record('revoked');
  }
  return consent;
}

/** A send on about one local day in five of the last week. */
function sendsOf(c: Chooser, today: string): DecisionInput['messaging']['caps'] {
  const caps: Record<string, DayCount> = {};
  for (let back = 0; back < 7; back++) {
    if (!c.chance(0.2)) continue;
    const ch = CHANNELS[c.int(2)] as Channel;
    caps[addDays(today, -back)] = { overall: 1, channels: { [ch]: 1 } };
  }
  return caps;
}

function customerOf(c: Chooser, timezone: string | undefined): DecisionInput['customer'] {
  return {
    timezone,
    reachable: { email: c.chance(0.9), sms: c.chance(0.6), push: c.chance(0.4) },
    // 70 % with a history, busiest in the daytime.
    activeHours: c.chance(0.7)
      ? Array.from({ length: 24 }, (_, h) => (h >= 8 && h <= 22 ? c.int(6) : c.int(1)))
      : undefined,
    engagement: c.chance(0.5)
      ? {
          email: { sent: c.int(30), opened: c.int(12), clicked: c.int(4) },
          sms: { sent: c.int(10), opened: 0, clicked: c.int(2) },
        }
      : undefined,
  };
}

function population(campaigns: readonly CampaignDefinition[], n: number, seed: number): DecisionInput[] {
  const c = chooser(seed);
  const start = Date.parse('2026-03-01T00:00:00Z');
  const inputs: DecisionInput[] = [];
  for (let i = 0; i < n; i++) {
    const campaign = campaigns[i % campaigns.length] as CampaignDefinition;
    const now = start + Math.floor(c.random() * 60 * 86_400_000);
    const timezone = c.pick(ZONES);
    const today = localDate(now, zoneOr(timezone, settings.defaultZone));
    const suppressed = {
      channel: 'email',
      addressHash: `h${i}`,
      reason: 'hard_bounce',
      at: '2026-02-01T00:00:00.000Z',
    } as const;
    const entered = { triggerKey: 'k0', at: new Date(now - c.int(30) * 86_400_000).toISOString() };
    inputs.push({
      campaign,
      candidate: {
        customerId: `cus_${i.toString(36)}`,
        triggerKey: `k${i}`,
        // 2 % replays of events days old.
        eventAt: now - c.int(c.chance(0.02) ? 3_000 : 90) * 60_000,
        now,
      },
      customer: customerOf(c, timezone),
      messaging: {
        consent: { [campaign.purpose]: consentOf(c) },
        unsubscribe: c.chance(0.03) ? record('revoked') : undefined,
        suppressed: c.chance(0.02) ? { email: suppressed } : {},
        caps: sendsOf(c, today),
        entries: c.chance(0.1) ? { [campaign.id]: entered } : {},
      },
      settings,
    });
  }
  return inputs;
}

async function decisionsPerSecond() {
  console.log('\n## 1. Send decisions per second (in-process, one core)\n');
  const campaigns = await loadDemoCampaigns();
  const inputs = population(campaigns, INPUTS, Number(values.seed));
  line('campaigns', `${campaigns.length} (demo files: ${campaigns.map((c) => c.id).join(', ')})`);
  line('distinct inputs', INPUTS.toLocaleString('en-US'));

  const outcomes = new Map<string, number>();
  let t = performance.now();
  for (const x of inputs) {
    const d = decide(x);
    const key = `${d.outcome}/${d.reason}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  const firstMs = performance.now() - t;
  line(
    'first pass (cold zone caches)',
    `${Math.round((INPUTS / firstMs) * 1000).toLocaleString('en-US')} decisions/s`,
  );

  // Steady state: round after round over the same inputs for SECONDS.
  let decided = 0;
  let sink = 0;
  const cpu = process.cpuUsage();
  t = performance.now();
  const until = t + SECONDS * 1000;
  while (performance.now() < until) {
    for (const x of inputs) sink += decide(x).explain.length;
    decided += inputs.length;
  }
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  // On a shared machine the wall clock includes waiting for a core; CPU time is what the one core did.
  const wallRate = (decided / ms) * 1000;
  const cpuRate = (decided / cpuMs) * 1000;
  const each = (rate: number) =>
    `${Math.round(rate).toLocaleString('en-US')} decisions/s (${(1e6 / rate).toFixed(1)} µs each)`;
  line('steady state, wall clock', each(wallRate));
  line('steady state, per CPU second', each(cpuRate));
  line(
    'CPU share while timed',
    `${((cpuMs / ms) * 100).toFixed(0)} % of a core (the rest went to other processes)`,
  );
  line('goal: 50,000/s on one core', cpuRate >= 50_000 ? 'met' : 'NOT met');
  line(
    'decisions timed',
    `${decided.toLocaleString('en-US')} in ${(ms / 1000).toFixed(1)} s (${sink.toLocaleString('en-US')} explain lines)`,
  );
  line('peak RSS', mb(peakRss()));
  line('heap used after', mb(process.memoryUsage().heapUsed));
  console.log('\noutcome / reason mix of the population:');
  for (const [key, n] of [...outcomes].sort((a, b) => b[1] - a[1])) {
    line(`  ${key}`, `${((n / INPUTS) * 100).toFixed(1)} %`);
  }
}

// ---------------------------------------------------------------------------------------------------
// 2. Trigger-to-dispatch latency on the local stack.

const LATENCY_CAMPAIGN = {
  id: 'bench-latency',
  name: 'Latency probe',
  enabled: true,
  trigger: { type: 'event', event: 'Bench Ping' },
  channels: ['email'],
  reentry: { mode: 'cooldown', days: 0 },
  holdoutPercent: 0,
  sendTime: { mode: 'immediate' },
  variants: [
    {
      id: 'only',
      content: {
        email: {
          subject: 'Ping for {{ customer.traits.firstName }}',
          html: '<p>Ping.</p><p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>',
          text: 'Ping. Unsubscribe: {{ unsubscribeUrl }}',
        },
      },
    },
  ],
};

async function call(stack: LocalStack, path: string, key: string, body?: unknown, method?: string) {
  const res = await fetch(`${stack.httpUrl}${path}`, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Polls `probe` every 25 ms until it returns a value or `ms` pass. */
async function until<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const found = await probe();
    if (found !== undefined) return found;
    await sleep(25);
  }
  return undefined;
}

type Sample = { ms: number } | { skipped: 'control' | 'no_consent' | 'not_delivered' };

/** One customer: identified with consent, then the trigger event, timed from its 200 to its e-mail. */
async function sample(stack: LocalStack, run: string, i: number): Promise<Sample> {
  const userId = `${run}-${i}`;
  const email = `${userId}@bench.precis.local`;
  const zone = noonZoneAt(Date.now());
  const identified = await call(stack, '/v1/identify', stack.writeKey, {
    userId,
    traits: { email, firstName: 'Bench', consent: { marketing: { email: true } } },
    context: { timezone: zone },
  });
  if (identified.status !== 200) throw new Error(`identify: ${identified.status}`);
  const customerId = await until(async () => {
    const got = await call(stack, `/v1/customers/${encodeURIComponent(userId)}/consent`, stack.readKey);
    return got.status === 200 && Array.isArray(got.body.consent) && got.body.consent.length > 0
      ? String(got.body.customerId)
      : undefined;
  }, 120_000);
  if (customerId === undefined) return { skipped: 'no_consent' };
  // A customer of the global control group is measured, not sent to.
  const d = stack.config.sendDecision;
  if (inGlobalControl(customerId, d.controlSalt, d.controlPercent)) return { skipped: 'control' };
  const sent = await call(stack, '/v1/track', stack.writeKey, {
    userId,
    event: 'Bench Ping',
    context: { timezone: zone },
  });
  if (sent.status !== 200) throw new Error(`track: ${sent.status}`);
  const t0 = performance.now();
  const ses = stack.config.endpoints.ses as string;
  const arrived = await until(async () => {
    const { emails } = (await (await fetch(`${ses}/store`)).json()) as {
      emails: { destination: { to: string[] } }[];
    };
    return emails.some((e) => e.destination.to.includes(email)) ? performance.now() : undefined;
  }, 60_000);
  return arrived === undefined ? { skipped: 'not_delivered' } : { ms: arrived - t0 };
}

async function triggerToDispatch() {
  const samples = Number(values.samples);
  if (!(samples > 0)) return;
  const concurrency = Math.max(1, Number(values.concurrency) || 4);
  console.log('\n## 2. Trigger-to-dispatch latency on the local stack (no configured wait)\n');
  const started = performance.now();
  const stack = await startLocalStack({ logLevel: 'WARN', watch: false });
  try {
    line('stack started in', `${((performance.now() - started) / 1000).toFixed(1)} s`);
    const saved = await call(
      stack,
      `/v1/campaigns/${LATENCY_CAMPAIGN.id}`,
      stack.adminKey,
      LATENCY_CAMPAIGN,
      'PUT',
    );
    if (saved.status !== 200 && saved.status !== 201)
      throw new Error(`saving the campaign: ${saved.status} ${JSON.stringify(saved.body)}`);
    const run = `bench-${Date.now().toString(36)}`;
    const t = performance.now();
    const results = await pMap(
      Array.from({ length: samples }, (_, i) => i),
      (i) => sample(stack, run, i),
      { concurrency },
    );
    const wallS = (performance.now() - t) / 1000;
    const ms = results.flatMap((r) => ('ms' in r ? [r.ms] : [])).sort((a, b) => a - b);
    const skipped = new Map<string, number>();
    for (const r of results) if ('skipped' in r) skipped.set(r.skipped, (skipped.get(r.skipped) ?? 0) + 1);
    const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
    line('samples', `${samples} customers, ${concurrency} at a time, ${wallS.toFixed(0)} s`);
    line(
      'delivered',
      `${ms.length}${skipped.size > 0 ? ` (not timed: ${[...skipped].map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`,
    );
    line('p50', s(percentile(ms, 50)));
    line('p95', s(percentile(ms, 95)));
    line('max', s(ms.at(-1) ?? Number.NaN));
    line('goal: p95 <= 5 s', percentile(ms, 95) <= 5_000 ? 'met' : 'NOT met');
  } finally {
    await stack.stop();
  }
}

console.log(`# bench:campaigns — ${machine()}`);
await decisionsPerSecond();
await triggerToDispatch();
