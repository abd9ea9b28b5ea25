// A stand-in for NHS England's MESH API v2, following the published API and NHS England's own
// sandbox (NHSDigital/mesh-sandbox): handshake, send (one chunk or many), inbox list, download by
// chunk, acknowledge, tracking, and non-delivery REPORT messages; testing-only admin endpoints under
// /messageexchange/admin (reset, inject a report, a fault switch) as the sandbox has.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import { MeshAuthChecker } from './auth';
import type { MeshMailbox } from './config';
import { MessageStore, newMessageId, type StoredMessage } from './store';

const V2 = 'application/vnd.mesh.v2+json';
const MAX_CHUNK_BYTES = 100 * 1024 * 1024;

export interface MeshServerOptions {
  sharedKey: string;
  mailboxes: readonly MeshMailbox[];
  dataFile?: string;
  /** An existing store (a restarted server in tests keeps its messages). */
  store?: MessageStore;
  maxClockSkewMs?: number;
  now?: () => number;
  /**
   * Serve https with this certificate and key (PEM); with `ca`, a client must present a certificate
   * it signed (mutual TLS, as MESH asks of every mailbox) or the connection is refused.
   */
  tls?: { cert: string; key: string; ca?: string };
}

export interface MeshServer {
  /** Not listening yet: the caller picks host and port. */
  readonly server: Server | TlsServer;
  readonly store: MessageStore;
  /** Every request answers this status (503: MESH unavailable) until cleared with `null`; admin still works. */
  setFault(status: number | null): void;
  /** Puts a non-delivery REPORT about `linkedMessageId` in its sender's inbox (as the sandbox's admin/report). */
  reportNonDelivery(linkedMessageId: string, code: string, description: string): StoredMessage;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body?: unknown;
  raw?: Buffer;
  headers?: Record<string, string>;
}

/** MESH's v2 error body: `{ message_id, internal_id, detail: [{ event, code, msg }] }`. */
const error = (status: number, event: string, code: string, msg: string, messageId?: string): Reply => ({
  status,
  body: { message_id: messageId ?? null, internal_id: newMessageId(), detail: [{ event, code, msg }] },
});

/** The DTS/MESH codes (mesh-sandbox `common/constants.py` ErrorCodeMap) this stand-in uses. */
export const REPORT_CODES = {
  unregisteredRecipient: { code: '12', description: 'Unregistered to address' },
  workflowNotRegistered: { code: '17', description: 'Workflow ID not registered for mailbox' },
  noMailboxMatched: { code: 'EPL-151', description: 'No mailbox matched' },
} as const;

interface Context {
  store: MessageStore;
  auth: MeshAuthChecker;
  mailboxes: Map<string, MeshMailbox>;
  now: () => number;
  fault: { status: number | null };
}

export function createMeshServer(options: MeshServerOptions): MeshServer {
  const mailboxes = new Map(options.mailboxes.map((m) => [m.mailboxId.toUpperCase(), m]));
  const now = options.now ?? Date.now;
  const context: Context = {
    store: options.store ?? new MessageStore(options.dataFile),
    auth: new MeshAuthChecker({
      sharedKey: options.sharedKey,
      mailboxes,
      maxClockSkewMs: options.maxClockSkewMs ?? 5 * 60_000,
      now,
    }),
    mailboxes,
    now,
    fault: { status: null },
  };
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    handle(request, context).then(
      (reply) => send(response, reply),
      () => send(response, error(500, 'SERVER', '500', 'An internal error occurred')),
    );
  };
  const tls = options.tls;
  const server = tls
    ? createTlsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          requestCert: Boolean(tls.ca),
          rejectUnauthorized: Boolean(tls.ca),
        },
        listener,
      )
    : createServer(listener);
  // a pooled connection stays open a minute, as behind NHS England's load balancers, not Node's 5 s
  server.keepAliveTimeout = 60_000;
  return {
    server,
    store: context.store,
    setFault: (status) => {
      context.fault.status = status;
    },
    reportNonDelivery: (linkedMessageId, code, description) => {
      const linked = context.store.get(linkedMessageId);
      if (!linked) throw new Error(`no message ${linkedMessageId}`);
      return nonDelivery(context, linked, code, description);
    },
    async close() {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(response: ServerResponse, reply: Reply): void {
  if (response.headersSent) return;
  const headers: Record<string, string> = { ...reply.headers };
  let payload: Buffer | undefined = reply.raw;
  if (!payload && reply.body !== undefined) {
    payload = Buffer.from(JSON.stringify(reply.body));
    headers['content-type'] ??= V2;
  }
  if (payload) headers['content-length'] = String(payload.length);
  response.writeHead(reply.status, headers);
  response.end(payload);
}

async function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request) {
    size += (part as Buffer).length;
    if (size > MAX_CHUNK_BYTES) return 'too-large';
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts);
}

const header = (request: IncomingMessage, name: string): string | null => {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || null;
};

type Route = (
  request: IncomingMessage,
  context: Context,
  mailbox: MeshMailbox,
  params: string[],
  url: URL,
) => Promise<Reply> | Reply;

/** Mailbox routes: [method, path pattern after /messageexchange/{mailbox}, handler]. */
const routes: [string, RegExp, Route][] = [
  ['POST', /^$/, handshake],
  ['GET', /^$/, handshake],
  ['POST', /^\/outbox$/, sendMessage],
  ['POST', /^\/outbox\/([^/]+)\/(\d+)$/, sendChunk],
  ['GET', /^\/outbox\/tracking$/, trackByMessageId],
  ['GET', /^\/outbox\/tracking\/([^/]+)$/, trackByLocalId],
  ['GET', /^\/inbox$/, listInbox],
  [
    'GET',
    /^\/count$/,
    (_r, c, mailbox) => ({ status: 200, body: { count: c.store.inbox(mailbox.mailboxId).length } }),
  ],
  ['GET', /^\/inbox\/([^/]+)$/, downloadChunk],
  ['HEAD', /^\/inbox\/([^/]+)$/, downloadChunk],
  ['GET', /^\/inbox\/([^/]+)\/(\d+)$/, downloadChunk],
  ['PUT', /^\/inbox\/([^/]+)\/status\/acknowledged$/, acknowledge],
];

async function handle(request: IncomingMessage, context: Context): Promise<Reply> {
  const url = new URL(request.url ?? '/', 'http://mesh.local');
  if (url.pathname === '/messageexchange/_ping') return { status: 200, body: { status: 'ok' } };
  if (url.pathname.startsWith('/messageexchange/admin/')) return admin(request, context, url);
  if (context.fault.status)
    return error(context.fault.status, 'SERVER', String(context.fault.status), 'Service unavailable');
  const match = /^\/messageexchange\/([^/]+)(\/.*)?$/.exec(url.pathname);
  if (!match) return error(404, 'SERVER', '404', 'Not found');
  const pathMailbox = decodeURIComponent(match[1]!).toUpperCase();
  const rest = match[2] ?? '';
  const route = routes.find(([method, pattern]) => method === request.method && pattern.test(rest));
  if (!route) return error(404, 'SERVER', '404', 'Not found');
  const accept = header(request, 'accept');
  if (accept && /vnd\.mesh/.test(accept) && !/^application\/vnd\.mesh\.v[12]\+json$/.test(accept))
    return error(400, 'SERVER', '400', 'Accept header api format incorrect');
  const mailbox = context.auth.check(header(request, 'authorization') ?? undefined, pathMailbox);
  if (typeof mailbox === 'string') return error(403, 'AUTH', '403', mailbox);
  const params = route[1]
    .exec(rest)!
    .slice(1)
    .map((p) => decodeURIComponent(p));
  return route[2](request, context, mailbox, params, url);
}

function handshake(): Reply {
  return { status: 200, body: {} };
}

/** A recipient, or the non-delivery it gets: `GPPROVIDER_<NHS number>_<DDMMYYYY>_<SURNAME>` routing too. */
function resolveRecipient(context: Context, to: string): MeshMailbox | 'no-match' | 'unregistered' {
  const routed = /^GPPROVIDER_(\d{10})_\d{8}_\S+$/i.exec(to);
  if (routed) {
    const found = [...context.mailboxes.values()].filter((m) => m.gpProviderFor?.includes(routed[1]!));
    return found.length === 1 ? found[0]! : 'no-match';
  }
  return context.mailboxes.get(to.toUpperCase()) ?? 'unregistered';
}

async function sendMessage(request: IncomingMessage, context: Context, sender: MeshMailbox): Promise<Reply> {
  const to = header(request, 'mex-to');
  if (!to) return error(417, 'SEND', '08', 'TO_DTS missing');
  const workflowId = header(request, 'mex-workflowid');
  if (!workflowId) return error(417, 'SEND', '09', 'Workflow ID missing');
  const range = chunkRange(header(request, 'mex-chunk-range'), 1);
  if (!range)
    return error(417, 'SEND', 'InvalidHeaderChunks', 'Invalid chunk values sent in mex-Chunk-Range header');
  const encoding = header(request, 'content-encoding');
  if (encoding && encoding !== 'gzip')
    return error(422, 'SEND', 'UnsupportedContentEncoding', 'Unsupported content encoding');
  const recipient = resolveRecipient(context, to);
  if (recipient === 'unregistered')
    return error(
      417,
      'SEND',
      REPORT_CODES.unregisteredRecipient.code,
      REPORT_CODES.unregisteredRecipient.description,
    );
  const body = await readBody(request);
  if (body === 'too-large') return error(413, 'SEND', '413', 'Chunk too large');
  if (body.length === 0) return error(417, 'COLLECT', '02', 'Data file is missing or inaccessible.');
  const stamp = new Date(context.now());
  const message: StoredMessage = {
    messageId: newMessageId(stamp),
    messageType: 'DATA',
    from: sender.mailboxId,
    to: recipient === 'no-match' ? to : recipient.mailboxId,
    workflowId,
    subject: header(request, 'mex-subject'),
    localId: header(request, 'mex-localid'),
    fileName: header(request, 'mex-filename'),
    contentType: header(request, 'content-type'),
    mexContentType: header(request, 'mex-content-type'),
    contentEncoding: encoding,
    totalChunks: range.total,
    chunks: Array.from({ length: range.total }, (_, i) => (i === 0 ? body : null)),
    status: 'uploading',
    createdAt: stamp.toISOString(),
    statusAt: stamp.toISOString(),
    acknowledgedAt: null,
    linkedMessageId: null,
    statusCode: null,
    statusEvent: null,
    statusDescription: null,
  };
  context.store.add(message);
  if (range.total === 1) deliver(context, message);
  return { status: 202, body: { message_id: message.messageId } };
}

async function sendChunk(
  request: IncomingMessage,
  context: Context,
  sender: MeshMailbox,
  [id, n]: string[],
): Promise<Reply> {
  const chunkNo = Number(n);
  const range = chunkRange(header(request, 'mex-chunk-range'), chunkNo);
  if (!range)
    return error(
      417,
      'SEND',
      'InvalidHeaderChunks',
      'Invalid chunk values sent in mex-Chunk-Range header',
      id,
    );
  const message = context.store.get(id!);
  if (!message) return error(404, 'SEND', '20', 'Message does not exist', id);
  if (message.from !== sender.mailboxId) return error(403, 'SEND', '403', 'Forbidden', id);
  if (message.status !== 'uploading') return error(423, 'SEND', '423', 'Message already accepted', id);
  if (range.total !== message.totalChunks || chunkNo > message.totalChunks)
    return error(406, 'SEND', '406', 'Invalid chunk number', id);
  if ((header(request, 'content-encoding') ?? null) !== message.contentEncoding)
    return error(417, 'SEND', '417', 'cannot change content encoding', id);
  const body = await readBody(request);
  if (body === 'too-large') return error(413, 'SEND', '413', 'Chunk too large', id);
  context.store.putChunk(message, chunkNo - 1, body);
  if (message.chunks.every((chunk) => chunk !== null)) deliver(context, message);
  return { status: 202 };
}

/** `n:total` agreeing with the chunk in the URL; no header means one chunk. */
function chunkRange(value: string | null, expected: number): { total: number } | undefined {
  if (!value) return expected === 1 ? { total: 1 } : undefined;
  const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(value);
  if (!match) return undefined;
  const [no, total] = [Number(match[1]), Number(match[2])];
  return no === expected && no >= 1 && no <= total ? { total } : undefined;
}

/** Every chunk is in: into the recipient's inbox, or a non-delivery report back to the sender. */
function deliver(context: Context, message: StoredMessage): void {
  const recipient = context.mailboxes.get(message.to);
  if (!recipient) {
    nonDelivery(
      context,
      message,
      REPORT_CODES.noMailboxMatched.code,
      REPORT_CODES.noMailboxMatched.description,
    );
    return;
  }
  if (recipient.workflows && !recipient.workflows.includes(message.workflowId ?? '')) {
    nonDelivery(
      context,
      message,
      REPORT_CODES.workflowNotRegistered.code,
      REPORT_CODES.workflowNotRegistered.description,
    );
    return;
  }
  message.status = 'accepted';
  message.statusAt = new Date(context.now()).toISOString();
  context.store.update(message);
}

function nonDelivery(
  context: Context,
  linked: StoredMessage,
  code: string,
  description: string,
): StoredMessage {
  const stamp = new Date(context.now());
  linked.status = 'undeliverable';
  linked.statusAt = stamp.toISOString();
  Object.assign(linked, { statusCode: code, statusEvent: 'SEND', statusDescription: description });
  context.store.update(linked);
  const report: StoredMessage = {
    ...linked,
    messageId: newMessageId(stamp),
    messageType: 'REPORT',
    to: linked.from,
    totalChunks: 1,
    chunks: [Buffer.alloc(0)],
    status: 'accepted',
    createdAt: stamp.toISOString(),
    statusAt: stamp.toISOString(),
    acknowledgedAt: null,
    linkedMessageId: linked.messageId,
  };
  context.store.add(report);
  return report;
}

function listInbox(
  _request: IncomingMessage,
  context: Context,
  mailbox: MeshMailbox,
  _p: string[],
  url: URL,
): Reply {
  const maxResults = Math.min(Math.max(Number(url.searchParams.get('max_results') ?? 500) || 500, 1), 500);
  const workflow = url.searchParams.get('workflow_filter');
  let messages = context.store.inbox(mailbox.mailboxId).filter((m) => !workflow || m.workflowId === workflow);
  const from = url.searchParams.get('continue_from');
  if (from) {
    const after = Buffer.from(from, 'base64url').toString('utf8');
    const at = messages.findIndex((m) => m.messageId === after);
    if (at >= 0) messages = messages.slice(at + 1);
  }
  const page = messages.slice(0, maxResults);
  const self = `/messageexchange/${mailbox.mailboxId}/inbox`;
  const links: Record<string, string> = { self };
  if (messages.length > maxResults) {
    const query = new URLSearchParams({
      max_results: String(maxResults),
      continue_from: Buffer.from(page.at(-1)!.messageId).toString('base64url'),
    });
    if (workflow) query.set('workflow_filter', workflow);
    links.next = `${self}?${query.toString()}`;
  }
  return {
    status: 200,
    body: {
      messages: page.map((m) => m.messageId),
      approx_inbox_count: context.store.inbox(mailbox.mailboxId).length,
      links,
    },
  };
}

/** The headers a downloaded message carries (mesh-sandbox `handlers/inbox.py` _get_response_headers). */
function messageHeaders(message: StoredMessage, chunk: number): Record<string, string> {
  const report = message.messageType === 'REPORT';
  const headers: Record<string, string | null> = {
    'mex-from': message.from,
    'mex-to': message.to,
    'mex-workflowid': message.workflowId,
    'mex-chunk-range': `${chunk}:${message.totalChunks}`,
    'mex-addresstype': 'ALL',
    'mex-localid': message.localId,
    'mex-filename': message.fileName ?? `${message.messageId}.dat`,
    'mex-subject': message.subject,
    'mex-version': '1.0',
    'mex-messagetype': message.messageType,
    'mex-messageid': message.messageId,
    'mex-content-type': message.mexContentType,
    'content-encoding': report ? null : message.contentEncoding,
    'mex-statussuccess': report ? 'ERROR' : 'SUCCESS',
    'mex-statustimestamp': message.statusAt.replace(/[-T:]/g, '').slice(0, 14),
    'mex-statuscode': report ? message.statusCode : '00',
    'mex-statusevent': report ? message.statusEvent : 'TRANSFER',
    'mex-statusdescription': report ? message.statusDescription : 'Transferred to recipient mailbox',
    'mex-linkedmsgid': report ? message.linkedMessageId : null,
    'content-type': report ? null : (message.contentType ?? 'application/octet-stream'),
  };
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => Boolean(e[1])));
}

function downloadChunk(
  request: IncomingMessage,
  context: Context,
  mailbox: MeshMailbox,
  [id, n]: string[],
): Reply {
  const message = context.store.get(id!);
  if (!message) return error(404, 'RECEIVE', '20', 'Message does not exist', id);
  if (message.to !== mailbox.mailboxId) return error(403, 'RECEIVE', '403', 'Forbidden', id);
  if (message.status !== 'accepted' && message.status !== 'acknowledged')
    return error(410, 'RECEIVE', 'Message already accepted', 'Message no longer available for download', id);
  const chunk = n === undefined ? 1 : Number(n);
  if (chunk < 1 || chunk > message.totalChunks)
    return error(404, 'RECEIVE', '20', 'Message does not exist', id);
  const headers = messageHeaders(message, chunk);
  if (request.method === 'HEAD') return { status: 200, headers };
  const status = chunk < message.totalChunks ? 206 : 200;
  return { status, headers, raw: message.chunks[chunk - 1] ?? Buffer.alloc(0) };
}

function acknowledge(
  _request: IncomingMessage,
  context: Context,
  mailbox: MeshMailbox,
  [id]: string[],
): Reply {
  const message = context.store.get(id!);
  if (!message) return error(404, 'RECEIVE', '20', 'Message does not exist', id);
  if (message.to !== mailbox.mailboxId) return error(403, 'RECEIVE', '403', 'Forbidden', id);
  if (message.status === 'accepted') {
    const stamp = new Date(context.now()).toISOString();
    Object.assign(message, { status: 'acknowledged', acknowledgedAt: stamp, statusAt: stamp });
    context.store.update(message);
  }
  return { status: 200 };
}

/** Tracking v2 (mesh-sandbox `views/tracking.py` TrackingV2). */
function tracking(context: Context, message: StoredMessage): Reply {
  const recipient = context.mailboxes.get(message.to);
  return {
    status: 200,
    body: {
      message_id: message.messageId,
      local_id: message.localId,
      workflow_id: message.workflowId,
      filename: message.fileName,
      upload_timestamp: message.createdAt,
      recipient: message.to,
      recipient_name: recipient?.name ?? null,
      recipient_ods_code: recipient?.odsCode ?? null,
      status: message.status,
      status_success:
        message.status === 'undeliverable' ? false : message.status === 'uploading' ? null : true,
      status_event: message.statusEvent,
      status_timestamp: message.statusAt,
      status_description: message.statusDescription,
      status_code: message.statusCode,
      acknowledged_timestamp: message.acknowledgedAt,
    },
  };
}

function trackByMessageId(
  _r: IncomingMessage,
  context: Context,
  sender: MeshMailbox,
  _p: string[],
  url: URL,
): Reply {
  const id = url.searchParams.get('messageID');
  const message = id ? context.store.get(id) : undefined;
  // not a 403 for someone else's message, as Spine
  if (!message || message.from !== sender.mailboxId || message.messageType !== 'DATA')
    return error(404, 'TRACK', '20', 'Message does not exist', id ?? undefined);
  return tracking(context, message);
}

function trackByLocalId(
  _r: IncomingMessage,
  context: Context,
  sender: MeshMailbox,
  [localId]: string[],
): Reply {
  const found = context.store
    .all()
    .filter((m) => m.from === sender.mailboxId && m.messageType === 'DATA' && m.localId === localId);
  if (found.length === 0) return error(404, 'TRACK', '20', 'Message does not exist');
  if (found.length > 1) return error(300, 'TRACK', '300', 'Multiple messages match');
  return tracking(context, found[0]!);
}

/** Testing-only, unauthenticated, as the sandbox's: reset, inject a report, the fault switch. */
async function admin(request: IncomingMessage, context: Context, url: URL): Promise<Reply> {
  const body = await readBody(request);
  let input: Record<string, unknown> = {};
  const text = (value: unknown, otherwise: string) => (typeof value === 'string' ? value : otherwise);
  try {
    if (body !== 'too-large' && body.length > 0)
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return error(400, 'ADMIN', '400', 'body is not JSON');
  }
  const action = url.pathname.slice('/messageexchange/admin/'.length);
  if (request.method === 'POST' && /^reset(\/[^/]+)?$/.test(action)) {
    context.store.clear(action.split('/')[1]?.toUpperCase());
    return { status: 200 };
  }
  if (request.method === 'PUT' && action === 'fault') {
    const status = input.status;
    if (status !== null && !(typeof status === 'number' && status >= 400 && status <= 599))
      return error(400, 'ADMIN', '400', 'status must be an HTTP error status or null');
    context.fault.status = status;
    return { status: 200, body: { status } };
  }
  if (request.method === 'POST' && action === 'report') {
    const linked = context.store.get(text(input.linked_message_id, ''));
    if (!linked) return error(404, 'ADMIN', '404', 'no such linked message');
    const report = nonDelivery(
      context,
      linked,
      text(input.code, '14'),
      text(input.description, 'Message not collected by recipient after 5 days'),
    );
    return { status: 200, body: { message_id: report.messageId } };
  }
  return error(404, 'ADMIN', '404', 'Not found');
}
