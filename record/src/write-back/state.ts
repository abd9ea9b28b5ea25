// The `write_back` row as the rest of the code sees it: its status, its attempts, and what its
// transport reported. Only this module (state.ts, transitions.ts, reads.ts) reads the row's columns.
import type pg from 'pg';
import type { SendDocumentAck, SendDocumentView, WriteBackStatus, WriteBackView } from '@gpc/contracts';

/** What write-back SQL runs on: the pool, or a transaction's client (e.g. triage's close). */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/**
 * How a write-back reaches the GP record: a FHIR R4 transaction posted to the practice's endpoint, or
 * GP Connect Send Document (an ITK3 message over MESH, filed when the GP system acknowledges it).
 */
export type WriteBackTransport = 'fhir-r4' | 'gp-connect-send-document';

/**
 * What the transport reported: for FHIR R4, where the GP system filed each resource; for Send
 * Document, the message the write-back stands on now and its acknowledgements (null before one).
 */
export type WriteBackDetail =
  | {
      transport: 'fhir-r4';
      /** `Type/id/_history/n` for each entry, in bundle order; empty until filed. */
      serverLocations: string[];
    }
  | { transport: 'gp-connect-send-document'; message: SendDocumentView | null };

/** One consultation's write-back as it stands. */
export interface WriteBackState {
  consultationId: string;
  practiceId: string;
  status: WriteBackStatus;
  /** Attempts at the GP system since it was last (re)queued. */
  attempts: number;
  /** The GP system's own words when it refused, or what went wrong on the way. */
  lastError: string | null;
  lastAttemptAt: Date | null;
  filedAt: Date | null;
  detail: WriteBackDetail;
}

/** A `write_back` row as `writeBackColumns` reads it. */
export interface WriteBackRow {
  consultation_id: string;
  practice_id: string;
  status: WriteBackStatus;
  transport: WriteBackTransport;
  attempts: number;
  last_error: string | null;
  last_attempt_at: Date | null;
  filed_at: Date | null;
  server_locations: string[] | null;
  /** The current Send Document message, as `writeBackColumns` builds it (null for FHIR R4). */
  send_document: SendDocumentRow | null;
}

/** `send_document` of a `WriteBackRow`: jsonb, so its timestamps are ISO strings. */
interface SendDocumentRow {
  itk_message_id: string;
  mesh_message_id: string | null;
  sent_at: string | null;
  infrastructure_code: string | null;
  infrastructure_text: string | null;
  infrastructure_at: string | null;
  business_code: string | null;
  business_text: string | null;
  business_at: string | null;
  report_code: string | null;
  report_text: string | null;
  report_at: string | null;
}

/**
 * The columns `toWriteBackState` maps, from `write_back` aliased `w`, for a read that joins the row
 * onto others whose columns do not share these names (a consultation's `status` does: read its
 * write-back with `findWriteBack` instead).
 */
export const writeBackColumns = `w.consultation_id, w.practice_id, w.status, w.transport, w.attempts, w.last_error,
  w.last_attempt_at, w.filed_at, w.server_locations,
  (SELECT jsonb_build_object('itk_message_id', m.itk_message_id, 'mesh_message_id', m.mesh_message_id,
          'sent_at', m.sent_at, 'infrastructure_code', m.infrastructure_code,
          'infrastructure_text', m.infrastructure_text, 'infrastructure_at', m.infrastructure_at,
          'business_code', m.business_code, 'business_text', m.business_text, 'business_at', m.business_at,
          'report_code', m.report_code, 'report_text', m.report_text, 'report_at', m.report_at)
     FROM send_document_message m WHERE m.itk_message_id = w.itk_message_id) AS send_document`;

/** Maps a row read with `writeBackColumns`. */
export function toWriteBackState(row: WriteBackRow): WriteBackState {
  return {
    consultationId: row.consultation_id,
    practiceId: row.practice_id,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at,
    filedAt: row.filed_at,
    detail: toDetail(row),
  };
}

function toDetail(row: WriteBackRow): WriteBackDetail {
  switch (row.transport) {
    case 'fhir-r4':
      return { transport: 'fhir-r4', serverLocations: row.server_locations ?? [] };
    case 'gp-connect-send-document':
      return { transport: 'gp-connect-send-document', message: toSendDocumentView(row.send_document) };
  }
}

const iso = (at: string | null): string | null => (at === null ? null : new Date(at).toISOString());

function ack(code: string | null, text: string | null, at: string | null): SendDocumentAck | null {
  return code === null || at === null ? null : { code, text: text ?? code, at: new Date(at).toISOString() };
}

function toSendDocumentView(row: SendDocumentRow | null): SendDocumentView | null {
  if (!row) return null;
  return {
    itkMessageId: row.itk_message_id,
    meshMessageId: row.mesh_message_id,
    sentAt: iso(row.sent_at),
    infrastructure: ack(row.infrastructure_code, row.infrastructure_text, row.infrastructure_at),
    business: ack(row.business_code, row.business_text, row.business_at),
    report: ack(row.report_code, row.report_text, row.report_at),
  };
}

/** Maps a write-back to the view staff see on a request's page and in `/write-backs`. */
export function toWriteBackView(state: WriteBackState): WriteBackView {
  return {
    status: state.status,
    attempts: state.attempts,
    lastError: state.lastError,
    lastAttemptAt: state.lastAttemptAt?.toISOString() ?? null,
    filedAt: state.filedAt?.toISOString() ?? null,
    serverLocations: state.detail.transport === 'fhir-r4' ? state.detail.serverLocations : [],
    // FHIR R4's view stays as it was before transports were told apart
    ...(state.detail.transport === 'gp-connect-send-document'
      ? { transport: state.detail.transport, sendDocument: state.detail.message }
      : {}),
  };
}
