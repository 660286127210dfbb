// The SES v2 emulator (aws-ses-v2-local) in a child process on 127.0.0.1: the functions send real
// SendEmail calls to it, and `GET <endpoint>/store` shows every e-mail with its headers (a web view at
// `/`). A child process, not in-process: the package keeps its store in module state and reports a
// taken port only through the server it returns. The child exits when its parent goes (its IPC channel
// closes), so a stack or test run that dies leaves no emulator behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { freePort } from './ports.js';

const HOST = '127.0.0.1';
/** Bounded wait for the first answer (a cold `node` start on a loaded 2-core machine takes seconds). */
const START_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

/**
 * Runs the package's server (argv: module, host, port) and says 'listening' to the parent; exits if it
 * cannot listen (a taken port) or the parent goes.
 */
const CHILD = `
const [modulePath, host, port] = process.argv.slice(1);
process.on('disconnect', () => process.exit(0));
require(modulePath).default({ host, port: Number(port) }).then((server) => {
  if (!server.listening) { console.error('cannot listen on ' + host + ':' + port); process.exit(3); }
  process.send('listening');
});`;

export interface SesEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts the emulator on `port` (0: a free one) and resolves once it answers its health check. */
export async function startSesEmulator(port = 0): Promise<SesEmulator> {
  const bound = port || (await freePort());
  const server = createRequire(import.meta.url).resolve('aws-ses-v2-local');
  const child = spawn(process.execPath, ['-e', CHILD, server, HOST, String(bound)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  // The channel is only the child's lifeline: it must not keep this process alive.
  child.unref();
  child.channel?.unref();
  const endpoint = `http://${HOST}:${bound}`;
  const stop = () => stopChild(child);
  try {
    await answering(endpoint, child);
    return { endpoint, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resolves once the child listens and answers its health check; rejects if it exits or takes too long. */
async function answering(endpoint: string, child: ChildProcess): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', (m) => (m === 'listening' ? resolve() : undefined));
      child.once('exit', (code) =>
        reject(new Error(`the SES emulator exited (code ${code}): ${stderr.trim()}`)),
      );
      timer = setTimeout(
        () =>
          reject(
            new Error(`the SES emulator did not listen at ${endpoint} within ${START_TIMEOUT_MS / 1000} s`),
          ),
        START_TIMEOUT_MS,
      );
    });
  } finally {
    clearTimeout(timer);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ok = await fetch(`${endpoint}/health-check`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the SES emulator at ${endpoint} does not answer`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    // Held while it stops, so that awaiting stop() keeps this process until the child is gone.
    child.ref();
    child.kill('SIGTERM');
  });
}
