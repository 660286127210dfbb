// Ids a client sends become DynamoDB keys, which have hard limits in UTF-8 bytes (2,048 for a
// partition key, 1,024 for a sort key): a store that gets a longer one fails the call, which a client
// would see as a 500. Each route bounds its ids in bytes, well below those limits, so an oversized id
// is a 400.
// Neutral module: domain schemas (customers, quarantine) use it, not only the HTTP edge.
import { z } from 'zod';

/**
 * A non-empty string of at most `maxBytes` UTF-8 bytes. The character bound (which the OpenAPI document
 * shows as maxLength) catches most; the byte bound catches multi-byte ids under it, with the same code.
 */
export const boundedId = (maxBytes: number) =>
  z
    .string()
    .min(1)
    .max(maxBytes)
    .superRefine((value, ctx) => {
      if (value.length <= maxBytes && Buffer.byteLength(value, 'utf8') > maxBytes) {
        ctx.addIssue({
          code: 'too_big',
          origin: 'string',
          maximum: maxBytes,
          inclusive: true,
          input: value,
          message: `must be at most ${maxBytes} bytes (UTF-8)`,
        });
      }
    });
