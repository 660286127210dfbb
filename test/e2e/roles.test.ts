// Every route of serverless.yml, called with no key, a write key, a read key and an admin key: each is
// refused (401/403) or let through exactly as its role says. A route added without a line in ROLES fails
// here, so nobody ships an endpoint whose access nobody decided.
import { describe, expect, inject, it } from 'vitest';
import type { Role } from '../../lib/auth/apiKeys.js';
import { loadServiceDefinition } from '../../local/service.js';

/** The role each route needs; 'public' needs no key. */
const ROLES: Record<string, Role | 'public'> = {
  'GET /openapi.json': 'public',
  'GET /v1/quarantine': 'admin',
  'GET /v1/quarantine/{id}': 'admin',
  'POST /v1/quarantine/{id}/replay': 'admin',
  'GET /v1/outbox': 'admin',
  'GET /v1/customers/{id}': 'read',
  'GET /v1/customers/{id}/events': 'read',
  'GET /v1/customers/{id}/identities': 'read',
  'GET /v1/customers/{id}/recommendations': 'read',
  'POST /v1/customers/{id}/unmerge': 'admin',
  'POST /v1/imports': 'write',
  'POST /v1/segmentation/runs': 'admin',
  'GET /v1/segmentation/runs': 'read',
  'GET /v1/segmentation/runs/{id}': 'read',
  'GET /v1/segments': 'read',
  'GET /v1/segments/{id}/members': 'read',
  'GET /v1/customers/{id}/consent': 'read',
  // Consent from the POS or CRM where the customer chose: their sources hold write keys.
  'PUT /v1/customers/{id}/consent': 'write',
  'GET /v1/customers/{id}/decisions': 'read',
  'GET /v1/campaigns/{id}/decisions': 'read',
  // The signed token in the link is the authority: no key, no cookie (RFC 8058).
  'GET /v1/unsubscribe': 'public',
  'POST /v1/unsubscribe': 'public',
  'GET /v1/campaigns': 'read',
  'POST /v1/campaigns': 'admin',
  'GET /v1/campaigns/{id}': 'read',
  'PUT /v1/campaigns/{id}': 'admin',
  'DELETE /v1/campaigns/{id}': 'admin',
  'POST /v1/campaigns/{id}/enable': 'admin',
  'POST /v1/campaigns/{id}/disable': 'admin',
  'GET /v1/campaigns/{id}/report': 'read',
  'POST /v1/campaigns/{id}/backtest': 'admin',
  'GET /v1/tags': 'read',
  'GET /v1/tags/{id}': 'read',
  'PUT /v1/tags/{id}': 'admin',
  'DELETE /v1/tags/{id}': 'admin',
  'GET /v1/tags/{id}/customers': 'read',
};
const INGEST = /^POST \/v1\/(track|identify|page|screen|group|alias|batch|import|[tipsgab])$/;
/** Browsers' CORS preflights of the ingestion routes carry no credentials, so they need no key. */
const PREFLIGHT = /^OPTIONS \/v1\/(track|identify|page|screen|group|alias|batch|import|[tipsgab])$/;
const roleOf = (route: string): Role | 'public' | undefined =>
  ROLES[route] ?? (INGEST.test(route) ? 'write' : PREFLIGHT.test(route) ? 'public' : undefined);

const keys = () =>
  ({
    none: undefined,
    write: inject('writeKey'),
    read: inject('readKey'),
    admin: inject('adminKey'),
  }) as const;

/** What each kind of caller must get: refused with which status, or let through. */
function expected(required: Role | 'public', caller: keyof ReturnType<typeof keys>): 401 | 403 | 'through' {
  if (required === 'public') return 'through';
  if (caller === 'none') return 401;
  if (caller === 'admin' || caller === required) return 'through';
  return 403;
}

describe('role-based keys on every route', async () => {
  const def = await loadServiceDefinition('local');
  const routes = Object.values(def.functions).flatMap((fn) =>
    fn.events.flatMap((e) => {
      const http = e.httpApi as { method?: string; path?: string } | undefined;
      return http?.method && http.path ? [`${http.method.toUpperCase()} ${http.path}`] : [];
    }),
  );

  it('has a decided role for every route serverless.yml declares', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect(routes.filter((r) => roleOf(r) === undefined)).toEqual([]);
  });

  it.each(routes)('%s', async (route) => {
    const [method = 'GET', template = '/'] = route.split(' ');
    const path = template.replace('{id}', 'role-check');
    const required = roleOf(route) ?? 'admin';
    for (const [caller, key] of Object.entries(keys()) as [
      keyof ReturnType<typeof keys>,
      string | undefined,
    ][]) {
      const res = await fetch(`${inject('httpUrl')}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: method === 'POST' ? JSON.stringify({ userId: 'role-check', event: 'Role Checked' }) : undefined,
      });
      const want = expected(required, caller);
      if (want === 'through') expect([401, 403], `${caller} on ${route}`).not.toContain(res.status);
      else expect(res.status, `${caller} on ${route}`).toBe(want);
    }
  });
});
