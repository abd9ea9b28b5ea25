import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request to the GP system. */
export type FaultAction =
  | { kind: 'pass' }
  /** Answer with this status (and OperationOutcome text), never reaching the server. */
  | { kind: 'status'; status: number; text?: string; retryAfter?: string }
  /** Never answer: the client's timeout is what ends it. */
  | { kind: 'hang' }
  /** Wait, then pass. */
  | { kind: 'delay'; ms: number }
  /** Pass to the server (which files it), then tell the client 503: the answer is lost on the way. */
  | { kind: 'lose-answer' };

export interface ProxiedRequest {
  at: number;
  /** When the client got its answer (or gave up). */
  doneAt?: number;
  body: string;
  action: FaultAction['kind'];
}

export interface FaultProxy {
  /** The FHIR base URL to give the worker: the server's own base, through the proxy. */
  url: string;
  requests: ProxiedRequest[];
  setRule(rule: (body: string) => FaultAction): void;
  close(): Promise<void>;
}

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/**
 * Stands between the record worker and the real local FHIR server and misbehaves on demand, the
 * way GP systems do: errors, silence, slowness, and answers lost after the work was done.
 */
export async function startFaultProxy(fhirBaseUrl: string): Promise<FaultProxy> {
  const target = new URL(fhirBaseUrl);
  let rule: (body: string) => FaultAction = () => ({ kind: 'pass' });
  const requests: ProxiedRequest[] = [];
  const hanging = new Set<IncomingMessage>();

  const forward = (request: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: target.host },
        },
        (response) => {
          void readBody(response).then(
            (answer) =>
              resolve({
                status: response.statusCode ?? 502,
                headers: { 'content-type': response.headers['content-type'] ?? 'application/fhir+json' },
                body: answer,
              }),
            reject,
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const action = rule(body.toString('utf8'));
      const record: ProxiedRequest = { at: Date.now(), body: body.toString('utf8'), action: action.kind };
      requests.push(record);
      response.once('close', () => (record.doneAt = Date.now()));
      const outcome = (text: string) =>
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'processing', details: { text } }],
        });
      switch (action.kind) {
        case 'status':
          response.writeHead(action.status, {
            'content-type': 'application/fhir+json',
            ...(action.retryAfter ? { 'retry-after': action.retryAfter } : {}),
          });
          response.end(outcome(action.text ?? `status ${action.status}`));
          return;
        case 'hang':
          hanging.add(request);
          request.once('close', () => hanging.delete(request));
          return;
        case 'delay':
          await new Promise((resolve) => setTimeout(resolve, action.ms));
          break;
        case 'lose-answer': {
          await forward(request, body);
          response.writeHead(503, { 'content-type': 'application/fhir+json' });
          response.end(outcome('the answer was lost'));
          return;
        }
        case 'pass':
          break;
      }
      const answer = await forward(request, body);
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    requests,
    setRule(next) {
      rule = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
