// Inputs of the send decision for its tests and benchmark: a campaign that sends by e-mail or SMS, a
// consenting reachable customer in Shanghai, the default caps, and customer ids found (not assumed) in or
// out of the control group and a holdout.
import { inGlobalControl, inHoldout } from '../../lib/campaigns/assignment.js';
import type { ConsentRecord } from '../../lib/campaigns/consent.js';
import type { DecisionInput, DecisionSettings } from '../../lib/campaigns/decision.js';
import { type CampaignDefinition, CampaignDefinition as CampaignSchema } from '../../lib/campaigns/model.js';
import { DEFAULT_CAPS } from '../../lib/config.js';

export const SALT = 'decision-test-salt';
/** 12:00 in Shanghai (UTC+8, no DST). */
export const NOW = Date.parse('2026-06-15T04:00:00Z');

export const granted: ConsentRecord = {
  status: 'granted',
  source: 'web-form',
  at: '2026-01-01T00:00:00.000Z',
};
export const revoked: ConsentRecord = {
  status: 'revoked',
  source: 'web-form',
  at: '2026-02-01T00:00:00.000Z',
};

export const settings: DecisionSettings = {
  caps: DEFAULT_CAPS,
  controlPercent: 1,
  salt: SALT,
  defaultZone: 'UTC',
  unknownConsentGranted: [],
  webhookConfigured: true,
};

/** A campaign as the API stores it (schema defaults applied), no holdout unless asked. */
export function campaign(over: Record<string, unknown> = {}): CampaignDefinition {
  return CampaignSchema.parse({
    id: 'abandoned-cart',
    name: 'Abandoned cart',
    trigger: { type: 'event', event: 'Product Added' },
    channels: ['email', 'sms'],
    holdoutPercent: 0,
    variants: [
      {
        id: 'a',
        content: {
          email: { subject: 'Your cart', html: '<p>Hi</p>', text: 'Hi' },
          sms: { text: 'Hi' },
          push: { title: 'Cart', body: 'Hi' },
          webhook: { body: '{}' },
        },
      },
    ],
    ...over,
  });
}

/** The first of cus_0, cus_1 ... that `pred` accepts. */
export function idWhere(pred: (id: string) => boolean): string {
  for (let i = 0; i < 100_000; i++) {
    const id = `cus_${i}`;
    if (pred(id)) return id;
  }
  throw new Error('no such id in the first 100,000');
}

/** Outside the global control group (at `percent`) and the campaign's holdout (at `holdout`). */
export const ordinaryId = (campaignId = 'abandoned-cart', percent = settings.controlPercent, holdout = 50) =>
  idWhere((id) => !inGlobalControl(id, SALT, percent) && !inHoldout(campaignId, id, SALT, holdout));

/** A candidate who is sent an e-mail now unless the test changes something. */
export function input(over: Partial<DecisionInput> = {}): DecisionInput {
  return {
    campaign: campaign(),
    candidate: { customerId: ordinaryId(), triggerKey: 'cart-1', eventAt: NOW - 3_600_000, now: NOW },
    customer: { timezone: 'Asia/Shanghai', reachable: { email: true, sms: true, push: true } },
    messaging: {
      consent: { marketing: { email: granted, sms: granted, push: granted, webhook: granted } },
      suppressed: {},
      caps: {},
      entries: {},
    },
    settings,
    ...over,
  };
}
