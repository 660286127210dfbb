// List prices and the assumptions the cost benchmark prices its counts with (docs/cost.md).

// ---------------------------------------------------------------------------------------------------
// List prices, us-east-1, without free tiers (as of 2026; update here and in docs/cost.md).

export const PRICES = {
  region: 'us-east-1',
  apiRequest: { usd: 1.0 / 1e6, what: 'API Gateway HTTP API, per request (each 512 KB counts as one)' },
  lambdaRequest: { usd: 0.2 / 1e6, what: 'Lambda, per invocation' },
  lambdaGbSecondArm: { usd: 0.0000133334, what: 'Lambda arm64, per GB-second' },
  sqsRequest: { usd: 0.4 / 1e6, what: 'SQS standard, per request (each 64 KB chunk counts as one)' },
  dynamoWrite: { usd: 0.625 / 1e6, what: 'DynamoDB on-demand, per write request unit (1 KB)' },
  dynamoRead: { usd: 0.125 / 1e6, what: 'DynamoDB on-demand, per read request unit (4 KB consistent)' },
  dynamoStorage: { usd: 0.25, what: 'DynamoDB storage, per GB-month' },
  dynamoPitr: { usd: 0.2, what: 'DynamoDB point-in-time recovery, per GB-month' },
  s3Put: { usd: 0.005 / 1000, what: 'S3 Standard PUT, COPY, POST, LIST, per request' },
  s3Get: { usd: 0.0004 / 1000, what: 'S3 Standard GET, HEAD and others, per request' },
  s3Storage: { usd: 0.023, what: 'S3 Standard storage, per GB-month' },
  logsIngest: { usd: 0.5, what: 'CloudWatch Logs ingestion (Lambda logs), per GB' },
  logsStorage: { usd: 0.03, what: 'CloudWatch Logs storage, per GB-month (compressed)' },
  kmsKey: { usd: 1.0, what: 'KMS customer-managed key, per month' },
  kmsRequest: { usd: 0.03 / 10_000, what: 'KMS, per request' },
  secret: { usd: 0.4, what: 'Secrets Manager, per secret-month' },
  secretRequest: { usd: 0.05 / 10_000, what: 'Secrets Manager, per API call' },
  alarm: { usd: 0.1, what: 'CloudWatch alarm (standard resolution, one metric), per month' },
} as const;

/** Assumptions that no local run can measure; each is stated in docs/cost.md. */
export const ASSUMED = {
  /** START, END and REPORT lines Lambda writes per invocation (text format). */
  platformLogBytesPerInvocation: 300,
  /** An idle SQS event source mapping long-polls with 5 pollers, a 20 s receive each (3/min each). */
  idleReceivesPerQueueMonth: 5 * 3 * 60 * 24 * 30,
  /** Execution environments started per million events (each fetches the HMAC secret, makes a data key). */
  environmentStartsPerMillion: 100,
  /** DynamoDB's per-item storage overhead. */
  dynamoItemOverheadBytes: 100,
};

export const MB = 1024 * 1024;
export const GB = 1024 * MB;
