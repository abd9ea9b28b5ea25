import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboundPolicy } from '@gpc/outbound';

/**
 * The outbound policy of tests and `npm start`: the local stand-ins (FHIR server, token endpoint,
 * Notify, mail relay) listen on 127.0.0.1 over plain http, which production refuses. Private,
 * link-local and metadata addresses are refused here too.
 */
export const localOutbound: OutboundPolicy = Object.freeze({ allowLoopbackHttp: true });

/** One request a stand-in received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An answer a recording server gives. */
export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** The HTTP reason phrase, e.g. to check a far side's words never reach staff. */
  statusText?: string;
}

export interface RecordingServer {
  /** `http://127.0.0.1:port`. */
  origin: string;
  port: number;
  /** Every request, in order. */
  received: ReceivedRequest[];
  /** TCP connections accepted: a refused attempt must leave this unchanged. */
  connections(): number;
  answerWith(answer: (request: ReceivedRequest) => CannedAnswer): void;
  close(): Promise<void>;
}

/**
 * A server on 127.0.0.1 that records what reaches it and answers as told: the place an attacking
 * practice admin points a setting at (to capture a token), or one that redirects or leaks.
 */
export async function startRecordingServer(
  answer: (request: ReceivedRequest) => CannedAnswer = () => ({ status: 404 }),
): Promise<RecordingServer> {
  const received: ReceivedRequest[] = [];
  let connections = 0;
  let respond = answer;
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const seen = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(seen);
      const reply = respond(seen);
      response.writeHead(reply.status, reply.statusText ?? '', reply.headers ?? {});
      response.end(reply.body ?? '');
    })();
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    received,
    connections: () => connections,
    answerWith(next) {
      respond = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TokenEndpoint {
  /** The token URL (OAuth 2.0 client credentials, client authenticated with HTTP Basic). */
  url: string;
  /** The tokens issued, to whom. */
  issued: { clientId: string; token: string }[];
  /** Requests refused for wrong or missing client credentials. */
  refused(): number;
  close(): Promise<void>;
}

/**
 * A GP system's OAuth token endpoint (RFC 6749 §4.4, client_secret_basic): a fresh bearer token
 * for a registered client's id and secret, 401 `invalid_client` for anything else.
 */
export async function startTokenEndpoint(clients: Record<string, string>): Promise<TokenEndpoint> {
  const issued: { clientId: string; token: string }[] = [];
  let refused = 0;
  const server = await startRecordingServer((request) => {
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const [id, secret] = Buffer.from(basic ?? '', 'base64')
      .toString()
      .split(':')
      .map((part) => decodeURIComponent(part));
    const grant = new URLSearchParams(request.body).get('grant_type');
    if (request.method !== 'POST' || grant !== 'client_credentials' || !id || clients[id] !== secret) {
      refused++;
      return {
        status: 401,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'invalid_client' }),
      };
    }
    const token = `token-for-${id}-${randomBytes(12).toString('hex')}`;
    issued.push({ clientId: id, token });
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 300 }),
    };
  });
  return {
    url: `${server.origin}/oauth2/token`,
    issued,
    refused: () => refused,
    close: () => server.close(),
  };
}
