// Stable random assignment of customers: the global control group, a campaign's holdout and its content
// variant. Each is a SHA-256 of a domain label and the ids, read as a number in [0, 1): the same customer
// always lands in the same place (no stored assignment to lose or race on), and the labels make the three
// draws independent of each other (a control member is no likelier to be in a holdout).
import { hash } from 'node:crypto';
import type { CampaignDefinition, Variant } from './model.js';

/** 52 bits of the digest (13 hex digits): exact in a double, uniform in [0, 1). */
export function unitHash(...parts: readonly string[]): number {
  return Number.parseInt(hash('sha256', parts.join('\u0000'), 'hex').slice(0, 13), 16) / 2 ** 52;
}

/**
 * Whether the customer is in the persistent global control group: `percent` % of all customers (1-15,
 * PRECIS_CONTROL_GROUP_PERCENT), the same ones out of every campaign. The salt is the stage's: changing it
 * draws a new group and breaks every running comparison.
 */
export function inGlobalControl(customerId: string, salt: string, percent: number): boolean {
  return unitHash('control', salt, customerId) * 100 < percent;
}

/** Whether the customer is in the campaign's holdout (`percent` % of its eligible customers). */
export function inHoldout(campaignId: string, customerId: string, salt: string, percent: number): boolean {
  return unitHash('holdout', salt, campaignId, customerId) * 100 < percent;
}

/**
 * Where a contactable customer stands for a campaign: in the global control group (checked first: it is
 * out of every campaign), in the campaign's holdout, or undefined (treated). Both are measured, never sent.
 */
export function measuredGroup(
  campaign: Pick<CampaignDefinition, 'id' | 'holdoutPercent'>,
  customerId: string,
  settings: { readonly salt: string; readonly controlPercent: number },
): 'control' | 'holdout' | undefined {
  if (inGlobalControl(customerId, settings.salt, settings.controlPercent)) return 'control';
  const percent = campaign.holdoutPercent;
  if (percent > 0 && inHoldout(campaign.id, customerId, settings.salt, percent)) return 'holdout';
  return undefined;
}

/** The campaign's content variant for the customer, by weight; the same customer keeps their variant. */
export function pickVariant(
  campaign: Pick<CampaignDefinition, 'id' | 'variants'>,
  customerId: string,
): Variant {
  const { variants } = campaign;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let point = unitHash('variant', campaign.id, customerId) * total;
  for (const variant of variants) {
    point -= variant.weight;
    if (point < 0) return variant;
  }
  // Only reachable through rounding at the very top of the range (or with no variants, which the schema refuses).
  const last = variants[variants.length - 1];
  if (!last) throw new Error(`campaign ${campaign.id} has no variants`);
  return last;
}
