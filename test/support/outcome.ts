// Reading lib/'s outcomes in tests: the value when one is expected, the rejection when one is expected;
// anything else fails the test with what came instead.
import type { Outcome, Rejection } from '../../lib/outcome.js';

export async function expectValue<T>(outcome: Promise<Outcome<T>>): Promise<T> {
  const answer = await outcome;
  if (!answer.ok) throw new Error(`expected a value, got ${answer.reason}: ${answer.message}`);
  return answer.value;
}

export async function expectRejection(outcome: Promise<Outcome<unknown>>): Promise<Rejection> {
  const answer = await outcome;
  if (answer.ok) throw new Error(`expected a rejection, got the value ${JSON.stringify(answer.value)}`);
  return answer;
}
