import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NotifyCall {
  kind: 'email' | 'sms';
  templateId: string;
  to: string;
  personalisation: Record<string, string>;
  reference: string;
  /** The issuer in the client's bearer token: the service id from the API key. */
  serviceId: string;
}

export interface NotifyStandIn {
  baseUrl: string;
  calls: NotifyCall[];
  /** The next sends are answered with this status and error message instead of being accepted. */
  refuseNext(status: number, message: string): void;
  /** What GET /v2/notifications/:id answers from now on for every notification. */
  setStatus(status: string): void;
  close(): Promise<void>;
}

const body = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
};

/**
 * GOV.UK Notify's API as its documentation describes it (v2 send and get-by-id), for tests: the
 * real service is on the internet and needs a live key. It checks that calls carry a bearer token.
 */
export async function startNotifyStandIn(): Promise<NotifyStandIn> {
  const calls: NotifyCall[] = [];
  let refusal: { status: number; message: string } | undefined;
  let status = 'sending';
  const server = createServer((request, response) => {
    void (async () => {
      const send = (code: number, payload: unknown) => {
        response.writeHead(code, { 'content-type': 'application/json' });
        response.end(JSON.stringify(payload));
      };
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const claims = token
        ? (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { iss?: string })
        : undefined;
      if (!claims?.iss) return send(403, { errors: [{ error: 'AuthError', message: 'Invalid token' }] });
      const kind = /^\/v2\/notifications\/(email|sms)$/.exec(request.url ?? '')?.[1] as
        'email' | 'sms' | undefined;
      if (request.method === 'POST' && kind) {
        const payload = await body(request);
        if (refusal) {
          return send(refusal.status, { errors: [{ error: 'BadRequestError', message: refusal.message }] });
        }
        calls.push({
          kind,
          templateId: String(payload.template_id),
          to: String(kind === 'email' ? payload.email_address : payload.phone_number),
          personalisation: payload.personalisation as Record<string, string>,
          reference: String(payload.reference),
          serviceId: claims.iss,
        });
        return send(201, { id: randomUUID(), reference: payload.reference, content: {}, template: {} });
      }
      const id = /^\/v2\/notifications\/([0-9a-f-]{36})$/.exec(request.url ?? '')?.[1];
      if (request.method === 'GET' && id) return send(200, { id, status });
      send(404, { errors: [{ error: 'NotFound', message: 'Not found' }] });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    refuseNext(code, message) {
      refusal = { status: code, message };
    },
    setStatus(next) {
      status = next;
      refusal = undefined;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
