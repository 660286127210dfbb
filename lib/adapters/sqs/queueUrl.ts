// Queue URLs from names, looked up once per process (configuration holds names, which are the same
// in the cloud and on the local emulator; URLs are not).
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

const cache = new WeakMap<SQSClient, Map<string, Promise<string>>>();

export function queueUrl(client: SQSClient, name: string): Promise<string> {
  const byName = cache.get(client) ?? new Map<string, Promise<string>>();
  cache.set(client, byName);
  let url = byName.get(name);
  if (!url) {
    url = client.send(new GetQueueUrlCommand({ QueueName: name })).then((r) => {
      if (!r.QueueUrl) throw new Error(`queue ${name} has no URL`);
      return r.QueueUrl;
    });
    // A failed lookup is retried next time rather than cached.
    url.catch(() => byName.delete(name));
    byName.set(name, url);
  }
  return url;
}
