// npm run bench:campaigns [-- --inputs N] [--seconds S] [--seed N]
// Campaigns, one section per measure:
//   1. send decisions per second, in-process on one core (goal: 50,000/s): the demo campaigns over a
//      seeded population of varied candidates (zones with and without DST, consent mostly granted, some
//      revoked or unknown, unsubscribes, suppressions, addresses, activity histograms, engagement, sends
//      over the last week), decided over and over for --seconds; first pass (cold zone caches) and
//      steady state, the outcome mix, peak RSS.
import { parseArgs } from 'node:util';
import type { ConsentRecord } from '../lib/campaigns/consent.js';
import { type DecisionInput, type DecisionSettings, decide } from '../lib/campaigns/decision.js';
import { loadDemoCampaigns } from '../lib/campaigns/demo.js';
import { addDays, localDate, zoneOr } from '../lib/campaigns/localTime.js';
import type { DayCount } from '../lib/campaigns/messaging.js';
import { type CampaignDefinition, CHANNELS, type Channel } from '../lib/campaigns/model.js';
import { seededRandom } from '../lib/clustering/random.js';
import { DEFAULT_CAPS } from '../lib/config.js';
import { machine, mb, peakRss } from './common.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '42' },
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

console.log(`# bench:campaigns — ${machine()}`);
await decisionsPerSecond();
