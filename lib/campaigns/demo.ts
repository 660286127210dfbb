// The demo campaigns: the JSON files of campaigns/ at the repository's root, each checked as a save would
// check it (schema and templates). `npm run dev` loads them into the local stack; a test keeps them valid.
import { join } from 'node:path';
import { loadDefinitionFiles } from '../definitionFiles.js';
import { projectRoot } from '../projectRoot.js';
import { checkCampaign } from './api.js';
import { localDate } from './localTime.js';
import type { CampaignDefinition } from './model.js';

export const DEMO_CAMPAIGNS_DIR = join(projectRoot(), 'campaigns');

/** Every demo campaign, by file name; throws naming each invalid file and field (a broken repository). */
export const loadDemoCampaigns = (dir = DEMO_CAMPAIGNS_DIR): Promise<CampaignDefinition[]> =>
  loadDefinitionFiles(dir, checkCampaign, 'demo campaigns');

/** The fixed-offset IANA zone of a whole-hour UTC offset (Etc/GMT-N is UTC+N: POSIX's inverted sign). */
export function etcZone(offsetHours: number): string {
  return offsetHours === 0 ? 'Etc/GMT' : `Etc/GMT${offsetHours > 0 ? '-' : '+'}${Math.abs(offsetHours)}`;
}

/** The UTC offset (whole hours, -12..+14 range kept) whose local hour is `hour` at `at`. */
function offsetWhereHourIs(hour: number, at: number, min = -12, max = 14): number {
  let offset = hour - new Date(at).getUTCHours();
  if (offset > max) offset -= 24;
  if (offset < min) offset += 24;
  return offset;
}

/**
 * A zone whose local hour is about noon at `at`: quiet hours (21:00-08:00 local by default) then never
 * hold, whatever hour the demo or a test runs at.
 */
export function noonZoneAt(at: number): string {
  return etcZone(offsetWhereHourIs(12, at));
}

/** The demo's two zones, an hour apart, and the local day their customers come back on. */
export interface DemoZones {
  /** 07:xx local at the start (06:xx late in an hour): the birthday moment (09:00) is over an hour ahead. */
  readonly east: string;
  /** 06:xx local at the start: an hour later, so its customers' 09:00 comes an hour after the east's. */
  readonly west: string;
  /** The local date in both zones at the start (YYYY-MM-DD). */
  readonly day: string;
}

/** The setup the demo allows between choosing its zones and sending the carts (under load it takes minutes). */
export const DEMO_SETUP_MINUTES = 10;

/**
 * Zones where the demo's moments are all ahead of `at`: the stack's own minute sweep (on the wall clock)
 * can then never take them before the demo's clock gets there, and each birthday is decided at 09:00
 * where the customer lives. The carts are swept an hour after they are sent and must go before the
 * east's 09:00 birthdays (e-mail is capped at one a day): east is at 07:xx, so the sweep falls between
 * 08:00 and 09:00 there. Late in an hour the setup could push it past 09:00, so east is then at 06:xx:
 * the sweep falls in its quiet hours, and the carts go when they end, at 08:00 (the demo sweeps then).
 * The west zone is in quiet hours when the carts are swept, and sends them at its 08:00, the east's 09:00.
 */
export function demoZones(at: number): DemoZones {
  const late = new Date(at).getUTCMinutes() >= 59 - DEMO_SETUP_MINUTES;
  // East in [-11, +12] so that west, an hour behind, is a valid zone.
  const offset = offsetWhereHourIs(late ? 6 : 7, at, -11, 12);
  const east = etcZone(offset);
  return { east, west: etcZone(offset - 1), day: localDate(at, east) };
}

/** A customer who comes back in the demo, and what they do. */
export interface DemoCustomer {
  readonly userId: string;
  readonly customerId: string;
  readonly zone: 'east' | 'west';
  /** No e-mail address: reachable by SMS only (the outbox, locally). */
  readonly smsOnly: boolean;
  /** Unsubscribed from all marketing: never contacted, whatever else they do. */
  readonly optedOut: boolean;
  /** Their birthday is today. */
  readonly birthday: boolean;
  /** Leaves a cart today. */
  readonly cart: boolean;
  /** In the abandoned-cart campaign's control group or holdout: measured, never sent. */
  readonly cartHeldOut: boolean;
  /** Orders after the messages: the conversions the campaign report measures. */
  readonly ordersAfter: boolean;
  /** Yesterday's visit, archived today (a till that synced late): what the back-test replays. */
  readonly yesterday?: 'cart' | 'cart_then_order';
}

/** How many of each part the demo casts (the treated are outside the abandoned cart's measured groups). */
const CAST = { smsOnly: 1, cartAndBirthday: 3, cartOnly: 5, birthdayOnly: 4, heldOutCarts: 3 };
const TREATED_NEEDED = CAST.smsOnly + CAST.cartAndBirthday + CAST.cartOnly + CAST.birthdayOnly;

/**
 * Casts the demo from its returning customers (in order; the first one opts out): `heldOut` tells who is
 * in the abandoned-cart campaign's control group or holdout (a stable hash of the customer: measuredGroup).
 * About one customer in seven is (5 % control, then 10 % holdout): 80 customers give both groups with
 * any salt but a very unlucky one, which throws.
 */
export function castDemo(
  customers: readonly { userId: string; customerId: string }[],
  heldOut: (customerId: string) => boolean,
): DemoCustomer[] {
  const [first, ...rest] = customers;
  const treated = rest.filter((c) => !heldOut(c.customerId));
  const held = rest.filter((c) => heldOut(c.customerId)).slice(0, CAST.heldOutCarts);
  if (first === undefined || treated.length < TREATED_NEEDED || held.length < 2)
    throw new Error(
      `the demo needs ${TREATED_NEEDED + 3} customers with at least 2 held out of the abandoned-cart campaign; ` +
        `${customers.length} given, ${held.length} held out`,
    );
  const base = { smsOnly: false, optedOut: false, birthday: false, cart: false, cartHeldOut: false };
  const parts: Omit<DemoCustomer, 'zone' | 'ordersAfter'>[] = [
    { ...first, ...base, optedOut: true, birthday: true, cart: true, yesterday: 'cart' },
  ];
  let next = 0;
  const take = (n: number, part: Partial<DemoCustomer>) => {
    for (const c of treated.slice(next, next + n)) parts.push({ ...c, ...base, ...part });
    next += n;
  };
  take(CAST.smsOnly, { smsOnly: true, cart: true });
  take(CAST.cartAndBirthday, { cart: true, birthday: true });
  take(CAST.cartOnly, { cart: true });
  take(CAST.birthdayOnly, { birthday: true });
  for (const c of held) parts.push({ ...c, ...base, cart: true, cartHeldOut: true });
  // Yesterday's carts: the opted-out customer's (above) and four of today's cart-only customers', one
  // of whom ordered after it (the back-test's wait is cancelled).
  const yesterdays = ['cart', 'cart_then_order', 'cart', 'cart'] as const;
  let y = 0;
  let treatedCarts = 0;
  let heldCarts = 0;
  return parts.map((p, i) => {
    const cartOnly = p.cart && !p.birthday && !p.smsOnly && !p.cartHeldOut && !p.optedOut;
    const yesterday = p.yesterday ?? (cartOnly ? yesterdays[y++] : undefined);
    // Every other treated cart orders afterwards, and the first held-out cart: both groups convert.
    const ordersAfter =
      p.cart && !p.optedOut && (p.cartHeldOut ? heldCarts++ === 0 : treatedCarts++ % 2 === 0);
    return {
      ...p,
      zone: i % 2 === 0 ? 'east' : 'west',
      ordersAfter,
      ...(yesterday === undefined ? {} : { yesterday }),
    };
  });
}
