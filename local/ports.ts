// Ports of the local stack: a free one for servers that need a number up front (serverless-offline), and
// a port already taken reported in one line that says which setting moves it (no EADDRINUSE trace).
import { createServer } from 'node:net';
import { LOCAL_PORTS, type LocalPortName, type LocalPorts } from './config.js';

const HOST = '127.0.0.1';

export function freePort(): Promise<number> {
  return listenOnce(0);
}

/** A port of the local stack that something else holds. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly portName: LocalPortName,
  ) {
    const { what, setting } = LOCAL_PORTS[portName];
    super(
      `port ${port} (${what}) is already in use: stop what holds it, or set ${setting} to another port (0 picks a free one)`,
    );
  }
}

/** Throws a PortInUseError for the first of the stack's fixed ports that is taken (0s are skipped). */
export async function assertPortsFree(ports: Partial<LocalPorts>): Promise<void> {
  for (const [name, port] of Object.entries(ports) as [LocalPortName, number | undefined][]) {
    if (!port) continue;
    try {
      await listenOnce(port);
    } catch (error) {
      throw asPortError(error, port, name);
    }
  }
}

/** A listen error as a PortInUseError when the port was taken; any other error as it is. */
export function asPortError(error: unknown, port: number, name: LocalPortName): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EADDRINUSE' ? new PortInUseError(port, name) : error;
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, HOST, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}
