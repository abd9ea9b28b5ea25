// A simulated GP system at the far end of GP Connect Send Document: it polls its MESH mailbox,
// checks each ITK3 message and its STU3 document, keeps what it accepts (a page lists them; each
// document's JSON and PDF at its own address), and answers over MESH (workflow
// GPFED_CONSULT_REPORT_ACK) with an infrastructure acknowledgement (20013, or the refusal's code such
// as 20009) and then a business one (30001 filed; 30002 patient not registered here; 30004 deceased)
// from its seeded list of patients. Each MESH message is acknowledged only once it has been handled.
// Fault switches for tests: no acknowledgements, no business acknowledgement, a forced infrastructure
// or business code, a delay.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { createMeshClient, MeshError, type MeshClient, type MeshClientConfig } from '@gpc/record/mesh';
import {
  acknowledgement,
  checkIncoming,
  describeItkCode,
  isItkAckCode,
  type ItkAckCode,
  type Stu3Bundle,
} from './itk';
import { documentFacts } from './document';

export const SEND_DOCUMENT_WORKFLOW = 'GPFED_CONSULT_REPORT';
export const SEND_DOCUMENT_ACK_WORKFLOW = 'GPFED_CONSULT_REPORT_ACK';

export interface GpInboxFaults {
  /** Send no acknowledgement at all (the message is still taken and kept). */
  noAck?: boolean;
  /** Send the infrastructure acknowledgement only. */
  noBusinessAck?: boolean;
  /** Answer with this infrastructure code (e.g. 20009) whatever the message. */
  infrastructureCode?: string;
  /** Answer with this business code (e.g. 30002) whatever the patient. */
  businessCode?: string;
  /** Wait this long before handling each message (a slow GP system). */
  delayMs?: number;
}

export interface ReceivedDocument {
  /** MESH's message id: this GP system's key for it. */
  meshMessageId: string;
  receivedAt: string;
  from: string | null;
  /** The ITK3 MessageHeader id (what the acknowledgements name). */
  itkMessageId: string | null;
  /** accepted: kept, in the workflow; refused: the infrastructure ack refused it; replaced by a later one. */
  state: 'accepted' | 'refused' | 'replaced';
  infrastructureCode: string | null;
  businessCode: string | null;
  problems: string[];
  nhsNumber: string | null;
  patientName: string | null;
  birthDate: string | null;
  documentId: string | null;
  replaces: string | null;
  title: string | null;
  /** The message as received (JSON), for /documents/{id}.json. */
  message: unknown;
}

export interface GpInboxOptions {
  mesh: MeshClientConfig;
  /** This practice's ODS code (acknowledgements come from it). */
  odsCode: string;
  /** NHS numbers registered at this practice: 30001; anyone else 30002. */
  registeredPatients: readonly string[];
  /** Registered and recently deceased: 30004. */
  deceasedPatients?: readonly string[];
  pollIntervalMs?: number;
  /** Where accepted documents are kept across restarts; in memory only when unset. */
  dataFile?: string;
  /** Told of each problem by code and MESH message id, never patient data. */
  log?: (line: string) => void;
}

export interface GpInbox {
  readonly server: Server;
  readonly mesh: MeshClient;
  /** Handles what is in the mailbox now; resolves to how many messages were handled. */
  pollOnce(): Promise<number>;
  /** Polls every `pollIntervalMs` until closed. */
  start(): void;
  received(): ReceivedDocument[];
  setFaults(faults: GpInboxFaults): void;
  faults(): GpInboxFaults;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createGpInbox(options: GpInboxOptions): GpInbox {
  const mesh = createMeshClient(options.mesh);
  const log = options.log ?? (() => undefined);
  const documents = new Map<string, ReceivedDocument>(
    load(options.dataFile).map((d) => [d.meshMessageId, d]),
  );
  let faults: GpInboxFaults = {};
  let polling: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  compact(options.dataFile, [...documents.values()]);

  async function sendAck(
    to: string,
    original: Stu3Bundle,
    kind: 'infrastructure' | 'business',
    code: string,
    diagnostics?: string,
  ) {
    const body = acknowledgement({
      original,
      kind,
      code: code as ItkAckCode,
      odsCode: options.odsCode,
      mailboxId: options.mesh.mailboxId,
      diagnostics,
    });
    await mesh.send({
      to,
      workflowId: SEND_DOCUMENT_ACK_WORKFLOW,
      localId: options.odsCode,
      subject: `ITK3 ${kind} acknowledgement ${code}`,
      body,
      contentType: 'application/fhir+json',
    });
  }

  function businessCode(nhsNumber: string | null): string {
    if (faults.businessCode) return faults.businessCode;
    if (!nhsNumber || !options.registeredPatients.includes(nhsNumber)) return '30002';
    return options.deceasedPatients?.includes(nhsNumber) ? '30004' : '30001';
  }

  /** One MESH message: kept (or refused), answered, then acknowledged to MESH. */
  async function handle(meshMessageId: string): Promise<void> {
    if (faults.delayMs) await sleep(faults.delayMs);
    const message = await mesh.download(meshMessageId);
    if (
      documents.has(meshMessageId) ||
      message.messageType !== 'DATA' ||
      message.workflowId !== SEND_DOCUMENT_WORKFLOW ||
      !message.from
    ) {
      // already handled before a crash, a report about one of our acks, or not ours to read
      await mesh.acknowledge(meshMessageId);
      return;
    }
    let bundle: unknown;
    try {
      bundle = JSON.parse(message.body.toString('utf8'));
    } catch {
      bundle = undefined;
    }
    const check = checkIncoming(bundle);
    const facts = documentFacts(bundle);
    const infrastructureCode = faults.infrastructureCode ?? (check.ok ? '20013' : check.code);
    const accepted = infrastructureCode === '20013';
    // without a MessageHeader first there is nothing an acknowledgement could name
    const answerable = itkMessageId(bundle) !== null;
    const document: ReceivedDocument = {
      meshMessageId,
      receivedAt: new Date().toISOString(),
      from: message.from,
      itkMessageId: itkMessageId(bundle),
      state: accepted ? 'accepted' : 'refused',
      infrastructureCode,
      businessCode: accepted ? businessCode(facts.nhsNumber) : null,
      problems: check.ok ? (accepted ? [] : ['refused by the fault switch']) : check.problems,
      ...facts,
      message: bundle ?? null,
    };
    delete (document as Partial<typeof facts>).pdf;
    if (!faults.noAck && answerable) {
      await sendAck(
        message.from,
        bundle as Stu3Bundle,
        'infrastructure',
        infrastructureCode,
        accepted ? undefined : document.problems.slice(0, 5).join('; '),
      );
      if (accepted && !faults.noBusinessAck)
        await sendAck(message.from, bundle as Stu3Bundle, 'business', document.businessCode!);
    }
    const changed = [document];
    if (accepted && facts.replaces) {
      for (const earlier of documents.values()) {
        if (earlier.documentId !== facts.replaces || earlier.state !== 'accepted') continue;
        earlier.state = 'replaced';
        changed.push(earlier);
      }
    }
    documents.set(meshMessageId, document);
    append(options.dataFile, changed);
    await mesh.acknowledge(meshMessageId);
  }

  async function poll(): Promise<number> {
    const ids = await mesh.listInbox();
    let handled = 0;
    for (const id of ids) {
      try {
        await handle(id);
        handled++;
      } catch (error) {
        // left in the mailbox: the next poll tries again
        log(
          `could not handle MESH message ${id}: ${error instanceof MeshError ? error.code : (error as Error).name}`,
        );
      }
    }
    return handled;
  }

  const inbox: GpInbox = {
    server: createServer((request, response) => {
      route(request, response, inbox).catch(() => reply(response, 500, 'text/plain', 'error'));
    }),
    mesh,
    pollOnce() {
      // one poll at a time: a timer tick and a test's poll never handle the same message twice
      polling ??= poll().finally(() => {
        polling = undefined;
      });
      return polling;
    },
    start() {
      const tick = () => {
        if (closed) return;
        inbox
          .pollOnce()
          .then(
            () => undefined,
            (error: unknown) =>
              log(
                `poll failed: ${error instanceof MeshError ? `${error.code} ${error.status ?? ''}` : (error as Error).name}`,
              ),
          )
          .finally(() => {
            if (!closed) timer = setTimeout(tick, options.pollIntervalMs ?? 2000);
          });
      };
      tick();
    },
    received: () => [...documents.values()],
    setFaults(next) {
      faults = { ...next };
    },
    faults: () => ({ ...faults }),
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      await polling?.catch(() => undefined);
      if (inbox.server.listening) {
        inbox.server.closeAllConnections();
        await new Promise<void>((resolve) => inbox.server.close(() => resolve()));
      }
      await mesh.close();
    },
  };
  return inbox;
}

/** The MessageHeader id, when the message has one first: without it there is nothing to acknowledge. */
function itkMessageId(bundle: unknown): string | null {
  const first = (bundle as { entry?: { resource?: { resourceType?: string; id?: unknown } }[] } | undefined)
    ?.entry?.[0]?.resource;
  return first?.resourceType === 'MessageHeader' && typeof first.id === 'string' ? first.id : null;
}

// What it received, kept across restarts in a journal: each document appended as it is handled (and
// again when a later one replaces it), the last line of each MESH message id counting; compacted at
// start. Rewriting every document (each with its message and PDF) at each arrival cost the whole
// inbox per message, until the GP system fell behind its mailbox.
function load(dataFile: string | undefined): ReceivedDocument[] {
  if (!dataFile || !existsSync(dataFile)) return [];
  const documents = new Map<string, ReceivedDocument>();
  for (const text of readFileSync(dataFile, 'utf8').split('\n')) {
    let line: ReceivedDocument | { documents: ReceivedDocument[] };
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      continue; // blank, or cut short by a kill mid-write (that message was not acknowledged)
    }
    // a whole file as an earlier version wrote it, or one document
    for (const document of 'documents' in line ? line.documents : [line])
      documents.set(document.meshMessageId, document);
  }
  return [...documents.values()];
}

function append(dataFile: string | undefined, documents: ReceivedDocument[]): void {
  if (!dataFile) return;
  mkdirSync(path.dirname(dataFile), { recursive: true });
  appendFileSync(dataFile, documents.map((document) => `${JSON.stringify(document)}\n`).join(''));
}

function compact(dataFile: string | undefined, documents: ReceivedDocument[]): void {
  if (!dataFile || !existsSync(dataFile)) return;
  const temporary = `${dataFile}.${process.pid}.tmp`;
  writeFileSync(temporary, documents.map((document) => `${JSON.stringify(document)}\n`).join(''));
  renameSync(temporary, dataFile);
}

function reply(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}

const escape = (text: string | null | undefined) =>
  (text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readJson(request: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return parts.length ? (JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown) : {};
}

async function route(request: IncomingMessage, response: ServerResponse, inbox: GpInbox): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://gp-inbox.local');
  const document = /^\/documents\/([^/]+?)\.(json|pdf)$/.exec(url.pathname);
  // HEAD is GET without the body (node's http leaves the body out of a HEAD response)
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  if (method === 'GET' && url.pathname === '/')
    return reply(response, 200, 'text/html; charset=utf-8', page(inbox.received()));
  if (method === 'GET' && url.pathname === '/health')
    return reply(response, 200, 'application/json', '{"status":"ok"}');
  if (method === 'GET' && url.pathname === '/admin/received')
    return reply(
      response,
      200,
      'application/json',
      JSON.stringify(inbox.received().map(({ message: _m, ...rest }) => rest)),
    );
  if (method === 'GET' && document)
    return documentFile(response, inbox, decodeURIComponent(document[1]!), document[2] as 'json' | 'pdf');
  if (request.method === 'POST' && url.pathname === '/admin/poll') {
    return reply(response, 200, 'application/json', JSON.stringify({ handled: await inbox.pollOnce() }));
  }
  if (url.pathname === '/admin/faults' && (request.method === 'PUT' || method === 'GET')) {
    if (request.method === 'PUT') {
      const faults = (await readJson(request).catch(() => undefined)) as GpInboxFaults | undefined;
      if (!faults || typeof faults !== 'object')
        return reply(response, 400, 'application/json', '{"error":"body must be a JSON object"}');
      inbox.setFaults(faults);
    }
    return reply(response, 200, 'application/json', JSON.stringify(inbox.faults()));
  }
  reply(response, 404, 'text/plain', 'not found');
}

function documentFile(response: ServerResponse, inbox: GpInbox, id: string, kind: 'json' | 'pdf'): void {
  const found = inbox.received().find((d) => d.meshMessageId === id);
  if (!found) return reply(response, 404, 'text/plain', 'no such document');
  if (kind === 'json')
    return reply(response, 200, 'application/fhir+json', JSON.stringify(found.message, null, 2));
  const pdf = documentFacts(found.message).pdf;
  if (!pdf) return reply(response, 404, 'text/plain', 'this document has no PDF');
  reply(response, 200, 'application/pdf', pdf);
}

/** What became of a document, in words: a refusal says which and why (the code's meaning). */
export function outcomeInWords(document: ReceivedDocument): string {
  const code = (value: string) =>
    `${isItkAckCode(value) ? describeItkCode(value) : 'a code this system does not know'} (ITK ${value})`;
  if (document.state === 'refused')
    return `Refused: ${document.infrastructureCode ? code(document.infrastructureCode) : 'not an ITK3 message'}`;
  if (document.businessCode && document.businessCode !== '30001')
    return `Refused: ${code(document.businessCode)}`;
  if (document.state === 'replaced') return 'Filed, then replaced by a later version';
  return document.businessCode === '30001' ? 'Filed in the workflow' : 'Received';
}

/** 28 Nov 2026, 14:05:09 GMT: this machine's time zone, as a person reads it. */
export function readableTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString('en-GB', {
        day: 'numeric',
        month: 'short',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'short',
      });
}

/** 14 Jul 1985 from 1985-07-14, read as a date (no time zone can move it a day). */
function readableDate(date: string | null): string {
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return date ?? '';
  return new Date(`${date}T00:00:00Z`).toLocaleDateString('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });
}

function page(documents: ReceivedDocument[]): string {
  const rows = [...documents]
    .reverse()
    .map(
      (
        d,
      ) => `<tr><td><time datetime="${escape(d.receivedAt)}">${escape(readableTime(d.receivedAt))}</time></td><td>${escape(outcomeInWords(d))}</td><td>${escape(d.infrastructureCode)}${d.businessCode ? ` / ${escape(d.businessCode)}` : ''}</td>
<td>${escape(d.patientName)}<br>${escape(d.nhsNumber)} ${escape(readableDate(d.birthDate))}</td><td>${escape(d.title)}</td><td>${escape(d.from)}</td>
<td><a href="/documents/${encodeURIComponent(d.meshMessageId)}.json">message</a>${d.state !== 'refused' ? ` · <a href="/documents/${encodeURIComponent(d.meshMessageId)}.pdf">PDF</a>` : ''}${d.problems.length ? `<br><small>${escape(d.problems.slice(0, 3).join('; '))}</small>` : ''}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Simulated GP system: documents received</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}</style></head>
<body><h1>Simulated GP system: documents received over MESH</h1>
<p>GP Connect Send Document messages this stand-in took from its MESH mailbox, newest first, with what it did with each and the ITK3 acknowledgements it sent (infrastructure / business).</p>
<table><thead><tr><th>Received</th><th>Outcome</th><th>Acks sent</th><th>Patient</th><th>Document</th><th>From mailbox</th><th>Open</th></tr></thead>
<tbody>${rows || '<tr><td colspan="7">Nothing received yet.</td></tr>'}</tbody></table></body></html>`;
}
