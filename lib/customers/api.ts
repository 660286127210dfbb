// Request shapes of the customer API, shared by handlers and the OpenAPI document.
import { z } from 'zod';

export const CustomerProfileQuery = z.object({
  reveal: z
    .enum(['pii'])
    .optional()
    .meta({ description: 'Show personal traits in clear (admin keys only); masked by default' }),
});

export const CustomerEventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export const UnmergeRequest = z
  .object({
    mergeId: z.string().startsWith('mrg_').meta({ description: 'From the merge log (GET .../identities)' }),
  })
  .meta({ id: 'UnmergeRequest' });

export const UnmergeResponse = z
  .object({
    mergeId: z.string(),
    customers: z.array(z.string()).meta({
      description: 'The customers its identifiers belong to now; one means other links still join them',
    }),
  })
  .meta({ id: 'UnmergeResponse' });
