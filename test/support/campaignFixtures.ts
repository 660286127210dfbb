// A minimal abandoned-cart campaign (a cart add, then 60 minutes without an order), shared by the wait
// tests and the waits benchmark: one definition, so they exercise the same trigger.
import { CampaignDefinition } from '../../lib/campaigns/model.js';

export const abandonedCart = CampaignDefinition.parse({
  id: 'abandoned-cart',
  name: 'Abandoned cart',
  enabled: true,
  channels: ['email'],
  trigger: {
    type: 'event',
    event: 'Product Added',
    wait: { minutes: 60, cancelOn: ['Order Completed'], key: 'cart' },
  },
  variants: [{ id: 'a', content: { email: { subject: 's', html: 'h', text: 't' } } }],
});
