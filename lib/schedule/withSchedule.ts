// The one middleware stack of scheduled functions: Powertools logger context, then the job with its
// validated input. EventBridge (and serverless-offline) hand the rule's `input` to the function as the
// event; a malformed input fails loudly, so the rule's retries and alarms see it.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { z } from 'zod';
import { logger } from '../log.js';

export function withSchedule<I extends z.ZodType, R>(input: I, job: (input: z.infer<I>) => Promise<R>) {
  return middy<unknown, R>()
    .use(injectLambdaContext(logger(), { resetKeys: true }))
    .handler(async (event) => {
      const parsed = input.safeParse(event ?? {});
      if (!parsed.success) {
        throw new Error(
          `invalid schedule input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      return job(parsed.data);
    });
}
