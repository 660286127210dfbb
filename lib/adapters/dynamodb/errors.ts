// DynamoDB outcomes that are answers, not failures.

/** A ConditionExpression did not hold: the write was refused as designed. */
export function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
