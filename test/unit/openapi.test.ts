// The OpenAPI document: every route the API serves, its security schemes, and no dangling $ref.
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../lib/ingest/spec.js';
import { openApiDocument } from '../../lib/openapi.js';

const doc = openApiDocument();

/** Every `$ref` value anywhere in the document, with where it was found. */
function refsIn(node: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(node)) return node.flatMap((child, i) => refsIn(child, `${at}/${i}`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' ? [{ ref: value, at }] : refsIn(value, `${at}/${key}`),
  );
}

/** Follows a local JSON pointer (#/a/b) through the document. */
function resolve(pointer: string): unknown {
  if (!pointer.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

describe('openApiDocument', () => {
  it('is an OpenAPI 3.1 document', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
  });

  it('has a POST for every Segment call, batch and import, secured by the write key', () => {
    for (const path of [...EVENT_TYPES.map((t) => `/v1/${t}`), '/v1/batch', '/v1/import']) {
      const post = doc.paths?.[path]?.post;
      expect(post, path).toBeDefined();
      expect(post?.security).toEqual([{ writeKey: [] }]);
      expect(post?.requestBody, path).toBeDefined();
      expect(Object.keys(post?.responses ?? {})).toEqual(
        expect.arrayContaining(['200', '400', '401', '413']),
      );
    }
  });

  it('has the quarantine routes, secured by the read/admin key scheme', () => {
    const routes = [
      ['/v1/quarantine', 'get'],
      ['/v1/quarantine/{id}', 'get'],
      ['/v1/quarantine/{id}/replay', 'post'],
    ] as const;
    for (const [path, method] of routes) {
      const op = doc.paths?.[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.security).toEqual([{ apiKey: [] }]);
    }
  });

  it('declares the security schemes it uses: Basic for write keys, Bearer for the others', () => {
    expect(doc.components?.securitySchemes).toMatchObject({
      writeKey: { type: 'http', scheme: 'basic' },
      apiKey: { type: 'http', scheme: 'bearer' },
    });
    const used = new Set(
      Object.values(doc.paths ?? {}).flatMap((item) =>
        Object.values(item ?? {}).flatMap((op) =>
          op && typeof op === 'object' && 'security' in op
            ? (op.security as Record<string, unknown>[]).flatMap((s) => Object.keys(s))
            : [],
        ),
      ),
    );
    for (const scheme of used) expect(doc.components?.securitySchemes?.[scheme], scheme).toBeDefined();
  });

  it('bounds every path parameter (ids become DynamoDB keys) and validates it as the handler does', () => {
    const params = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.values(item ?? {}).flatMap((op) =>
        op && typeof op === 'object' && 'parameters' in op
          ? (op.parameters as { in: string; name: string; schema?: Record<string, unknown> }[])
              .filter((p) => p.in === 'path')
              .map((p) => ({ at: `${path} ${p.name}`, schema: p.schema ?? {} }))
          : [],
      ),
    );
    expect(params.length).toBeGreaterThanOrEqual(8);
    for (const { at, schema } of params) {
      const bounded =
        Array.isArray(schema.enum) || (typeof schema.maxLength === 'number' && schema.maxLength <= 1100);
      expect(bounded, at).toBe(true);
    }
  });

  it('resolves every $ref to a schema that exists', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(10);
    const dangling = refs.filter(({ ref }) => resolve(ref) === undefined);
    expect(dangling).toEqual([]);
  });

  it('documents the error body and the field issue that rejections are made of', () => {
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(
      expect.arrayContaining([
        'Error',
        'FieldIssue',
        'Rejection',
        'IngestResponse',
        'TrackEvent',
        'AliasEvent',
      ]),
    );
  });
});
