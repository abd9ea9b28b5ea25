import type { LoadedFiling } from '../filing/load';

/** Who the report is about, as the request holds them when it is sent (the summary version has no identity). */
export interface ReportPatient {
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD. */
  birthDate: string;
}

/**
 * What the PDF report shows: the loaded write-back (the frozen summary version, its files read from
 * their verified copies, the practice), the patient's NHS number and who they are.
 */
export type ReportInput = Omit<LoadedFiling['data'], 'nhsNumber'> & {
  nhsNumber: string | null;
  patient: ReportPatient;
  /** When the report was made (shown on it, and its PDF's creation date); now by default. */
  generatedAt?: Date;
};

/**
 * One GP Connect Send Document message: the loaded write-back, the patient, the PDF report made from
 * them, and who sends it to whom. A message built from a patient whose identity is not confirmed, or
 * with no NHS number, is still built (so the refusal can say why) and refused by `validateItkMessage`.
 */
export type SendDocumentInput = ReportInput & {
  /** The filing gate's condition (`LoadedFiling.identityConfirmed`): a verified number is sent as 01. */
  identityConfirmed: boolean;
  pdf: Buffer;
  senderOdsCode: string;
  /** The practice the report goes to (routing is MESH's: ITK3 Send Document leaves `receiver` out). */
  recipientOdsCode: string;
  /** The sender's MESH mailbox: `MessageHeader.source.endpoint` (the sender's ODS code when not given). */
  senderMailboxId?: string;
  /** The document Bundle identifier of an earlier document a message delivered (infrastructure ack 20013). */
  replacesDocumentId?: string;
  /** "Version {n}" of this report (1, then 2 for its first replacement, ...); 1 by default. */
  documentVersion?: number;
  /** For tests: the MessageHeader id, the document Bundle identifier, the time; random and now by default. */
  messageId?: string;
  documentId?: string;
  now?: Date;
};
