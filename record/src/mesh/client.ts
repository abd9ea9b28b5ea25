// A client for the MESH API v2 (NHS England's Message Exchange for Social Care and Health), as
// published at digital.nhs.uk and as NHS England's own client and sandbox use it
// (NHSDigital/mesh-client, NHSDigital/mesh-sandbox): handshake, send (chunked above the chunk size),
// list the inbox, download (chunks reassembled), acknowledge, track. Every connection goes through
// the outbound guard, with the mailbox's client certificate for mutual TLS.
import {
  checkOutboundUrl,
  findRefusal,
  guardedDispatcher,
  networkErrorCode,
  strictOutbound,
  type OutboundPolicy,
} from '@gpc/outbound';
import { MeshAuthenticator } from './auth';
import { MeshError } from './errors';

export const MESH_V2_JSON = 'application/vnd.mesh.v2+json';
/** mesh-client's default: chunks of 75 MiB. */
export const DEFAULT_CHUNK_SIZE_BYTES = 75 * 1024 * 1024;

export interface MeshClientConfig {
  /** e.g. https://msg.intspineservices.nhs.uk, or the local stand-in's address. */
  url: string;
  mailboxId: string;
  password: string;
  /** The environment's shared key (the HMAC key of the Authorization header). */
  sharedKey: string;
  /** The mailbox's client certificate and key (PEM), and the environment's CA (PEM), for mutual TLS. */
  tls?: { cert: string; key: string; ca?: string };
  chunkSizeBytes?: number;
  timeoutMs?: number;
  /** Where the client may connect: https to public addresses unless the deployment allows loopback http. */
  outbound?: OutboundPolicy;
}

export interface MeshMessage {
  messageId: string;
  messageType: 'DATA' | 'REPORT';
  workflowId: string | null;
  from: string | null;
  to: string | null;
  localId: string | null;
  subject: string | null;
  /** For a REPORT (non-delivery): the message it reports on, and MESH's status. */
  linkedMessageId: string | null;
  statusCode: string | null;
  statusDescription: string | null;
  body: Buffer;
}

export interface MeshSendInput {
  to: string;
  workflowId: string;
  subject?: string;
  localId?: string;
  fileName?: string;
  body: Buffer;
  contentType?: string;
}

export interface MeshTracking {
  status: string;
  statusCode?: string | null;
  [k: string]: unknown;
}

export interface MeshClient {
  handshake(): Promise<void>;
  send(message: MeshSendInput): Promise<{ messageId: string }>;
  listInbox(): Promise<string[]>;
  download(messageId: string): Promise<MeshMessage>;
  acknowledge(messageId: string): Promise<void>;
  track(messageId: string): Promise<MeshTracking>;
  /** Closes the client's connections; idempotent. */
  close(): Promise<void>;
}

/** MESH headers take printable ASCII: accents are dropped (Zoë → Zoe), anything else becomes '?'. */
export function meshHeaderValue(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** MESH's words for a refusal, without anything that could be a patient's (NHS numbers, GPPROVIDER_ addresses). */
function redact(text: string): string {
  return text
    .replace(/GPPROVIDER_\S*/gi, 'GPPROVIDER_…')
    .replace(/\d{10,}/g, '…')
    .slice(0, 200);
}

interface MeshErrorBody {
  detail?: { event?: string; code?: string; msg?: string }[];
  errorCode?: string;
  errorDescription?: string;
}

async function meshErrorFrom(response: Response, doing: string): Promise<MeshError> {
  const status = response.status;
  const body = (await response.json().catch(() => undefined)) as MeshErrorBody | undefined;
  const first = body?.detail?.[0];
  const meshCode = first?.code ?? body?.errorCode ?? undefined;
  const description = first?.msg ?? body?.errorDescription ?? undefined;
  const said = [meshCode ? `code ${meshCode}` : '', description ? redact(description) : '']
    .filter(Boolean)
    .join(': ');
  const suffix = `(HTTP ${status}${said ? `, ${said}` : ''})`;
  if (status === 401 || status === 403) {
    return new MeshError('mesh-unauthorised', `MESH refused the mailbox's credentials ${doing} ${suffix}`, {
      status,
      meshCode,
      retryable: false,
    });
  }
  if (status === 404 || status === 410) {
    return new MeshError('mesh-not-found', `MESH has no such message ${doing} ${suffix}`, {
      status,
      meshCode,
      retryable: false,
    });
  }
  if (status >= 500 || status === 429 || status === 408) {
    return new MeshError('mesh-unreachable', `MESH is unavailable ${doing} ${suffix}`, {
      status,
      meshCode,
      retryable: true,
    });
  }
  return new MeshError('mesh-refused', `MESH refused ${doing} ${suffix}`, {
    status,
    meshCode,
    retryable: false,
  });
}

const header = (response: Response, name: string): string | null => response.headers.get(name) || null;

export function createMeshClient(config: MeshClientConfig): MeshClient {
  const base = config.url.replace(/\/+$/, '');
  const mailboxPath = `/messageexchange/${encodeURIComponent(config.mailboxId)}`;
  const timeoutMs = config.timeoutMs ?? 60_000;
  const chunkSize = config.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
  const outbound = config.outbound ?? strictOutbound;
  const auth = new MeshAuthenticator(config);
  const dispatcher = guardedDispatcher(outbound, { timeoutMs, tls: config.tls });
  let closed = false;

  async function request(
    method: string,
    path: string,
    doing: string,
    init: { headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<Response> {
    if (closed) throw new MeshError('mesh-unreachable', `the MESH client is closed (${doing})`);
    const url = `${base}${path}`;
    // Like mesh-client: a request may be tried again once after its connection dropped (a pooled
    // connection the server had closed), except the first POST to the outbox, which could have
    // created the message already.
    const attempts = method === 'POST' && path.endsWith('/outbox') ? 1 : 2;
    let response: Response | undefined;
    for (let attempt = 1; !response; attempt++) {
      try {
        response = await attemptFetch(method, url, init);
      } catch (error) {
        const failure = meshFailure(error, doing);
        if (
          attempt >= attempts ||
          failure.code !== 'mesh-unreachable' ||
          (error as Error).name === 'TimeoutError'
        )
          throw failure;
      }
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new MeshError('mesh-bad-response', `MESH answered with a redirect ${doing}`, {
        status: response.status,
        retryable: false,
      });
    }
    if (!response.ok) throw await meshErrorFrom(response, doing);
    return response;
  }

  function attemptFetch(
    method: string,
    url: string,
    init: { headers?: Record<string, string>; body?: Buffer },
  ) {
    checkOutboundUrl(url, outbound);
    return fetch(url, {
      method,
      headers: {
        accept: MESH_V2_JSON,
        authorization: auth.next(),
        'user-agent': 'gp-consult;mesh-client',
        ...init.headers,
      },
      body: init.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      dispatcher,
    } as RequestInit);
  }

  function meshFailure(error: unknown, doing: string): MeshError {
    const refused = findRefusal(error);
    if (refused) {
      return new MeshError('mesh-address-refused', `the MESH address is not allowed: ${refused.message}`, {
        retryable: false,
      });
    }
    if ((error as Error).name === 'TimeoutError') {
      return new MeshError('mesh-unreachable', `no answer from MESH within ${timeoutMs} ms ${doing}`);
    }
    const code = networkErrorCode(error);
    return new MeshError('mesh-unreachable', `could not reach MESH ${doing}${code ? ` (${code})` : ''}`);
  }

  async function json<T>(response: Response, doing: string): Promise<T> {
    try {
      return (await response.json()) as T;
    } catch {
      throw new MeshError('mesh-bad-response', `MESH's answer ${doing} is not JSON`, {
        status: response.status,
      });
    }
  }

  async function downloadChunk(messageId: string, chunk: number): Promise<Response> {
    const id = encodeURIComponent(messageId);
    const path = chunk === 1 ? `${mailboxPath}/inbox/${id}` : `${mailboxPath}/inbox/${id}/${chunk}`;
    return request('GET', path, `downloading chunk ${chunk} of message ${messageId}`);
  }

  return {
    async handshake() {
      const response = await request('POST', mailboxPath, 'at the handshake', {
        headers: {
          'mex-clientversion': 'gp-consult==0.1.0',
          'mex-osname': process.platform,
          'mex-osversion': process.version,
          'mex-osarchitecture': process.arch,
          'mex-javaversion': 'N/A',
        },
      });
      await response.body?.cancel();
    },

    async send(message) {
      const total = Math.max(1, Math.ceil(message.body.length / chunkSize));
      const contentType = message.contentType ?? 'application/octet-stream';
      const first: Record<string, string> = {
        'content-type': total === 1 ? contentType : 'application/octet-stream',
        'mex-from': config.mailboxId,
        'mex-to': meshHeaderValue(message.to),
        'mex-workflowid': meshHeaderValue(message.workflowId),
        'mex-chunk-range': `1:${total}`,
      };
      if (total > 1 && contentType !== 'application/octet-stream') first['mex-content-type'] = contentType;
      if (message.subject) first['mex-subject'] = meshHeaderValue(message.subject);
      if (message.localId) first['mex-localid'] = meshHeaderValue(message.localId);
      if (message.fileName) first['mex-filename'] = meshHeaderValue(message.fileName);
      const response = await request('POST', `${mailboxPath}/outbox`, 'sending a message', {
        headers: first,
        body: message.body.subarray(0, chunkSize),
      });
      const answer = await json<{ message_id?: string; messageID?: string }>(response, 'to a send');
      const messageId = answer.message_id ?? answer.messageID;
      if (!messageId) throw new MeshError('mesh-bad-response', 'MESH accepted a message without an id');
      for (let chunk = 2; chunk <= total; chunk++) {
        const part = await request(
          'POST',
          `${mailboxPath}/outbox/${encodeURIComponent(messageId)}/${chunk}`,
          `sending chunk ${chunk} of ${total} of message ${messageId}`,
          {
            headers: { 'content-type': 'application/octet-stream', 'mex-chunk-range': `${chunk}:${total}` },
            body: message.body.subarray((chunk - 1) * chunkSize, chunk * chunkSize),
          },
        );
        await part.body?.cancel();
      }
      return { messageId };
    },

    async listInbox() {
      const ids: string[] = [];
      let path: string | undefined = `${mailboxPath}/inbox`;
      for (let page = 0; path && page < 1000; page++) {
        const response = await request('GET', path, 'listing the inbox');
        const body = await json<{ messages?: string[]; links?: { next?: string } }>(response, 'to a list');
        ids.push(...(body.messages ?? []));
        path = body.links?.next;
      }
      return ids;
    },

    async download(messageId) {
      const first = await downloadChunk(messageId, 1);
      const [, totalText] = (header(first, 'mex-chunk-range') ?? '1:1').split(':');
      const total = Number(totalText);
      if (!Number.isInteger(total) || total < 1) {
        throw new MeshError('mesh-bad-response', `MESH gave message ${messageId} a bad chunk range`);
      }
      const parts = [Buffer.from(await first.arrayBuffer())];
      for (let chunk = 2; chunk <= total; chunk++) {
        parts.push(Buffer.from(await (await downloadChunk(messageId, chunk)).arrayBuffer()));
      }
      const type = (header(first, 'mex-messagetype') ?? 'DATA').toUpperCase();
      return {
        messageId: header(first, 'mex-messageid') ?? messageId,
        messageType: type === 'REPORT' ? 'REPORT' : 'DATA',
        workflowId: header(first, 'mex-workflowid'),
        from: header(first, 'mex-from'),
        to: header(first, 'mex-to'),
        localId: header(first, 'mex-localid'),
        subject: header(first, 'mex-subject'),
        linkedMessageId: header(first, 'mex-linkedmsgid'),
        statusCode: header(first, 'mex-statuscode'),
        statusDescription: header(first, 'mex-statusdescription'),
        body: Buffer.concat(parts),
      };
    },

    async acknowledge(messageId) {
      const response = await request(
        'PUT',
        `${mailboxPath}/inbox/${encodeURIComponent(messageId)}/status/acknowledged`,
        `acknowledging message ${messageId}`,
      );
      await response.body?.cancel();
    },

    async track(messageId) {
      const response = await request(
        'GET',
        `${mailboxPath}/outbox/tracking?messageID=${encodeURIComponent(messageId)}`,
        `tracking message ${messageId}`,
      );
      const body = await json<Record<string, unknown>>(response, 'to tracking');
      return {
        ...body,
        status: typeof body.status === 'string' ? body.status : '',
        statusCode: (body.status_code as string | null | undefined) ?? null,
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      await dispatcher.close();
    },
  };
}
