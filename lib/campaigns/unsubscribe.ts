// One-click unsubscribe (RFC 8058) behind the signed link of every message: GET shows a page with a
// confirm button and changes nothing (mail scanners and link previews follow links); POST with the body
// `List-Unsubscribe=One-Click` — what mailbox providers send for the List-Unsubscribe-Post header, and what
// the page's buttons send — records the unsubscribe, source `unsubscribe-link`. No key, no cookie: the
// token is the authority. Answering 200 again for an unsubscribed customer keeps the POST idempotent.
import { z } from 'zod';
import { findCustomer, type LookupDeps } from '../customers/lookup.js';
import { invalid, type Outcome, ok } from '../outcome.js';
import type { ConsentRecord, ConsentStore } from './consent.js';
import { type UnsubscribeClaims, verifyUnsubscribeToken } from './unsubscribeToken.js';

export interface UnsubscribeDeps {
  readonly store: Pick<ConsentStore, 'putConsent' | 'putUnsubscribe'>;
  readonly lookup: LookupDeps;
  /** The stage's HMAC secret (lib/pii/hmac.ts); the token key is derived from it. */
  readonly secret: () => Promise<string>;
  readonly now: () => number;
}

export const UnsubscribeQuery = z.object({
  token: z.string().min(1).max(2000).meta({ description: 'The signed token of the link' }),
});

/** RFC 8058's one-click body; `scope=channel` (the page's second button) stops only the link's channel. */
const ONE_CLICK = 'One-Click';

export type UnsubscribeScope = 'all' | 'channel';

export interface Unsubscribed {
  readonly customerId: string;
  readonly scope: UnsubscribeScope;
  readonly channel: UnsubscribeClaims['channel'];
  /** false: an unsubscribe at least as recent was already recorded (still a success). */
  readonly applied: boolean;
}

/** A page for people: status, and the HTML. */
export interface Page {
  readonly status: number;
  readonly html: string;
}

const CHANNEL_NAMES = { email: 'e-mails', sms: 'text messages', push: 'notifications', webhook: 'messages' };

const htmlEscape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>${htmlEscape(title)}</title></head>`,
    `<body><main><h1>${htmlEscape(title)}</h1>${body}</main></body></html>`,
  ].join('\n');
}

/** GET: the confirm page (or why the link does not work). Changes nothing. */
export async function unsubscribePage(token: string, deps: UnsubscribeDeps): Promise<Page> {
  const claims = verifyUnsubscribeToken(token, await deps.secret(), deps.now());
  if (!claims.ok) {
    return { status: 400, html: page('This link does not work', `<p>${htmlEscape(claims.message)}</p>`) };
  }
  const action = `?token=${encodeURIComponent(token)}`;
  const button = (label: string, scope?: UnsubscribeScope) =>
    `<form method="post" action="${htmlEscape(action)}">` +
    `<input type="hidden" name="List-Unsubscribe" value="${ONE_CLICK}">` +
    (scope ? `<input type="hidden" name="scope" value="${scope}">` : '') +
    `<button type="submit">${htmlEscape(label)}</button></form>`;
  const channel = CHANNEL_NAMES[claims.value.channel];
  return {
    status: 200,
    html: page(
      'Unsubscribe',
      '<p>Do you want to stop receiving marketing messages from us?</p>' +
        button('Unsubscribe from all marketing') +
        button(`Only stop marketing ${channel}`, 'channel'),
    ),
  };
}

/** The form fields of a POST body (application/x-www-form-urlencoded). */
function formOf(body: string): URLSearchParams {
  return new URLSearchParams(body);
}

/** POST: records the unsubscribe the token names; idempotent. */
export async function unsubscribe(
  token: string,
  body: string,
  deps: UnsubscribeDeps,
): Promise<Outcome<Unsubscribed>> {
  const now = deps.now();
  const claims = verifyUnsubscribeToken(token, await deps.secret(), now);
  if (!claims.ok) return claims;
  const form = formOf(body);
  if (form.get('List-Unsubscribe') !== ONE_CLICK) {
    return invalid('Send the form body List-Unsubscribe=One-Click (RFC 8058).', [
      { path: 'body', code: 'not_one_click', message: 'must be List-Unsubscribe=One-Click' },
    ]);
  }
  const scope: UnsubscribeScope = form.get('scope') === 'channel' ? 'channel' : 'all';
  // The customer may have been merged into another since the message was sent: follow it.
  const customerId =
    (await findCustomer(claims.value.customerId, deps.lookup))?.customerId ?? claims.value.customerId;
  const record: ConsentRecord = {
    status: 'revoked',
    source: 'unsubscribe-link',
    at: new Date(now).toISOString(),
  };
  const { channel } = claims.value;
  const written =
    scope === 'all'
      ? await deps.store.putUnsubscribe(customerId, record)
      : await deps.store.putConsent(customerId, { purpose: 'marketing', channel, ...record });
  return ok({ customerId, scope, channel, applied: written.applied });
}

/** The page a person sees after the POST. */
export function unsubscribedPage(done: Unsubscribed): Page {
  const what = done.scope === 'all' ? 'any marketing messages' : `marketing ${CHANNEL_NAMES[done.channel]}`;
  return {
    status: 200,
    html: page('You are unsubscribed', `<p>You will not receive ${htmlEscape(what)} from us any more.</p>`),
  };
}
