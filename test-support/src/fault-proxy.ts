import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
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

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends the request on to the FHIR server at `target` and reads its whole answer. */
function forward(target: URL, request: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
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
}

const operationOutcome = (text: string) =>
  JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'processing', details: { text } }],
  });

/** Does with one request what `action` says: answers in the GP system's place, or passes it on. */
async function act(
  action: FaultAction,
  target: URL,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
): Promise<void> {
  switch (action.kind) {
    case 'status':
      response.writeHead(action.status, {
        'content-type': 'application/fhir+json',
        ...(action.retryAfter ? { 'retry-after': action.retryAfter } : {}),
      });
      response.end(operationOutcome(action.text ?? `status ${action.status}`));
      return;
    case 'hang':
      // never answered: the client's timeout ends it, or `close()` does
      return;
    case 'delay':
      await new Promise((resolve) => setTimeout(resolve, action.ms));
      break;
    case 'lose-answer': {
      await forward(target, request, body);
      response.writeHead(503, { 'content-type': 'application/fhir+json' });
      response.end(operationOutcome('the answer was lost'));
      return;
    }
    case 'pass':
      break;
  }
  const answer = await forward(target, request, body);
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
}

/**
 * Stands between the record worker and the real local FHIR server and misbehaves on demand, the
 * way GP systems do: errors, silence, slowness, and answers lost after the work was done.
 */
export async function startFaultProxy(fhirBaseUrl: string): Promise<FaultProxy> {
  const target = new URL(fhirBaseUrl);
  let rule: (body: string) => FaultAction = () => ({ kind: 'pass' });
  const requests: ProxiedRequest[] = [];

  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const action = rule(body.toString('utf8'));
      const record: ProxiedRequest = { at: Date.now(), body: body.toString('utf8'), action: action.kind };
      requests.push(record);
      response.once('close', () => (record.doneAt = Date.now()));
      await act(action, target, request, body, response);
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
