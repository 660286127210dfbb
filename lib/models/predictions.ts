// What the predictive models say about one buyer, as runs store it and the API shows it (zod: it is
// part of the segment assignment on the profile and in the members files).
import { z } from 'zod';
import { DAY_MS } from './purchases.js';
import { LIFECYCLE_STAGES } from './rhythm.js';

const Decline = z.object({
  kind: z.enum(['purchases', 'visits']),
  recent: z.number().meta({
    description: 'purchases: purchase days in the recent window; visits: days since the last visit',
  }),
  usual: z.number().meta({
    description: 'purchases: expected at their earlier rate; visits: their usual days between sessions',
  }),
});

export const Predictions = z
  .object({
    pAlive: z.number().min(0).max(1).nullable().meta({
      description: 'BG/NBD probability that the customer is still active (null when the model did not fit)',
    }),
    expectedPurchases: z.number().min(0).nullable().meta({
      description: "Purchase days expected in the run's horizon (its holdoutDays)",
    }),
    expectedOrderValue: z.number().min(0).nullable().meta({
      description:
        "Gamma-Gamma expected average order value: the customer's mean shrunk towards the population's",
    }),
    clv: z.number().min(0).nullable().meta({
      description: 'Discounted expected value over the run’s clvMonths (BG/NBD x Gamma-Gamma)',
    }),
    intervalDays: z.number().min(0).nullable().meta({
      description: "Expected days between the customer's purchases, shrunk towards the population's",
    }),
    nextPurchaseDue: z.iso.date().nullable().meta({
      description: 'The day the next purchase is due: the last one plus intervalDays (may be past)',
    }),
    overdue: z.number().min(0).meta({
      description:
        "Days since the last purchase over the customer's interval (the population's for one-time buyers)",
    }),
    churnRisk: z.number().min(0).max(1).nullable().meta({
      description: "Probability of no purchase in the run's horizon (the nightly logistic churn model)",
    }),
    declines: z.array(Decline).meta({
      description: "Activity below the customer's own baseline: purchase rate, visit rate",
    }),
    lifecycle: z.enum(LIFECYCLE_STAGES).meta({
      description: "Absolute stage from the customer's own rhythm and P(alive), never from their rank",
    }),
  })
  .meta({ id: 'CustomerPredictions' });
export type Predictions = z.infer<typeof Predictions>;

/** One recommended item (models/recommend.ts). */
export const RecommendationSchema = z
  .object({
    item: z.string().meta({ description: 'The product id' }),
    score: z
      .number()
      .meta({ description: 'Collaborative-filtering score (0: a best seller, for want of history)' }),
    because: z
      .string()
      .nullable()
      .meta({ description: "The customer's item that contributed most (null: a best seller)" }),
  })
  .meta({ id: 'Recommendation' });

/** The scores an audience condition can compare (campaigns/audience.ts). */
export const PREDICTION_SCORES = [
  'pAlive',
  'churnRisk',
  'clv',
  'expectedPurchases',
  'expectedOrderValue',
  'overdue',
  'daysUntilNextPurchase',
] as const;
export type PredictionScore = (typeof PREDICTION_SCORES)[number];

/** The scores of a buyer's predictions as of `now` (null where the model gave none). */
export function predictionScores(p: Predictions, now: number): Record<PredictionScore, number | null> {
  return {
    pAlive: p.pAlive,
    churnRisk: p.churnRisk,
    clv: p.clv,
    expectedPurchases: p.expectedPurchases,
    expectedOrderValue: p.expectedOrderValue,
    overdue: p.overdue,
    daysUntilNextPurchase:
      p.nextPurchaseDue === null
        ? null
        : Math.floor((Date.parse(`${p.nextPurchaseDue}T00:00:00Z`) - now) / DAY_MS) + 1,
  };
}
