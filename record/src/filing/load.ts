import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { canonicalJson, SummaryContent } from '@gpc/contracts';
import { openPracticeSecrets, SecretUnreadable, type SecretKeyring } from '@gpc/contracts/secrets';
import type { FilingData, FilingDocument } from '../fhir/bundle';
import { claimAttemptSql, type Queryable, type WriteBackTransport } from '../write-back';
import { PermanentFailure } from './errors';

/** Reads a stored attachment's bytes (S3 in production). */
export type DocumentSource = (s3Key: string) => Promise<Buffer>;

export interface FilingTarget {
  /** Null when the practice has not set up its FHIR endpoint. */
  fhirBaseUrl: string | null;
  /** The practice's `fhir_auth`, its secret decrypted for this attempt (see `@gpc/contracts/secrets`). */
  fhirAuth: unknown;
  /** How this write-back goes (fixed at the close), and the practice's Send Document settings now. */
  transport: WriteBackTransport;
  sendDocument: {
    /** The GP system's MESH mailbox; null unless set (needed unless routed by patient). */
    recipientMailbox: string | null;
    /** `GPPROVIDER_<NHS number>_<DDMMYYYY>_<SURNAME>` routing instead of the mailbox. */
    routeByPatient: boolean;
    /** The receiving organisation's ODS code: the practice's own unless set. */
    recipientOdsCode: string;
  };
}

/** Who the patient is as the request has it now (Send Document's Patient and MESH routing). */
export interface FilingPatient {
  givenName: string;
  familyName: string;
  /** `YYYY-MM-DD` */
  birthDate: string;
}

/** The claimed write-back, its summary version, and what stands now: the practice and the patient's number. */
interface FilingRow {
  attempts: number;
  consultation_id: string | null;
  summary_version_id: string | null;
  version_content: unknown;
  version_hash: string | null;
  ods_code: string | null;
  practice_name: string | null;
  fhir_base_url: string | null;
  fhir_auth: unknown;
  patient_nhs_number: string | null;
  /** helper-a (patient identity): the filing gate's condition, read with the claim. */
  identity_confirmed: boolean | null;
  transport: WriteBackTransport;
  mesh_recipient_mailbox: string | null;
  mesh_route_by_patient: boolean | null;
  send_document_recipient_ods: string | null;
  patient_given_name: string | null;
  patient_family_name: string | null;
  patient_birth_date: string | null;
}

/** What a write-back files, and where; the NHS number is checked before anything is sent. */
export interface LoadedFiling {
  data: Omit<FilingData, 'nhsNumber'> & { nhsNumber: string | null };
  target: FilingTarget;
  /**
   * helper-a (patient identity): whether who the patient is was confirmed for the NHS number the
   * request has now (staff confirmed a verified PDS trace, or NHS login at P9); never sent otherwise.
   */
  identityConfirmed: boolean;
  patient: FilingPatient;
}

/** A write-back claimed for one attempt: the attempt's number, and the load of what it files. */
export interface ClaimedFiling {
  attempt: number;
  /**
   * Undefined when the consultation is not a closed one of this practice. Throws `PermanentFailure`
   * when its summary version is missing, does not match its hash, or a file changed since.
   */
  load: () => Promise<LoadedFiling | undefined>;
}

/**
 * Claims a pending write-back for one attempt (counting it: the write-back module's claim) and loads
 * what it files in one statement: the summary version the write-back names, frozen with the close,
 * and nothing else of the request (what was shown then is what is filed, whatever changed since);
 * the practice's endpoint and the patient's NHS number as they stand. Undefined when the write-back
 * is not pending (nothing to do). Files' bytes are read by `load`, inside the attempt, from the
 * verified copies the version names. The practice's credentials are decrypted with `secrets`, for
 * this practice only: one that does not decrypt fails the write-back for good, saying so.
 */
export async function claimFiling(
  db: Queryable,
  consultationId: string,
  practiceId: string,
  readDocument: DocumentSource,
  secrets?: SecretKeyring,
): Promise<ClaimedFiling | undefined> {
  const { rows } = await db.query<FilingRow>(
    claimAttemptSql(
      `SELECT w.attempts, c.id AS consultation_id, w.summary_version_id, v.content AS version_content,
              v.content_hash AS version_hash, p.ods_code, p.name AS practice_name, p.fhir_base_url, p.fhir_auth,
              c.patient_nhs_number, w.transport, p.mesh_recipient_mailbox, p.mesh_route_by_patient,
              p.send_document_recipient_ods, c.patient_given_name, c.patient_family_name,
              to_char(c.patient_birth_date, 'YYYY-MM-DD') AS patient_birth_date,
              -- helper-a (patient identity): the filing gate, keep with any rewrite of this statement
              c.identity_confirmed_at IS NOT NULL AND c.identity_confirmed_nhs_number = c.patient_nhs_number
                AS identity_confirmed
         FROM claimed w
         LEFT JOIN consultation c ON c.id = w.consultation_id AND c.practice_id = w.practice_id AND c.status = 'closed'
         LEFT JOIN practice p ON p.id = c.practice_id
         LEFT JOIN summary_version v ON v.id = w.summary_version_id AND v.consultation_id = w.consultation_id
                                    AND v.practice_id = w.practice_id`,
    ),
    [consultationId, practiceId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { attempt: row.attempts, load: () => toFilingData(row, practiceId, readDocument, secrets) };
}

async function toFilingData(
  row: FilingRow,
  practiceId: string,
  readDocument: DocumentSource,
  secrets: SecretKeyring | undefined,
): Promise<LoadedFiling | undefined> {
  if (!row.consultation_id || !row.ods_code) return undefined;
  const version = checkedVersion(row);
  return {
    target: {
      fhirBaseUrl: row.fhir_base_url,
      // only the FHIR route uses (and so decrypts) the practice's FHIR credentials
      fhirAuth: row.transport === 'fhir-r4' ? openFhirAuth(row.fhir_auth, practiceId, secrets) : null,
      transport: row.transport,
      sendDocument: {
        recipientMailbox: row.mesh_recipient_mailbox,
        routeByPatient: row.mesh_route_by_patient === true,
        recipientOdsCode: row.send_document_recipient_ods ?? row.ods_code,
      },
    },
    identityConfirmed: row.identity_confirmed === true,
    patient: {
      givenName: row.patient_given_name ?? '',
      familyName: row.patient_family_name ?? '',
      birthDate: row.patient_birth_date ?? '',
    },
    data: {
      nhsNumber: row.patient_nhs_number,
      practice: { odsCode: row.ods_code, name: row.practice_name ?? row.ods_code },
      version,
      documents: await readDocuments(version.content, readDocument),
    },
  };
}

/** The practice's FHIR credentials, decrypted; never sent with another practice's (or a tampered) secret. */
function openFhirAuth(stored: unknown, practiceId: string, secrets: SecretKeyring | undefined): unknown {
  try {
    return openPracticeSecrets(secrets, practiceId, 'fhir_auth', stored);
  } catch (error) {
    if (!(error instanceof SecretUnreadable)) throw error;
    throw new PermanentFailure(`the practice's FHIR credentials cannot be used: ${error.message}`);
  }
}

/** The write-back's summary version, checked: present, of the contract's shape, and matching its hash. */
function checkedVersion(row: FilingRow): FilingData['version'] {
  if (!row.summary_version_id || !row.version_hash) {
    throw new PermanentFailure(
      'this request was closed before summaries were frozen, so there is no summary version to file: file it by hand',
    );
  }
  const content = row.version_content;
  if (!Value.Check(SummaryContent, content)) {
    throw new PermanentFailure('the summary version is not in a form this worker can file');
  }
  const hash = createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
  if (hash !== row.version_hash) {
    throw new PermanentFailure('the summary version does not match its content hash: it has been changed');
  }
  return { id: row.summary_version_id, contentHash: hash, content };
}

/** The version's files from their verified copies, each checked against the sha256 frozen with it. */
async function readDocuments(
  content: SummaryContent,
  readDocument: DocumentSource,
): Promise<FilingDocument[]> {
  const documents: FilingDocument[] = [];
  for (const file of content.files) {
    const data = await readDocument(file.key);
    if (createHash('sha256').update(data).digest('hex') !== file.sha256) {
      throw new PermanentFailure('a file the patient sent has changed since the request was closed');
    }
    documents.push({ id: file.id, contentType: file.contentType, data, createdAt: new Date(file.sentAt) });
  }
  return documents;
}
