// The `write_back` row as the rest of the code sees it: its status, its attempts, and what its
// transport reported. Only this module (state.ts, transitions.ts, reads.ts) reads the row's columns.
import type pg from 'pg';
import type { WriteBackStatus, WriteBackView } from '@gpc/contracts';

/** What write-back SQL runs on: the pool, or a transaction's client (e.g. triage's close). */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** How a write-back reaches the GP record. MESH (with ITK3 acknowledgements) is to come. */
export type WriteBackTransport = 'fhir-r4';

/** What the transport reported: for FHIR R4, where the GP system filed each resource. */
export type WriteBackDetail = {
  transport: 'fhir-r4';
  /** `Type/id/_history/n` for each entry, in bundle order; empty until filed. */
  serverLocations: string[];
};

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
}

/**
 * The columns `toWriteBackState` maps, from `write_back` aliased `w`, for a read that joins the row
 * onto others whose columns do not share these names (a consultation's `status` does: read its
 * write-back with `findWriteBack` instead).
 */
export const writeBackColumns = `w.consultation_id, w.practice_id, w.status, w.transport, w.attempts, w.last_error,
  w.last_attempt_at, w.filed_at, w.server_locations`;

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
  }
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
  };
}
