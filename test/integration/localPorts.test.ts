// A port of the local stack that something else holds: `npm start` says in one line which port and which
// setting moves it, instead of an EADDRINUSE trace; the emulators report it the same way.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulators } from '../../local/emulators.js';
import { PortInUseError } from '../../local/ports.js';
import { PROJECT_ROOT } from '../../local/service.js';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A port this test holds, as another program would. */
async function takenPort(): Promise<number> {
  const server = createServer();
  held.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return address.port;
}

describe('a local port already in use', () => {
  it('makes npm start print one line naming the port and its setting, and exit 1', async () => {
    const port = await takenPort();
    const started = promisify(execFile)(
      process.execPath,
      [join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(PROJECT_ROOT, 'cli', 'start.ts')],
      {
        cwd: PROJECT_ROOT,
        // Only the emulator's port is taken; the others are free ones, so nothing else can collide.
        env: {
          PRECIS_LOCAL_HTTP_PORT: '0',
          PRECIS_LOCAL_LAMBDA_PORT: '0',
          PRECIS_LOCAL_DYNAMODB_PORT: '0',
          PRECIS_LOCAL_S3_PORT: '0',
          PRECIS_LOCAL_SQS_PORT: String(port),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        timeout: 45_000,
        killSignal: 'SIGKILL',
      },
    );
    const failed = await started.then(
      () => undefined,
      (error: { code?: unknown; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    const lines = (failed?.stderr ?? '').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`port ${port}`);
    expect(lines[0]).toContain('PRECIS_LOCAL_SQS_PORT');
  });

  it('makes the emulators reject with the port and its setting, and release the ports they took', async () => {
    const port = await takenPort();
    const error = await startEmulators({ dynamodb: 0, s3: 0, sqs: port }, 'eu-west-1').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as PortInUseError).message).toContain(`port ${port} (the SQS emulator)`);
    expect((error as PortInUseError).message).toContain('PRECIS_LOCAL_SQS_PORT');
  });
});
