// Reports (JSON documents) kept in the archive bucket under reports/, apart from the raw events.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ReportStore } from '../../imports/drop.js';

export function reportsBucket(client: S3Client, bucket: string): ReportStore {
  return {
    async putJson(key, value) {
      if (!key.startsWith('reports/')) throw new Error(`report key outside reports/: ${key}`);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: JSON.stringify(value, null, 2),
          ContentType: 'application/json',
        }),
      );
    },
  };
}
