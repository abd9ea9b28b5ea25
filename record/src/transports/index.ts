// The ways a write-back reaches a GP system, behind one interface: the write-back job claims the row,
// loads the frozen summary version and checks the patient, then hands it to the practice's transport.
// - `fhir-r4`: a FHIR R4 transaction posted to the practice's endpoint; filed when it answers.
// - `gp-connect-send-document`: an ITK3 message over MESH; sent when MESH takes it, filed when the GP
//   system's acknowledgements say so (see `./send-document-acks.ts`).
import type { Logger } from 'pino';
import type { WriteBackJob } from '@gpc/contracts';
import type { LoadedFiling } from '../filing/load';
import type { WriteBackTransport } from '../write-back';

/** A loaded write-back whose patient is confirmed for a valid NHS number: ready for its transport. */
export type ReadyFiling = LoadedFiling & { data: LoadedFiling['data'] & { nhsNumber: string } };

export type TransportResult =
  | { outcome: 'filed'; locations: string[]; alreadyFiled: boolean }
  /** Send Document: MESH has it; the acknowledgements decide the rest. */
  | { outcome: 'sent'; itkMessageId: string; meshMessageId: string; resent: boolean }
  | { outcome: 'skipped'; reason: string };

export interface FilingTransport {
  /**
   * Sends one claimed attempt. Throws `PermanentFailure` (or an error whose `retryable` is false)
   * when no retry can mend it, anything else to be retried.
   */
  file(job: WriteBackJob, filing: ReadyFiling, log: Logger): Promise<TransportResult>;
}

/** Each transport the worker can use; one left out fails its write-backs saying it is not set up. */
export type FilingTransports = Partial<Record<WriteBackTransport, FilingTransport>>;

export { createFhirR4Transport } from './fhir-r4';
export {
  createSendDocumentTransport,
  meshRecipient,
  SEND_DOCUMENT_ACK_WORKFLOW,
  SEND_DOCUMENT_WORKFLOW,
  type ComposedMessage,
  type SendDocumentComposer,
  type SendDocumentTransportDeps,
} from './send-document';
export {
  startAckPoller,
  type AckPoller,
  type AckPollerDeps,
  type ItkAcknowledgement,
} from './send-document-acks';
export { itk3Composer } from './send-document-composer';
