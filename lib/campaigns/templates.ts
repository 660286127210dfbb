// Liquid templates of campaign content: the catalogue of what a render provides, the save-time check of
// every template (syntax, variables, a sample render, webhook bodies that must be JSON) and the render
// itself. Unknown variables are refused when the campaign is saved, so a send never fails on one: the
// render runs with strictVariables, and every catalogue path is always present in a render's context
// (null when a customer has no value). Traits are open-ended: any `customer.traits.<name>` is allowed and
// a missing trait renders as null, so `| default: "there"` works.
import { Drop, type FilterImplOptions, Liquid, type Template } from 'liquidjs';
import { type FieldIssue, formatPath } from '../ingest/spec.js';
import { invalid, type Outcome, ok } from '../outcome.js';
import type { CampaignDefinition, Channel, Content, Coupon, Variant } from './model.js';

/** A cart line or a recommended product as templates see them. */
export interface ProductView {
  readonly id: string;
  readonly name: string;
  readonly price: number | null;
  readonly currency: string | null;
  readonly quantity: number;
  readonly url: string | null;
  readonly imageUrl: string | null;
}

/** The issued coupon (only in campaigns that have one). */
export interface CouponView {
  readonly code: string;
  readonly kind: Coupon['kind'];
  readonly value: number | null;
  readonly currency: string | null;
  readonly expiresAt: string;
}

/**
 * What the engine knows of one recipient when it renders. Every field is present (null when unknown):
 * strict rendering turns only a missing path into an error, never a missing value.
 */
export interface MessageContext {
  readonly customer: {
    readonly id: string;
    /** Any trait of the profile; a trait the customer lacks renders as null. */
    readonly traits: Readonly<Record<string, unknown>>;
    readonly timezone: string;
    readonly orders: number;
    readonly netRevenue: number;
    readonly lastOrderAt: string | null;
    readonly cart: {
      readonly items: readonly ProductView[];
      readonly value: number;
      readonly quantity: number;
    };
  };
  readonly segment: { readonly id: string | null; readonly title: string | null };
  readonly rfm: { readonly label: string | null };
  /** Required when the campaign has a coupon. */
  readonly coupon?: CouponView;
  /** Recommended products, possibly none. */
  readonly products: readonly ProductView[];
  /** The one-click unsubscribe link: required for e-mail and SMS. */
  readonly unsubscribeUrl?: string;
}

/** A rendered message: the channel's content with every template replaced by its output. */
export type Rendered<C extends Channel> = NonNullable<Content[C]>;

// The catalogue: what a template may name. `open` accepts any path below it (traits).
type Node =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'open' }
  | { readonly kind: 'list'; readonly item: Node }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, Node>> };

const leaf: Node = { kind: 'leaf' };
const leaves = (...names: string[]): Record<string, Node> => Object.fromEntries(names.map((n) => [n, leaf]));
const object = (...names: string[]): Node => ({ kind: 'object', fields: leaves(...names) });
const product: Node = object('id', 'name', 'price', 'currency', 'quantity', 'url', 'imageUrl');

export const CATALOGUE: Readonly<Record<string, Node>> = {
  customer: {
    kind: 'object',
    fields: {
      ...leaves('id', 'timezone', 'orders', 'netRevenue', 'lastOrderAt'),
      traits: { kind: 'open' },
      cart: {
        kind: 'object',
        fields: { items: { kind: 'list', item: product }, value: leaf, quantity: leaf },
      },
    },
  },
  segment: object('id', 'title'),
  rfm: object('label'),
  coupon: object('code', 'kind', 'value', 'currency', 'expiresAt'),
  products: { kind: 'list', item: product },
  campaign: object('id', 'name'),
  unsubscribeUrl: leaf,
  variant: leaf,
};

/** Channels whose messages carry an unsubscribe link (push and webhooks have none). */
const UNSUBSCRIBE_CHANNELS: readonly Channel[] = ['email', 'sms'];

/** Render bounds: a hostile or careless template (a huge loop, a doubling string) fails, never hangs. */
export const RENDER_LIMITS = {
  /** Template length in characters. */
  parseLimit: 256 * 1024,
  /** Wall time of one render, ms. */
  renderLimit: 1_000,
  /** Allocated string characters and array elements (ranges, appends) of one render. */
  memoryLimit: 2_000_000,
} as const;

const options = {
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  // No file system: include/render/layout find nothing.
  templates: {},
  // Never the machine's zone; `date` defaults to the customer's (below).
  timezoneOffset: 'UTC',
  ...RENDER_LIMITS,
} as const;

/** `| date` shows times in the customer's zone unless the template names one (`| date: "%H:%M", "UTC"`). */
function inCustomerZone(engine: Liquid): Liquid {
  const builtin = engine.filters.date;
  if (typeof builtin !== 'function') throw new Error('liquidjs has no date filter');
  type Handler = Extract<FilterImplOptions, (...args: never[]) => unknown>;
  const date: Handler = function (value, format, zone) {
    return builtin.call(this, value, format, zone ?? this.context.getSync(['customer', 'timezone']));
  };
  engine.registerFilter('date', date);
  return engine;
}

const plain = inCustomerZone(new Liquid(options));
/** E-mail HTML: every output is HTML-escaped unless the template says `| raw`. */
const html = inCustomerZone(new Liquid({ ...options, outputEscape: 'escape' }));

/** The fields of each channel's content; the html field renders with escaping. */
const FIELDS: { readonly [C in Channel]: readonly (keyof Rendered<C>)[] } = {
  email: ['subject', 'html', 'text'],
  sms: ['text'],
  push: ['title', 'body'],
  webhook: ['body'],
};
const engineFor = (channel: Channel, field: string) =>
  channel === 'email' && field === 'html' ? html : plain;

/** Traits as templates see them: any name, null when the customer has no such trait. */
class TraitsDrop extends Drop {
  readonly #traits: Readonly<Record<string, unknown>>;
  constructor(traits: Readonly<Record<string, unknown>>) {
    super();
    this.#traits = traits;
  }
  override liquidMethodMissing(key: string | number): unknown {
    return Object.hasOwn(this.#traits, key) ? this.#traits[key] : null;
  }
}

function scopeOf(def: CampaignDefinition, variant: Variant, context: MessageContext): object {
  return {
    ...context,
    customer: { ...context.customer, traits: new TraitsDrop(context.customer.traits) },
    campaign: { id: def.id, name: def.name },
    variant: variant.id,
  };
}

/** Renders one channel of a variant for one recipient. Fails (a value) only on a bound or a bad webhook body. */
export function renderMessage<C extends Channel>(
  def: CampaignDefinition,
  variant: Variant,
  channel: C,
  context: MessageContext,
): Outcome<Rendered<C>> {
  const content = variant.content[channel] as Record<string, string> | undefined;
  if (!content) return invalid(`Variant ${variant.id} has no ${channel} content.`);
  const scope = scopeOf(def, variant, context);
  const out: Record<string, string> = {};
  try {
    for (const field of FIELDS[channel] as readonly string[]) {
      const engine = engineFor(channel, field);
      out[field] = String(engine.renderSync(engine.parse(content[field] ?? ''), scope));
    }
  } catch (error) {
    return invalid(`${channel} of variant ${variant.id}: ${(error as Error).message}`);
  }
  if (channel === 'webhook' && !isJson(out.body ?? '')) {
    return invalid(`The webhook body of variant ${variant.id} is not JSON.`);
  }
  return ok(out as Rendered<C>);
}

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** A realistic context: validation renders every template with it; previews and tests use it too. */
export const SAMPLE_CONTEXT: MessageContext = {
  customer: {
    id: 'cus_sample',
    traits: { firstName: 'Ana', lastName: 'Silva', email: 'ana.silva@example.com', birthday: '1990-04-12' },
    timezone: 'Europe/Lisbon',
    orders: 3,
    netRevenue: 187.5,
    lastOrderAt: '2026-10-02T18:21:00.000Z',
    cart: {
      items: [
        {
          id: 'sku-1042',
          name: 'Linen shirt',
          price: 49,
          currency: 'EUR',
          quantity: 1,
          url: 'https://shop.example.com/p/sku-1042',
          imageUrl: 'https://shop.example.com/i/sku-1042.jpg',
        },
      ],
      value: 49,
      quantity: 1,
    },
  },
  segment: { id: 'growth-potential', title: 'Growth potential' },
  rfm: { label: 'potential-loyalist' },
  coupon: {
    code: 'CART-7KQ2-M9XD',
    kind: 'percent',
    value: 10,
    currency: null,
    expiresAt: '2026-12-13T00:00:00.000Z',
  },
  products: [
    {
      id: 'sku-2210',
      name: 'Canvas tote',
      price: 25,
      currency: 'EUR',
      quantity: 1,
      url: 'https://shop.example.com/p/sku-2210',
      imageUrl: null,
    },
  ],
  unsubscribeUrl: 'https://api.example.com/v1/unsubscribe?t=sample',
};

/** The sample with a quote and a backslash in every string: a webhook body must escape them (`| json`). */
const HOSTILE_CONTEXT = quoteStrings(SAMPLE_CONTEXT) as MessageContext;
// The zone stays a zone (it is an IANA name, never a customer's text), so `| date` still renders.
Object.assign(HOSTILE_CONTEXT.customer, { timezone: SAMPLE_CONTEXT.customer.timezone });

function quoteStrings(value: unknown): unknown {
  if (typeof value === 'string') return `${value}"\\`;
  if (Array.isArray(value)) return value.map(quoteStrings);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, quoteStrings(v)]));
  }
  return value;
}

/**
 * Every problem of a campaign's content, each with the path of the field to fix: a channel without
 * content in a variant, a template that does not parse, a variable the catalogue does not have (or a
 * coupon variable in a campaign without a coupon, an unsubscribe link outside e-mail and SMS), a
 * template that fails on the sample context (a bound, a loop variable's unknown field), a webhook body
 * that is not JSON. Empty when the campaign can be saved.
 */
export function validateCampaign(def: CampaignDefinition): FieldIssue[] {
  const issues: FieldIssue[] = [];
  def.variants.forEach((variant, v) => {
    for (const channel of def.channels) {
      if (!variant.content[channel]) {
        issues.push({
          path: formatPath(['variants', v, 'content', channel]),
          code: 'missing_content',
          message: `the campaign sends by ${channel}: every variant needs ${channel} content`,
        });
      }
    }
    for (const channel of Object.keys(variant.content) as Channel[]) {
      const content = variant.content[channel] as Record<string, string> | undefined;
      if (!content) continue;
      for (const field of FIELDS[channel] as readonly string[]) {
        const path = formatPath(['variants', v, 'content', channel, field]);
        issues.push(...checkTemplate(def, variant, channel, field, content[field] ?? '', path));
      }
    }
  });
  return issues;
}

function checkTemplate(
  def: CampaignDefinition,
  variant: Variant,
  channel: Channel,
  field: string,
  source: string,
  path: string,
): FieldIssue[] {
  const engine = engineFor(channel, field);
  let template: Template[];
  try {
    template = engine.parse(source);
  } catch (error) {
    return [{ path, code: 'template_syntax', message: (error as Error).message }];
  }
  const issues = engine.globalVariableSegmentsSync(template, { partials: false }).flatMap((segments) => {
    const message = variableProblem(segments, def, channel);
    return message ? [{ path, code: message.code, message: message.text }] : [];
  });
  if (issues.length > 0) return issues;
  // The static check cannot see inside loops (`item.nmae`) or run filters: render the sample.
  const contexts = channel === 'webhook' ? [SAMPLE_CONTEXT, HOSTILE_CONTEXT] : [SAMPLE_CONTEXT];
  for (const context of contexts) {
    let output: string;
    try {
      output = String(engine.renderSync(template, scopeOf(def, variant, context)));
    } catch (error) {
      return [{ path, code: 'template_render', message: (error as Error).message }];
    }
    if (channel === 'webhook' && !isJson(output)) {
      return [
        {
          path,
          code: 'webhook_not_json',
          message:
            'does not render to JSON with a sample context (quote and escape values with `| json`, e.g. {{ customer.id | json }})',
        },
      ];
    }
  }
  return [];
}

type Segments = ReturnType<Liquid['globalVariableSegmentsSync']>[number];

/** Why a variable (as its path segments) may not be used here, or undefined when it may. */
function variableProblem(
  segments: Segments,
  def: CampaignDefinition,
  channel: Channel,
): { code: string; text: string } | undefined {
  const [root, ...rest] = segments;
  const name = typeof root === 'string' ? root : String(root);
  const node = CATALOGUE[name];
  const shown = display(segments);
  if (!node) return unknown(shown, `there is no variable ${name}`);
  if (name === 'coupon' && !def.coupon) {
    return { code: 'no_coupon', text: `${shown}: the campaign has no coupon` };
  }
  if (name === 'unsubscribeUrl' && !UNSUBSCRIBE_CHANNELS.includes(channel)) {
    return unknown(shown, `${channel} messages have no unsubscribe link`);
  }
  const problem = walk(node, rest);
  return problem ? unknown(shown, problem) : undefined;
}

const unknown = (shown: string, why: string) => ({
  code: 'unknown_variable',
  text: `unknown variable ${shown}: ${why} (variables: ${Object.keys(CATALOGUE).join(', ')}; traits as customer.traits.<name>)`,
});

/** One step down the catalogue: the node below, the end of what can be checked, or what is wrong. */
type Step = { readonly next: Node } | { readonly done: true } | { readonly problem: string };
const DONE: Step = { done: true };

function step(node: Node, segment: Segments[number]): Step {
  switch (node.kind) {
    case 'open':
      return DONE;
    case 'leaf':
      // Liquid gives strings a size; nothing else is below a value.
      return segment === 'size' ? DONE : { problem: `a value has no property ${String(segment)}` };
    case 'list':
      if (segment === 'size') return DONE;
      return typeof segment === 'number' ||
        segment === 'first' ||
        segment === 'last' ||
        Array.isArray(segment)
        ? { next: node.item }
        : { problem: `a list has no property ${segment}` };
    case 'object': {
      const next = typeof segment === 'string' ? node.fields[segment] : undefined;
      const shown = Array.isArray(segment) ? 'a computed name' : String(segment);
      return next
        ? { next }
        : { problem: `expected one of ${Object.keys(node.fields).join(', ')}, not ${shown}` };
    }
  }
}

/** Follows the path through the catalogue; a message when it leaves it. */
function walk(start: Node, path: Segments): string | undefined {
  let node = start;
  for (const segment of path) {
    const taken = step(node, segment);
    if ('problem' in taken) return taken.problem;
    if ('done' in taken) return undefined;
    node = taken.next;
  }
  return undefined;
}

function display(segments: Segments): string {
  return segments
    .map((s, i) => {
      if (Array.isArray(s)) return `[${display(s)}]`;
      if (typeof s === 'number') return `[${s}]`;
      return i === 0 ? s : `.${s}`;
    })
    .join('');
}
