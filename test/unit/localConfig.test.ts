// The local stack's port settings: defaults, 0 for a free port, and a bad value named in one line.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config.js';
import { localPorts } from '../../local/config.js';

describe('localPorts', () => {
  it('defaults to the documented ports', () => {
    expect(localPorts({})).toEqual({ http: 3000, lambda: 3002, dynamodb: 4567, s3: 4568, sqs: 4569 });
  });

  it('takes each PRECIS_LOCAL_*_PORT setting, 0 meaning any free port', () => {
    expect(localPorts({ PRECIS_LOCAL_HTTP_PORT: '8080', PRECIS_LOCAL_SQS_PORT: '0' })).toMatchObject({
      http: 8080,
      sqs: 0,
      s3: 4568,
    });
  });

  it('names a bad setting in one line', () => {
    for (const bad of ['http', '-1', '70000', '3000.5']) {
      const error = (() => {
        try {
          localPorts({ PRECIS_LOCAL_S3_PORT: bad });
        } catch (e) {
          return e;
        }
      })();
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^[^\n]*PRECIS_LOCAL_S3_PORT: must be a port number/);
    }
  });
});
