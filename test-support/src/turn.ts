import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ensureTurnCertificate,
  startTurnServer as startCoturn,
  type TurnServer,
} from '../../scripts/src/turn';
import type { TestLifetime } from './lifetime';
import { freePort } from './services';

export interface TestTurnServer {
  /** The relay's URLs: `udp` and `tcp` on one port, `tls` (turns:) on another. */
  urls: { udp: string; tcp: string; tls: string };
  /** What a call node is given (`startCallNode({ turn })`): all three URLs and the shared secret. */
  turn: { urls: string[]; secret: string; credentialSeconds: number };
}

/**
 * A coturn of the test's own on free ports, with a fresh shared secret and a self-signed
 * certificate (Chromium needs --ignore-certificate-errors for TURN over TLS), stopped when `t` ends.
 */
export async function startTurnServer(t: TestLifetime): Promise<TestTurnServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gpc-turn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certificate = await ensureTurnCertificate(dir);
  const secret = randomBytes(24).toString('base64url');
  let server: TurnServer | undefined;
  // a port found free can be taken before coturn binds it: try other ports then
  for (let attempt = 1; !server; attempt++) {
    const relayMinPort = randomInt(50_000, 60_000);
    try {
      server = await startCoturn({
        host: '127.0.0.1',
        port: await freePort(),
        tlsPort: await freePort(),
        relayMinPort,
        relayMaxPort: relayMinPort + 50,
        secret,
        configFile: path.join(dir, 'turnserver.conf'),
        ...certificate,
      });
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
  const started = server;
  t.after(() => started.stop());
  const [udp, tcp, tls] = started.urls;
  return { urls: { udp, tcp, tls }, turn: { urls: [...started.urls], secret, credentialSeconds: 600 } };
}
