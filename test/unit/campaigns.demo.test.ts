// The demo's pure parts: the zones whose moments lie ahead of the clock, and the cast of returning
// customers (who opts out, who is reached by SMS only, who is held out, who orders, whose cart is late).
import { describe, expect, it } from 'vitest';
import { castDemo, DEMO_SETUP_MINUTES, demoZones, etcZone, noonZoneAt } from '../../lib/campaigns/demo.js';
import { instantAt, localHour, localMinutes } from '../../lib/campaigns/localTime.js';

const HOUR = 3_600_000;

describe('demo zones', () => {
  it('names whole-hour offsets as IANA Etc zones (inverted sign)', () => {
    expect(etcZone(0)).toBe('Etc/GMT');
    expect(etcZone(8)).toBe('Etc/GMT-8');
    expect(etcZone(-5)).toBe('Etc/GMT+5');
  });

  it('at every minute of a day: east at 07:xx (06:xx late in the hour), west an hour behind, 09:00 ahead', () => {
    const day = Date.parse('2026-03-29T00:00:00Z');
    for (let at = day; at < day + 24 * HOUR; at += 60_000) {
      const z = demoZones(at);
      const late = new Date(at).getUTCMinutes() >= 59 - DEMO_SETUP_MINUTES;
      expect(localHour(at, z.east)).toBe(late ? 6 : 7);
      expect(localHour(at, z.west)).toBe(late ? 5 : 6);
      const east = instantAt(z.day, 9 * 60, z.east);
      const west = instantAt(z.day, 9 * 60, z.west);
      expect(east - at).toBeGreaterThan(HOUR);
      expect(west - east).toBe(HOUR);
      // Whatever the setup takes up to its allowance, the east's carts go before its birthdays: at the
      // sweep an hour after they are sent, or at 08:00 when the sweep falls in its quiet hours (before 08:00).
      for (let setup = 0; setup <= DEMO_SETUP_MINUTES * 60_000; setup += 60_000) {
        const swept = at + setup + 61 * 60_000;
        const goes = localHour(swept, z.east) < 8 ? instantAt(z.day, 8 * 60, z.east) : swept;
        expect(goes, new Date(at).toISOString()).toBeLessThan(east);
        // The west's carts wait for its quiet hours to end: 08:00 there, the east's 09:00.
        expect(localHour(swept, z.west)).toBeLessThan(8);
      }
    }
  });

  it('noonZoneAt: about noon, whatever the hour', () => {
    for (let h = 0; h < 24; h++) {
      const at = Date.parse('2026-12-06T00:30:00Z') + h * HOUR;
      expect(localMinutes(at, noonZoneAt(at))).toBe(12 * 60 + 30);
    }
  });
});

describe('castDemo', () => {
  const customers = Array.from({ length: 38 }, (_, i) => ({ userId: `u${i}`, customerId: `c${i}` }));
  // Every fifth customer after the first is held out.
  const heldOut = (customerId: string) => Number(customerId.slice(1)) % 5 === 0;
  const cast = castDemo(customers, heldOut);

  it('the first opts out (cart, birthday and a late cart), and the parts add up', () => {
    expect(cast[0]).toMatchObject({
      userId: 'u0',
      optedOut: true,
      cart: true,
      birthday: true,
      yesterday: 'cart',
    });
    expect(cast.filter((c) => c.smsOnly)).toHaveLength(1);
    expect(cast.filter((c) => c.birthday && !c.optedOut)).toHaveLength(7);
    expect(cast.filter((c) => c.cart && !c.optedOut && !c.cartHeldOut)).toHaveLength(9);
    expect(cast.filter((c) => c.cartHeldOut).map((c) => c.userId)).toEqual(['u5', 'u10', 'u15']);
    expect(new Set(cast.map((c) => c.userId)).size).toBe(cast.length);
  });

  it('holds out exactly those the hash holds out, and both groups have orders to measure', () => {
    for (const c of cast) if (c.userId !== 'u0') expect(c.cartHeldOut).toBe(heldOut(c.customerId));
    const treated = cast.filter((c) => c.cart && !c.optedOut && !c.cartHeldOut);
    expect(treated.filter((c) => c.ordersAfter)).toHaveLength(5);
    expect(cast.filter((c) => c.cartHeldOut && c.ordersAfter)).toHaveLength(1);
    expect(cast.filter((c) => c.optedOut && c.ordersAfter)).toEqual([]);
  });

  it('spreads customers over both zones, and late carts over the opted-out and the cart-only', () => {
    expect(new Set(cast.map((c) => c.zone))).toEqual(new Set(['east', 'west']));
    const late = cast.filter((c) => c.yesterday !== undefined);
    expect(late.map((c) => c.yesterday)).toEqual(['cart', 'cart', 'cart_then_order', 'cart', 'cart']);
    for (const c of late.slice(1)) expect(c).toMatchObject({ cart: true, birthday: false, smsOnly: false });
  });

  it('refuses a pool too small to give both groups', () => {
    expect(() => castDemo(customers.slice(0, 10), heldOut)).toThrow(/the demo needs/);
    expect(() => castDemo(customers, () => false)).toThrow(/at least 2 held out/);
  });
});
