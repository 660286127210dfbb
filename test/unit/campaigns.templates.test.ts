// Campaign templates: the save-time check (unknown variables, syntax, missing content, coupon variables
// without a coupon, webhook bodies that are not JSON, hostile loops) and the render of a message.
import { describe, expect, it } from 'vitest';
import { checkCampaign } from '../../lib/campaigns/api.js';
import { loadDemoCampaigns } from '../../lib/campaigns/demo.js';
import { messageContext } from '../../lib/campaigns/dispatch.js';
import { CampaignDefinition, type Content } from '../../lib/campaigns/model.js';
import {
  type MessageContext,
  renderMessage,
  SAMPLE_CONTEXT,
  validateCampaign,
} from '../../lib/campaigns/templates.js';
import { mergePartials } from '../../lib/profiles/merge.js';
import { customerView } from '../../lib/profiles/view.js';

/** A small valid campaign with the given content (and channels), optionally with a coupon. */
function campaign(content: Content, extra: Record<string, unknown> = {}) {
  return CampaignDefinition.parse({
    id: 'test-campaign',
    name: 'Test',
    trigger: { type: 'event', event: 'Product Added' },
    channels: Object.keys(content),
    variants: [{ id: 'a', content }],
    ...extra,
  });
}

const email = (subject: string, html = '<p>Hi</p>', text = 'Hi {{ unsubscribeUrl }}') => ({
  email: { subject, html, text },
});

describe('validateCampaign', () => {
  it('accepts known variables, any trait, list items and filters', () => {
    const def = campaign(
      email(
        '{{ customer.traits.firstName | default: "there" }}, {{ customer.cart.items.size }} items',
        '{% for item in customer.cart.items %}<a href="{{ item.url }}">{{ item.name }}</a>{% endfor %}' +
          '{{ products.first.name }} {{ segment.title }} {{ rfm.label }} {{ campaign.name }} {{ variant }}',
      ),
    );
    expect(validateCampaign(def)).toEqual([]);
  });

  it('names the field of an unknown variable, a typo of traits included', () => {
    const def = campaign(email('Hello {{ customer.trait.firstName }}', '<p>{{ shop.name }}</p>'));
    expect(validateCampaign(def)).toEqual([
      expect.objectContaining({
        path: 'variants[0].content.email.subject',
        code: 'unknown_variable',
        message: expect.stringContaining('customer.trait.firstName'),
      }),
      expect.objectContaining({ path: 'variants[0].content.email.html', code: 'unknown_variable' }),
    ]);
  });

  it('refuses a coupon variable in a campaign without a coupon, and accepts it with one', () => {
    const content = email('{{ coupon.code }} inside');
    expect(validateCampaign(campaign(content))).toEqual([
      expect.objectContaining({ path: 'variants[0].content.email.subject', code: 'no_coupon' }),
    ]);
    const withCoupon = campaign(content, { coupon: { kind: 'percent', value: 10, expiresInDays: 7 } });
    expect(validateCampaign(withCoupon)).toEqual([]);
  });

  it('reports a syntax error with its field', () => {
    const issues = validateCampaign(campaign(email('{% if customer.orders > 1 %}loyal')));
    expect(issues).toEqual([
      expect.objectContaining({ path: 'variants[0].content.email.subject', code: 'template_syntax' }),
    ]);
  });

  it('finds an unknown field of a loop variable by rendering the sample', () => {
    const issues = validateCampaign(
      campaign(email('Cart', '{% for item in customer.cart.items %}{{ item.nmae }}{% endfor %}')),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'variants[0].content.email.html',
        code: 'template_render',
        message: expect.stringContaining('item.nmae'),
      }),
    ]);
  });

  it('requires content for every listed channel in every variant', () => {
    const def = campaign(email('Hi'), { channels: ['email', 'sms'] });
    expect(validateCampaign(def)).toEqual([
      expect.objectContaining({ path: 'variants[0].content.sms', code: 'missing_content' }),
    ]);
  });

  it('keeps the unsubscribe link to e-mail and SMS', () => {
    const def = campaign({ push: { title: 'Hi', body: 'Leave: {{ unsubscribeUrl }}' } });
    expect(validateCampaign(def)).toEqual([
      expect.objectContaining({ path: 'variants[0].content.push.body', code: 'unknown_variable' }),
    ]);
  });

  it('refuses a webhook body that is not JSON, or is JSON only for harmless strings', () => {
    const broken = campaign({ webhook: { body: '{ "customer": {{ customer.id }} }' } });
    expect(validateCampaign(broken)).toEqual([
      expect.objectContaining({ path: 'variants[0].content.webhook.body', code: 'webhook_not_json' }),
    ]);
    // Quoted by hand, a name with a quote in it breaks the JSON: `| json` is required.
    const quoted = campaign({ webhook: { body: '{ "name": "{{ customer.traits.firstName }}" }' } });
    expect(validateCampaign(quoted)).toEqual([expect.objectContaining({ code: 'webhook_not_json' })]);
    const escaped = campaign({ webhook: { body: '{ "name": {{ customer.traits.firstName | json }} }' } });
    expect(validateCampaign(escaped)).toEqual([]);
    const dated = campaign({
      webhook: { body: '{ "sent": {{ "2026-12-24T10:00:00Z" | date: "%Y-%m-%d %H:%M" | json }} }' },
    });
    expect(validateCampaign(dated)).toEqual([]);
  });

  it('bounds a hostile template: a huge loop and a doubling string fail the check instead of hanging', () => {
    const loop = campaign(
      email('{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}'),
    );
    expect(validateCampaign(loop)).toEqual([
      expect.objectContaining({ code: 'template_render', message: expect.stringContaining('limit') }),
    ]);
    const doubling = campaign(
      email(
        '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}',
      ),
    );
    expect(validateCampaign(doubling)).toEqual([
      expect.objectContaining({ code: 'template_render', message: expect.stringContaining('limit') }),
    ]);
  });

  it('has no file system: include finds nothing', () => {
    const issues = validateCampaign(campaign(email('{% include "/etc/passwd" %}')));
    expect(issues).toEqual([expect.objectContaining({ code: 'template_render' })]);
  });
});

describe('checkCampaign', () => {
  it('reports schema problems with field paths', () => {
    const outcome = checkCampaign({
      id: 'Bad Id',
      name: '',
      trigger: { type: 'event' },
      channels: [],
      variants: [],
    });
    expect(outcome.ok).toBe(false);
    const paths =
      !outcome.ok && outcome.reason === 'invalid' ? (outcome.issues ?? []).map((i) => i.path) : [];
    expect(paths).toEqual(expect.arrayContaining(['id', 'name', 'trigger.event', 'channels', 'variants']));
  });
});

describe('demo campaigns', () => {
  it('every file in campaigns/ validates, templates included', async () => {
    const demos = await loadDemoCampaigns();
    expect(demos.map((d) => d.id).sort()).toEqual([
      'abandoned-cart',
      'birthday',
      'browse-abandonment',
      'checkout-abandoned',
      'inactivity',
      'win-back',
    ]);
    // Validation does not stop at the first variant: every variant of every channel rendered.
    for (const def of demos) expect(validateCampaign(def)).toEqual([]);
  });

  it('the abandoned cart is what the issue describes', async () => {
    const cart = (await loadDemoCampaigns()).find((d) => d.id === 'abandoned-cart');
    expect(cart).toMatchObject({
      trigger: {
        type: 'event',
        event: 'Product Added',
        wait: { minutes: 60, cancelOn: ['Order Completed'], key: 'cart' },
      },
      coupon: { kind: 'percent', value: 10, expiresInDays: 7 },
      channels: ['email', 'sms'],
      quietHours: { start: '21:00', end: '08:00', action: 'defer' },
    });
  });
});

describe('renderMessage', () => {
  const context: MessageContext = {
    ...SAMPLE_CONTEXT,
    customer: {
      ...SAMPLE_CONTEXT.customer,
      traits: { firstName: 'Zoë <b>' },
      timezone: 'Asia/Shanghai',
    },
    coupon: {
      code: 'CART-7KQ2-M9XD',
      kind: 'percent',
      value: 10,
      currency: null,
      expiresAt: '2026-12-13T23:30:00.000Z',
    },
  };

  it('renders the demo abandoned cart: traits, cart, coupon, dates in the customer zone, escaped HTML only', async () => {
    const cart = (await loadDemoCampaigns()).find((d) => d.id === 'abandoned-cart');
    const variant = cart?.variants[0];
    if (!cart || !variant) throw new Error('no abandoned-cart demo');
    const out = renderMessage(cart, variant, 'email', context);
    if (!out.ok) throw new Error(out.message);
    expect(out.value.subject).toBe('Zoë <b>, your cart is waiting (10 % off inside)');
    expect(out.value.html).toContain('<p>Hi Zoë &lt;b&gt;,</p>');
    expect(out.value.html).toContain('<a href="https://shop.example.com/p/sku-1042">Linen shirt</a>');
    // 23:30 UTC on Dec 13 is Dec 14 in Shanghai.
    expect(out.value.text).toContain('CART-7KQ2-M9XD for 10 % off, valid until December 14.');
    expect(out.value.text).toContain(`Unsubscribe: ${SAMPLE_CONTEXT.unsubscribeUrl}`);
    const sms = renderMessage(cart, variant, 'sms', context);
    expect(sms).toEqual({
      ok: true,
      value: {
        text: `Zoë <b>, your cart is waiting: CART-7KQ2-M9XD takes 10% off until 14/12. Stop: ${SAMPLE_CONTEXT.unsubscribeUrl}`,
      },
    });
  });

  it("renders the published run's recommendations as products", () => {
    const recipient = {
      customerId: 'cus_1',
      view: customerView(mergePartials([]), Date.parse('2026-12-07T12:00:00Z')),
      assignment: {
        segment: 'loyal' as const,
        recommendations: [
          { item: 'sku-7', score: 1.2, because: 'sku-1' },
          { item: 'sku-9', score: 0, because: null },
        ],
      },
      addresses: [],
    };
    const candidate = { campaignId: 'c', customerId: 'cus_1', triggerKey: 'k', at: '2026-12-07T12:00:00Z' };
    const built = messageContext(candidate as never, recipient, {}, undefined, 'UTC');
    expect(built.products.map((p) => p.id)).toEqual(['sku-7', 'sku-9']);
    const def = campaign(email('{% for p in products %}{{ p.id }};{% endfor %}'));
    const variant = def.variants[0];
    if (!variant) throw new Error('no variant');
    const out = renderMessage(def, variant, 'email', { ...context, products: built.products });
    expect(out.ok && out.value.subject).toBe('sku-7;sku-9;');
  });

  it('renders a missing trait as its default', () => {
    const def = campaign(
      email('{{ customer.traits.firstName | default: "there" }}/{{ customer.traits.nickname }}/'),
    );
    const variant = def.variants[0];
    if (!variant) throw new Error('no variant');
    const out = renderMessage(def, variant, 'email', {
      ...context,
      customer: { ...context.customer, traits: {} },
    });
    expect(out.ok && out.value.subject).toBe('there//');
  });

  it('renders a webhook body to JSON with the campaign and variant', async () => {
    const winBack = (await loadDemoCampaigns()).find((d) => d.id === 'win-back');
    const variant = winBack?.variants[1];
    if (!winBack || !variant) throw new Error('no win-back demo');
    const out = renderMessage(winBack, variant, 'webhook', {
      ...context,
      customer: { ...context.customer, id: 'c"1' },
    });
    if (!out.ok) throw new Error(out.message);
    expect(JSON.parse(out.value.body)).toMatchObject({
      customerId: 'c"1',
      campaign: 'win-back',
      variant: 'new-arrivals',
      coupon: 'CART-7KQ2-M9XD',
    });
  });

  it('fails as a value when a render passes its bounds (a huge loop)', () => {
    // A range of five million allocates past the memory bound at once: the refusal does not depend on
    // how fast the machine renders (a wall-time bound alone let a fast run through).
    const def = campaign(
      email(
        '{% for i in (1..5000000) %}{% for item in customer.cart.items %}{{ item.name }}{% endfor %}{% endfor %}',
      ),
    );
    const variant = def.variants[0];
    if (!variant) throw new Error('no variant');
    expect(renderMessage(def, variant, 'email', context)).toMatchObject({
      ok: false,
      reason: 'invalid',
      message: expect.stringContaining('limit'),
    });
  });
});
