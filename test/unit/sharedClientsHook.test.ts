// hookSharedClients: a tool's middleware reaches exactly the clients the functions use (bench/cost.ts
// counts every AWS call this way), whether they were made before or after it registered.
import { describe, expect, it } from 'vitest';
import { createS3, dynamodb, hookSharedClients, type SharedClient, s3 } from '../../lib/aws/clients.js';

describe('hookSharedClients', () => {
  it('sees each shared client once, made before or after it registered, and no other client', () => {
    const early = s3();
    const seen: SharedClient[] = [];
    hookSharedClients((shared) => seen.push(shared));
    expect(seen).toEqual([{ service: 's3', client: early }]);

    const db = dynamodb();
    expect(dynamodb()).toBe(db);
    createS3();
    expect(seen.map((c) => c.service)).toEqual(['s3', 'dynamodb']);
    expect(seen[1]?.client).toBe(db);
  });
});
