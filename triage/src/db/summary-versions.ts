// The `summary_version` table: what closing a request freezes for the GP record (see
// contracts/src/summary.ts). Written here, in the close's transaction, because what it freezes is
// triage's (the form, the answers, the thread, the files); the record worker only reads the
// version its write-back names. A version never changes (a trigger refuses it).
import { createHash } from 'node:crypto';
import type { Questionnaire } from '@medplum/fhirtypes';
import { canonicalJson, resolveAnswers, summaryFormat, type SummaryContent } from '@gpc/contracts';
import { listAttachments } from './attachments';
import { listMessages } from './messages';
import type { Queryable } from './queryable';

export interface FrozenSummaryVersion {
  id: string;
  contentHash: string;
  content: SummaryContent;
}

/** The hash a version is stored and filed with: sha256 of its canonical JSON, hex. */
export const summaryContentHash = (content: SummaryContent): string =>
  createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');

interface ClosedRow {
  id: string;
  reference: string;
  kind: 'medical' | 'admin';
  mode: 'online' | 'video';
  created_at: Date;
  closed_at: Date;
  closed_by: string;
  closed_by_name: string | null;
  outcome_code: string;
  outcome_display: string;
  summary: string;
  questionnaire_response: { item?: unknown } | null;
  form_id: string | null;
  form: Questionnaire | null;
}

/**
 * Freezes the summary version of a request just closed (in the close's transaction, after
 * `closeConsultation`): what was shown and written, as it stands at this moment. Throws when the
 * request is not a closed one of the practice (the caller closed it in this transaction).
 */
export async function freezeSummaryVersion(
  client: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<FrozenSummaryVersion> {
  const { rows } = await client.query<ClosedRow>(
    `SELECT c.id, c.reference, c.kind, c.mode, c.created_at, c.closed_at, c.closed_by, s.display_name AS closed_by_name,
            c.outcome_code, c.outcome_display, c.summary, c.questionnaire_response, q.id AS form_id, q.resource AS form
       FROM consultation c LEFT JOIN questionnaire q ON q.id = c.questionnaire_id LEFT JOIN staff s ON s.id = c.closed_by
      WHERE c.id = $1 AND c.practice_id = $2 AND c.status = 'closed'`,
    [consultationId, practiceId],
  );
  const closed = rows[0];
  if (!closed) throw new Error('freezeSummaryVersion: the request is not closed');
  // one after another: a transaction's client runs one query at a time
  const messages = await listMessages(client, consultationId);
  const staffNames = await messageAuthors(client, consultationId);
  const files = await listAttachments(client, practiceId, consultationId);
  const content: SummaryContent = {
    format: summaryFormat,
    consultation: {
      id: closed.id,
      reference: closed.reference,
      kind: closed.kind,
      mode: closed.mode,
      createdAt: closed.created_at.toISOString(),
    },
    form:
      closed.form_id && closed.form
        ? {
            id: closed.form_id,
            title: closed.form.title ?? null,
            url: closed.form.url ?? null,
            version: closed.form.version ?? null,
          }
        : null,
    // the one function the dashboard shows them by
    answers: resolveAnswers(closed.form, closed.questionnaire_response),
    messages: messages.map((message) => ({
      id: message.id,
      author: message.author === 'staff' ? 'staff' : 'patient',
      authorName: message.author === 'staff' ? (staffNames.get(message.id) ?? null) : null,
      body: message.body,
      at: message.at,
    })),
    files: files.map((file) => ({
      id: file.id,
      key: file.verifiedKey,
      sha256: file.sha256,
      contentType: file.contentType,
      size: file.sizeBytes,
      sentAt: file.createdAt.toISOString(),
    })),
    outcome: { code: closed.outcome_code, display: closed.outcome_display },
    summary: closed.summary,
    // a clinician who has since left is still the author; only the id may remain
    closedBy: { id: closed.closed_by, name: closed.closed_by_name ?? 'Practice clinician' },
    closedAt: closed.closed_at.toISOString(),
  };
  const contentHash = summaryContentHash(content);
  const inserted = await client.query<{ id: string }>(
    `INSERT INTO summary_version (consultation_id, practice_id, content, content_hash, created_by)
     VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [consultationId, practiceId, JSON.stringify(content), contentHash, closed.closed_by],
  );
  return { id: inserted.rows[0]!.id, contentHash, content };
}

/** The names of the staff who wrote the request's messages, by message id. */
async function messageAuthors(client: Queryable, consultationId: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ id: string; name: string }>(
    `SELECT m.id, s.display_name AS name FROM message m JOIN staff s ON s.id = m.staff_id
      WHERE m.consultation_id = $1 AND m.author = 'staff'`,
    [consultationId],
  );
  return new Map(rows.map((row) => [row.id, row.name]));
}

/** A request's summary versions, oldest first (one per close). */
export async function listSummaryVersions(
  db: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<FrozenSummaryVersion[]> {
  const { rows } = await db.query<{ id: string; content_hash: string; content: SummaryContent }>(
    `SELECT id, content_hash, content FROM summary_version WHERE consultation_id = $1 AND practice_id = $2
      ORDER BY created_at, id`,
    [consultationId, practiceId],
  );
  return rows.map((row) => ({ id: row.id, contentHash: row.content_hash, content: row.content }));
}
