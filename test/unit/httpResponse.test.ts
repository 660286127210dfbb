// The one conversion of errors into responses (lib/http/response.ts): use cases in lib/ throw no HTTP
// errors, so the edge owns what each surprise means to a client.
import { describe, expect, it } from 'vitest';
import { badRequest, StorageUnavailable } from '../../lib/errors.js';
import { errorResponse } from '../../lib/http/response.js';

const bodyOf = (r: { body?: string }) => JSON.parse(r.body ?? '{}') as Record<string, unknown>;

describe('errorResponse', () => {
  it('answers a storage failure 503 with retry-after and the message written for clients', () => {
    const cause = new Error('SQS: ServiceUnavailable');
    const res = errorResponse(
      new StorageUnavailable('Events could not be stored; retry the request.', { cause }),
      'r-1',
    );
    expect(res.statusCode).toBe(503);
    expect(res.headers).toMatchObject({ 'retry-after': '5' });
    expect(bodyOf(res)).toEqual({
      error: 'unavailable',
      message: 'Events could not be stored; retry the request.',
      requestId: 'r-1',
    });
    expect(res.body).not.toContain('SQS');
  });

  it('keeps HttpErrors as they are and hides anything else behind a 500', () => {
    expect(errorResponse(badRequest('no', [{ path: 'a', code: 'b', message: 'c' }]), 'r-2').statusCode).toBe(
      400,
    );
    const res = errorResponse(new Error('secret detail'), 'r-3');
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret detail');
  });
});
