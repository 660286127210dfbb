// One AWS client per service, created once per process with explicit timeouts. Adapters take a client
// as a parameter that defaults to these, so tests can hand in another (or a fault-injecting mock).
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Config, config } from '../config.js';

/** s3rver accepts only its own key pair; the other emulators accept anything. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const requestHandler = { connectionTimeout: 2_000, requestTimeout: 10_000 };

function common(c: Config, endpoint: string | undefined) {
  return {
    region: c.region,
    requestHandler,
    maxAttempts: 4,
    ...(endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {}),
  };
}

export function createDynamoDbClient(c: Config = config()): DynamoDBClient {
  return new DynamoDBClient(common(c, c.endpoints.dynamodb));
}

export function createDynamoDb(c: Config = config()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(createDynamoDbClient(c), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createS3(c: Config = config()): S3Client {
  return new S3Client({
    ...common(c, c.endpoints.s3),
    // Without these, s3rver stores streamed uploads with their chunk framing inside (TOOLCHAIN.md).
    ...(c.endpoints.s3
      ? {
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

export function createSqs(c: Config = config()): SQSClient {
  return new SQSClient(common(c, c.endpoints.sqs));
}

/** SES v2: locally the aws-ses-v2-local emulator (local/ses.ts). */
export function createSesV2(c: Config = config()): SESv2Client {
  return new SESv2Client(common(c, c.endpoints.ses));
}

/** AWS End User Messaging SMS: no emulator (locally SMS goes to the outbox). */
export function createSmsVoice(c: Config = config()): PinpointSMSVoiceV2Client {
  return new PinpointSMSVoiceV2Client(common(c, undefined));
}

/** Amazon SNS mobile push: no emulator (locally push goes to the outbox). */
export function createSns(c: Config = config()): SNSClient {
  return new SNSClient(common(c, undefined));
}

/** No emulator exists for KMS and Secrets Manager: locally, PII keys come from the environment instead. */
export function createKms(c: Config = config()): KMSClient {
  return new KMSClient(common(c, undefined));
}

export function createSecretsManager(c: Config = config()): SecretsManagerClient {
  return new SecretsManagerClient(common(c, undefined));
}

/** No emulator for Athena either: locally, history SQL runs on DuckDB. */
export function createAthena(c: Config = config()): AthenaClient {
  return new AthenaClient(common(c, undefined));
}

let clients: {
  dynamodb?: DynamoDBDocumentClient;
  s3?: S3Client;
  sqs?: SQSClient;
  kms?: KMSClient;
  secretsManager?: SecretsManagerClient;
  sesv2?: SESv2Client;
  sms?: PinpointSMSVoiceV2Client;
  sns?: SNSClient;
  athena?: AthenaClient;
} = {};

/** The shared clients by service, as a hook sees them. */
export type SharedClient =
  | { readonly service: 'dynamodb'; readonly client: DynamoDBDocumentClient }
  | { readonly service: 's3'; readonly client: S3Client }
  | { readonly service: 'sqs'; readonly client: SQSClient }
  | { readonly service: 'kms'; readonly client: KMSClient }
  | { readonly service: 'secretsManager'; readonly client: SecretsManagerClient }
  | { readonly service: 'sesv2'; readonly client: SESv2Client }
  | { readonly service: 'sms'; readonly client: PinpointSMSVoiceV2Client }
  | { readonly service: 'sns'; readonly client: SNSClient }
  | { readonly service: 'athena'; readonly client: AthenaClient };

const hooks: ((shared: SharedClient) => void)[] = [];

/**
 * Calls `hook` on each shared client when it is made (and on those already made), so that a tool can add
 * middleware to exactly the clients the functions use: bench/cost.ts counts every AWS call and its bytes
 * this way. Never used by the functions themselves; factories' other clients are left alone.
 */
export function hookSharedClients(hook: (shared: SharedClient) => void): void {
  hooks.push(hook);
  if (clients.dynamodb) hook({ service: 'dynamodb', client: clients.dynamodb });
  if (clients.s3) hook({ service: 's3', client: clients.s3 });
  if (clients.sqs) hook({ service: 'sqs', client: clients.sqs });
  if (clients.kms) hook({ service: 'kms', client: clients.kms });
  if (clients.secretsManager) hook({ service: 'secretsManager', client: clients.secretsManager });
  if (clients.sesv2) hook({ service: 'sesv2', client: clients.sesv2 });
  if (clients.sms) hook({ service: 'sms', client: clients.sms });
  if (clients.sns) hook({ service: 'sns', client: clients.sns });
  if (clients.athena) hook({ service: 'athena', client: clients.athena });
}

function hooked<S extends SharedClient>(shared: S): S['client'] {
  for (const hook of hooks) hook(shared);
  return shared.client;
}

export const dynamodb = (): DynamoDBDocumentClient => {
  clients.dynamodb ??= hooked({ service: 'dynamodb', client: createDynamoDb() });
  return clients.dynamodb;
};
export const s3 = (): S3Client => {
  clients.s3 ??= hooked({ service: 's3', client: createS3() });
  return clients.s3;
};
export const sqs = (): SQSClient => {
  clients.sqs ??= hooked({ service: 'sqs', client: createSqs() });
  return clients.sqs;
};
export const kms = (): KMSClient => {
  clients.kms ??= hooked({ service: 'kms', client: createKms() });
  return clients.kms;
};
export const secretsManager = (): SecretsManagerClient => {
  clients.secretsManager ??= hooked({ service: 'secretsManager', client: createSecretsManager() });
  return clients.secretsManager;
};
export const sesv2 = (): SESv2Client => {
  clients.sesv2 ??= hooked({ service: 'sesv2', client: createSesV2() });
  return clients.sesv2;
};
export const smsVoice = (): PinpointSMSVoiceV2Client => {
  clients.sms ??= hooked({ service: 'sms', client: createSmsVoice() });
  return clients.sms;
};
export const sns = (): SNSClient => {
  clients.sns ??= hooked({ service: 'sns', client: createSns() });
  return clients.sns;
};

export const athena = (): AthenaClient => {
  clients.athena ??= hooked({ service: 'athena', client: createAthena() });
  return clients.athena;
};

/** For CLIs that point at another environment mid-process. */
export function resetClients(): void {
  clients = {};
}
