// Expected outcomes of use cases are values, not exceptions: a caller must handle "not found", "invalid",
// "unauthorized", "forbidden" and "conflict", so lib/ returns them; it throws only for surprises. The HTTP edge
// (lib/http/withHttp.ts) maps each reason to a status in one table.
import type { FieldIssue } from './ingest/spec.js';

export type Rejection =
  | { readonly ok: false; readonly reason: 'not_found'; readonly message: string }
  | {
      readonly ok: false;
      readonly reason: 'invalid';
      readonly message: string;
      readonly issues?: readonly FieldIssue[];
    }
  | { readonly ok: false; readonly reason: 'unauthorized'; readonly message: string }
  | { readonly ok: false; readonly reason: 'forbidden'; readonly message: string }
  | { readonly ok: false; readonly reason: 'conflict'; readonly message: string };

export type Outcome<T> = { readonly ok: true; readonly value: T } | Rejection;

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const notFound = (message: string): Rejection => ({ ok: false, reason: 'not_found', message });
export const invalid = (message: string, issues?: readonly FieldIssue[]): Rejection => ({
  ok: false,
  reason: 'invalid',
  message,
  issues,
});
/** No valid credentials (a missing, unknown or revoked key). */
export const unauthorized = (message: string): Rejection => ({ ok: false, reason: 'unauthorized', message });
/** Valid credentials that may not do this. */
export const forbidden = (message: string): Rejection => ({ ok: false, reason: 'forbidden', message });
export const conflict = (message: string): Rejection => ({ ok: false, reason: 'conflict', message });
