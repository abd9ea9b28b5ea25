import type { FilingData } from '../fhir/bundle';
import { claimAttemptSql, type Queryable } from '../write-back';

/** Reads a stored attachment's bytes (S3 in production). */
export type DocumentSource = (s3Key: string) => Promise<Buffer>;

export interface FilingTarget {
  /** Null when the practice has not set up its FHIR endpoint. */
  fhirBaseUrl: string | null;
  fhirAuth: unknown;
}

interface ConsultationRow {
  id: string;
  reference: string;
  kind: 'medical' | 'admin';
  mode: 'online' | 'video';
  ods_code: string;
  practice_name: string;
  fhir_base_url: string | null;
  fhir_auth: unknown;
  patient_nhs_number: string | null;
  created_at: Date;
  closed_at: Date | null;
  closed_by: string | null;
  closed_by_name: string | null;
  outcome_code: string | null;
  outcome_display: string | null;
  summary: string | null;
  form_title: string | null;
  questionnaire_response: { questionnaire?: string; item?: unknown[] } | null;
}

interface AttachmentRow {
  id: string;
  s3_key: string;
  content_type: string;
  created_at: string;
}

/** What a write-back files, and where; the NHS number is checked before anything is sent. */
export interface LoadedFiling {
  data: Omit<FilingData, 'nhsNumber'> & { nhsNumber: string | null };
  target: FilingTarget;
}

/** A write-back claimed for one attempt: the attempt's number, and the load of what it files. */
export interface ClaimedFiling {
  attempt: number;
  /** Undefined when the consultation is not a closed one of this practice. */
  load: () => Promise<LoadedFiling | undefined>;
}

/**
 * Claims a pending write-back for one attempt (counting it: the write-back module's claim) and loads
 * what it files, as committed now (the job carries only ids), in one statement: one round trip per
 * job, not four. Undefined when the write-back is not pending (nothing to do). Attachments' bytes
 * are read from S3 by `load`, inside the attempt.
 */
export async function claimFiling(
  db: Queryable,
  consultationId: string,
  practiceId: string,
  readDocument: DocumentSource,
): Promise<ClaimedFiling | undefined> {
  const { rows } = await db.query<ConsultationRow & { attempts: number; attachments: AttachmentRow[] }>(
    claimAttemptSql(
      `SELECT w.attempts, c.id, c.reference, c.kind, c.mode, p.ods_code, p.name AS practice_name, p.fhir_base_url,
              p.fhir_auth, c.patient_nhs_number, c.created_at, c.closed_at, c.closed_by, s.display_name AS closed_by_name,
              c.outcome_code, c.outcome_display, c.summary, q.resource ->> 'title' AS form_title, c.questionnaire_response,
              (SELECT coalesce(json_agg(json_build_object('id', a.id, 's3_key', a.s3_key, 'content_type', a.content_type,
                                                          'created_at', a.created_at) ORDER BY a.created_at, a.id), '[]')
                 FROM attachment a WHERE a.consultation_id = c.id AND a.practice_id = c.practice_id) AS attachments
         FROM claimed w
         LEFT JOIN consultation c ON c.id = w.consultation_id AND c.practice_id = w.practice_id AND c.status = 'closed'
         LEFT JOIN practice p ON p.id = c.practice_id
         LEFT JOIN staff s ON s.id = c.closed_by
         LEFT JOIN questionnaire q ON q.id = c.questionnaire_id`,
    ),
    [consultationId, practiceId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { attempt: row.attempts, load: () => toFilingData(row, row.attachments, readDocument) };
}

async function toFilingData(
  row: ConsultationRow,
  attachments: AttachmentRow[],
  readDocument: DocumentSource,
): Promise<LoadedFiling | undefined> {
  if (!row.id || !row.closed_at || !row.outcome_code || !row.outcome_display || row.summary === null) {
    return undefined;
  }
  const documents = [];
  for (const file of attachments) {
    documents.push({
      id: file.id,
      contentType: file.content_type,
      data: await readDocument(file.s3_key),
      createdAt: new Date(file.created_at),
    });
  }
  return {
    target: { fhirBaseUrl: row.fhir_base_url, fhirAuth: row.fhir_auth },
    data: {
      consultationId: row.id,
      reference: row.reference,
      kind: row.kind,
      mode: row.mode,
      practice: { odsCode: row.ods_code, name: row.practice_name },
      nhsNumber: row.patient_nhs_number,
      createdAt: row.created_at,
      closedAt: row.closed_at,
      // a clinician who has since left is still the author; only the id may remain
      closedBy: { id: row.closed_by ?? 'unknown', name: row.closed_by_name ?? 'Practice clinician' },
      outcome: { code: row.outcome_code, display: row.outcome_display },
      summary: row.summary,
      formTitle: row.form_title,
      answers: row.questionnaire_response
        ? {
            ...(row.questionnaire_response.questionnaire
              ? { questionnaire: row.questionnaire_response.questionnaire }
              : {}),
            item: row.questionnaire_response.item ?? [],
          }
        : null,
      documents,
    },
  };
}
