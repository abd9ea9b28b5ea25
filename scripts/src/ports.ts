import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export interface PortClaim {
  port: number;
  what: string;
  setting: string;
  udp?: boolean;
}

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/**
 * Fails fast, naming the port and what wanted it, when something already listens there: a second
 * `npm start` must say so instead of hanging or half-starting.
 */
export async function assertPortsFree(claims: readonly PortClaim[], host = '127.0.0.1'): Promise<void> {
  const busy: string[] = [];
  for (const claim of claims) {
    const free = (await tcpFree(claim.port, host)) && (!claim.udp || (await udpFree(claim.port, host)));
    if (!free)
      busy.push(`port ${claim.port} (${claim.what}) is already in use; set ${claim.setting} to use another`);
  }
  if (busy.length > 0) {
    throw new Error(
      `cannot start: ${busy.join('; ')}.\nIs another \`npm start\` already running? Stop it first (Ctrl-C in its terminal).`,
    );
  }
}

/** A free TCP port chosen by the kernel, for tests. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
