// GP Connect Send Document's part of the write-back state machine: the messages a write-back sends
// over MESH (`send_document_message`) and what their acknowledgements do to it.
//
//   pending ── message recorded (body kept), then MESH takes it ──▶ sent   (MESH id + ITK id, one statement)
//   sent ── infrastructure 20013 ──▶ sent (delivered) ── business 30001 ──▶ filed
//   sent ── business 30002/30003/30004, a MESH non-delivery report, or no ack in time ──▶ needs_attention
//   sent ── any other infrastructure code (20009, 20015…) ──▶ failed
//
// The first acknowledgement of each kind for a message is the one that counts: a duplicate changes
// nothing. Only the write-back's current message moves it; one for an earlier message is recorded only.
import type pg from 'pg';
import type { WriteBackJob } from '@gpc/contracts';
import { withTransaction } from '@gpc/contracts/transaction';
import type { Queryable } from './state';

/** A message recorded before it went to MESH: what a restart re-sends, the very same bytes. */
export interface OutgoingMessage {
  itkMessageId: string;
  documentId: string;
  replacesDocumentId: string | null;
  mexTo: string;
  body: Buffer;
}

/**
 * The write-back's current message when MESH never took it (the worker stopped between recording it
 * and MESH's answer, or MESH was down): re-sent as it is, never rebuilt with a new id.
 */
export async function findUnsentMessage(
  db: Queryable,
  consultationId: string,
): Promise<OutgoingMessage | undefined> {
  const { rows } = await db.query<{
    itk_message_id: string;
    document_id: string;
    replaces_document_id: string | null;
    mex_to: string;
    body: Buffer | null;
  }>(
    `SELECT m.itk_message_id, m.document_id, m.replaces_document_id, m.mex_to, m.body
       FROM write_back w JOIN send_document_message m ON m.itk_message_id = w.itk_message_id
      WHERE w.consultation_id = $1 AND m.mesh_message_id IS NULL AND m.body IS NOT NULL`,
    [consultationId],
  );
  const row = rows[0];
  if (!row?.body) return undefined;
  return {
    itkMessageId: row.itk_message_id,
    documentId: row.document_id,
    replacesDocumentId: row.replaces_document_id,
    mexTo: row.mex_to,
    body: row.body,
  };
}

/**
 * The document a new message replaces (`relatesTo`): the latest one an earlier message of this
 * write-back delivered (infrastructure 20013, or a business acknowledgement, which only follows one),
 * and how many were delivered; undefined when none was, so a refused message is never "replaced".
 */
export async function findDeliveredDocument(
  db: Queryable,
  consultationId: string,
): Promise<{ documentId: string; deliveredCount: number } | undefined> {
  const { rows } = await db.query<{ document_id: string; delivered: number }>(
    `SELECT document_id, (count(*) OVER ())::int AS delivered FROM send_document_message
      WHERE consultation_id = $1 AND (infrastructure_code = '20013' OR business_code IS NOT NULL)
      ORDER BY created_at DESC LIMIT 1`,
    [consultationId],
  );
  const row = rows[0];
  return row ? { documentId: row.document_id, deliveredCount: row.delivered } : undefined;
}

/**
 * Records a message about to go to MESH as the pending write-back's current one. False when the
 * write-back is no longer pending (nothing is sent).
 */
export async function recordOutgoingMessage(
  db: Queryable,
  writeBack: WriteBackJob,
  message: OutgoingMessage,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `WITH current AS (
       UPDATE write_back SET itk_message_id = $3, updated_at = now()
        WHERE consultation_id = $1 AND practice_id = $2 AND status = 'pending'
          AND transport = 'gp-connect-send-document'
        RETURNING consultation_id, practice_id)
     INSERT INTO send_document_message
       (itk_message_id, consultation_id, practice_id, document_id, replaces_document_id, mex_to, body)
     SELECT $3, consultation_id, practice_id, $4, $5, $6, $7 FROM current`,
    [
      writeBack.consultationId,
      writeBack.practiceId,
      message.itkMessageId,
      message.documentId,
      message.replacesDocumentId,
      message.mexTo,
      message.body,
    ],
  );
  return rowCount === 1;
}

/**
 * pending → sent: MESH took the message. Its MESH id is stored with the state change, in one
 * statement, and its body let go. False when the write-back was not pending on this message (an
 * acknowledgement got there first, or it was sent already).
 */
export async function markSent(
  db: Queryable,
  consultationId: string,
  ids: { itkMessageId: string; meshMessageId: string },
): Promise<boolean> {
  const { rows } = await db.query<{ moved: boolean }>(
    `WITH message AS (
       UPDATE send_document_message SET mesh_message_id = $3, sent_at = now(), body = NULL
        WHERE itk_message_id = $2 AND consultation_id = $1 AND mesh_message_id IS NULL
        RETURNING itk_message_id),
     moved AS (
       UPDATE write_back SET status = 'sent', last_error = NULL, updated_at = now()
        WHERE consultation_id = $1 AND status = 'pending' AND itk_message_id = (SELECT itk_message_id FROM message)
        RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM moved) AS moved`,
    [consultationId, ids.itkMessageId, ids.meshMessageId],
  );
  return rows[0]?.moved === true;
}

/** What an acknowledgement did. */
export type AckEffect =
  /** No message of ours has that id. */
  | { effect: 'unknown' }
  /** That kind of acknowledgement came for this message before: nothing changed. */
  | { effect: 'duplicate'; writeBack: WriteBackJob }
  /** Recorded on its message; `moved` says whether the write-back's status changed with it. */
  | { effect: 'recorded'; writeBack: WriteBackJob; moved: boolean };

/** How an acknowledgement moves the write-back when it is for its current message. */
export type AckOutcome =
  | { to: 'sent' }
  | { to: 'filed' }
  | { to: 'needs_attention'; reason: string }
  | { to: 'failed'; reason: string };

type AckKind = 'infrastructure' | 'business' | 'report';

/** Statuses an acknowledgement may move a write-back from (a late one still counts after a time-out). */
const movableFrom = ['pending', 'sent', 'needs_attention'];

/**
 * Records one acknowledgement of a message found by `match` (our ITK message id, or MESH's id for a
 * MESH report) and moves its write-back, in one transaction on `pool`. The first of each kind counts.
 */
export async function applyAcknowledgement(
  pool: pg.Pool,
  ack: {
    kind: AckKind;
    match: { itkMessageId: string } | { meshMessageId: string };
    code: string;
    text: string;
    outcome: AckOutcome;
  },
): Promise<AckEffect> {
  return withTransaction<pg.PoolClient, AckEffect>(pool, (client) => applyWithin(client, ack));
}

async function applyWithin(
  client: pg.PoolClient,
  ack: Parameters<typeof applyAcknowledgement>[1],
): Promise<AckEffect> {
  const byItk = 'itkMessageId' in ack.match;
  const { rows } = await client.query<{
    itk_message_id: string;
    consultation_id: string;
    practice_id: string;
    already: string | null;
  }>(
    `SELECT itk_message_id, consultation_id, practice_id, ${ack.kind}_code AS already
       FROM send_document_message WHERE ${byItk ? 'itk_message_id::text' : 'mesh_message_id'} = $1
        FOR UPDATE`,
    ['itkMessageId' in ack.match ? ack.match.itkMessageId : ack.match.meshMessageId],
  );
  const message = rows[0];
  if (!message) return { effect: 'unknown' };
  const writeBack = { consultationId: message.consultation_id, practiceId: message.practice_id };
  if (message.already !== null) return { effect: 'duplicate', writeBack };
  await client.query(
    `UPDATE send_document_message SET ${ack.kind}_code = $2, ${ack.kind}_text = $3, ${ack.kind}_at = now()
      WHERE itk_message_id = $1`,
    [message.itk_message_id, ack.code, ack.text],
  );
  const moved = await moveWriteBack(client, message.consultation_id, message.itk_message_id, ack.outcome);
  return { effect: 'recorded', writeBack, moved };
}

async function moveWriteBack(
  client: pg.PoolClient,
  consultationId: string,
  itkMessageId: string,
  outcome: AckOutcome,
): Promise<boolean> {
  const where = `consultation_id = $1 AND itk_message_id = $2 AND status = ANY($3)`;
  const params = [consultationId, itkMessageId, movableFrom];
  const set = {
    sent: `status = 'sent', last_error = NULL`,
    filed: `status = 'filed', filed_at = now(), last_error = NULL`,
    needs_attention: `status = 'needs_attention', last_error = $4`,
    failed: `status = 'failed', last_error = $4`,
  }[outcome.to];
  const { rowCount } = await client.query(
    `UPDATE write_back SET ${set}, updated_at = now() WHERE ${where}`,
    'reason' in outcome ? [...params, outcome.reason] : params,
  );
  return rowCount === 1;
}

/** A sent write-back whose acknowledgement is overdue, and how long it has waited. */
export interface OverdueAck {
  writeBack: WriteBackJob;
  itkMessageId: string;
  /** `infrastructure`: none since it was sent; `business`: none since the infrastructure 20013. */
  missing: 'infrastructure' | 'business';
  waitedMs: number;
}

/** Sent write-backs whose infrastructure (or, after 20013, business) acknowledgement is overdue. */
export async function listOverdueAcks(
  db: Queryable,
  limits: { infrastructureMs: number; businessMs: number; limit: number },
): Promise<OverdueAck[]> {
  const { rows } = await db.query<{
    consultation_id: string;
    practice_id: string;
    itk_message_id: string;
    missing: 'infrastructure' | 'business';
    waited_ms: number;
  }>(
    `SELECT w.consultation_id, w.practice_id, m.itk_message_id,
            CASE WHEN m.infrastructure_code IS NULL THEN 'infrastructure' ELSE 'business' END AS missing,
            (extract(epoch FROM now() - COALESCE(m.infrastructure_at, m.sent_at)) * 1000)::float8 AS waited_ms
       FROM write_back w JOIN send_document_message m ON m.itk_message_id = w.itk_message_id
      WHERE w.status = 'sent'
        AND ((m.infrastructure_code IS NULL AND m.sent_at < now() - make_interval(secs => $1))
          OR (m.infrastructure_code = '20013' AND m.business_code IS NULL
              AND m.infrastructure_at < now() - make_interval(secs => $2)))
      ORDER BY m.sent_at LIMIT $3`,
    [limits.infrastructureMs / 1000, limits.businessMs / 1000, limits.limit],
  );
  return rows.map((row) => ({
    writeBack: { consultationId: row.consultation_id, practiceId: row.practice_id },
    itkMessageId: row.itk_message_id,
    missing: row.missing,
    waitedMs: row.waited_ms,
  }));
}

/** sent → needs_attention, saying how long it waited; false when an acknowledgement got there first. */
export async function markAckOverdue(db: Queryable, overdue: OverdueAck, reason: string): Promise<boolean> {
  const column = overdue.missing === 'infrastructure' ? 'infrastructure_code' : 'business_code';
  const { rowCount } = await db.query(
    `UPDATE write_back w SET status = 'needs_attention', last_error = $3, updated_at = now()
       FROM send_document_message m
      WHERE w.consultation_id = $1 AND w.status = 'sent' AND w.itk_message_id = $2
        AND m.itk_message_id = w.itk_message_id AND m.${column} IS NULL`,
    [overdue.writeBack.consultationId, overdue.itkMessageId, reason],
  );
  return rowCount === 1;
}
