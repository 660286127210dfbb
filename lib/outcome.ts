// Expected outcomes of use cases are values, not exceptions: a caller must handle "not found", "invalid",
// "unauthorized", "forbidden", "conflict" and "unsupported media type", so lib/ returns them; it throws only for surprises. The HTTP edge
// (lib/http/withHttp.ts) maps each reason to a status in one table.
import type { FieldIssue } from './ingest/spec.js';

export type Rejection =
  | { readonly ok: false; readonly reason: 'not_found'; readonly message: string }
  | {
      readonly ok: false;
      readonly reason: 'invalid';
      readonly message: string;
      readonly issues?: readonly FieldIssue[];
      /** A more precise error code than `bad_request` (e.g. `nothing_imported`), with what it refers to. */
      readonly code?: string;
      readonly details?: unknown;
    }
  | { readonly ok: false; readonly reason: 'unsupported_media_type'; readonly message: string }
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
/** Invalid, with its own error code and the document it refers to (e.g. an import report). */
export const invalidWith = (code: string, message: string, details: unknown): Rejection => ({
  ok: false,
  reason: 'invalid',
  message,
  code,
  details,
});
/** A body in a format the route does not take. */
export const unsupportedMediaType = (message: string): Rejection => ({
  ok: false,
  reason: 'unsupported_media_type',
  message,
});
/** No valid credentials (a missing, unknown or revoked key). */
export const unauthorized = (message: string): Rejection => ({ ok: false, reason: 'unauthorized', message });
/** Valid credentials that may not do this. */
export const forbidden = (message: string): Rejection => ({ ok: false, reason: 'forbidden', message });
export const conflict = (message: string): Rejection => ({ ok: false, reason: 'conflict', message });
