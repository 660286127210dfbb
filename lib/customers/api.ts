// Request shapes of the customer API, shared by handlers and the OpenAPI document.
import { z } from 'zod';
import { boundedId } from '../ids.js';
import { MAX_ID_LENGTH } from '../ingest/spec.js';

/**
 * A customer id in a path, in UTF-8 bytes: any userId or anonymousId ingestion takes (1,024 characters)
 * fits when ASCII, with room for a type prefix (`crm:`); as a key it stays near half of DynamoDB's
 * 2,048-byte partition key limit.
 */
export const MAX_CUSTOMER_ID_BYTES = MAX_ID_LENGTH + 64;

export const CustomerIdPath = z.object({
  id: boundedId(MAX_CUSTOMER_ID_BYTES).meta({
    description: 'A customer id, userId, anonymousId, e-mail, phone or typed id (crm:123)',
  }),
});

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
    mergeId: z
      .string()
      .startsWith('mrg_')
      .max(100)
      .meta({ description: 'From the merge log (GET .../identities)' }),
  })
  .meta({ id: 'UnmergeRequest' });

export type UnmergeRequest = z.infer<typeof UnmergeRequest>;

export const UnmergeResponse = z
  .object({
    mergeId: z.string(),
    customers: z.array(z.string()).meta({
      description: 'The customers its identifiers belong to now; one means other links still join them',
    }),
  })
  .meta({ id: 'UnmergeResponse' });
export type UnmergeResponse = z.infer<typeof UnmergeResponse>;
