// Undoing a merge from a customer's log (admin): the customer is found by any of its identifiers, the
// merge by its id in that customer's log; the identity graph then splits as its remaining links say.
import { type ResolveDeps, unmerge } from '../identity/resolve.js';
import { notFound, type Outcome, ok } from '../outcome.js';
import type { UnmergeResponse } from './api.js';
import { customerNamed, type LookupDeps } from './lookup.js';

export interface UnmergeDeps {
  readonly lookup: LookupDeps;
  readonly resolve: ResolveDeps;
}

export async function unmergeCustomer(
  request: { readonly id: string; readonly mergeId: string; readonly by: string },
  deps: UnmergeDeps,
): Promise<Outcome<UnmergeResponse>> {
  const found = await customerNamed(request.id, deps.lookup);
  if (!found.ok) return found;
  const { customerId } = found.value;
  const result = await unmerge(customerId, request.mergeId, request.by, deps.resolve);
  if (result === 'not_found')
    return notFound(`Customer ${customerId} has no merge ${request.mergeId} in its log.`);
  return ok({ mergeId: request.mergeId, customers: result.customers });
}
