// GP Connect Send Document: the summary as an ITK3 FHIR (STU3) message carried by MESH to the
// practice's GP system. Sending makes the write-back `sent`; the GP system's acknowledgements, read
// from the service's MESH inbox by the ack poller, make it filed (or not).
//
// Never sent twice as two messages: the message (its ITK id and bytes) is recorded before it goes to
// MESH, and a restart before MESH's answer was stored re-sends those very bytes (the GP system knows
// the ITK id as a duplicate); MESH's id is stored with `sent` in one statement.
import type pg from 'pg';
import { PermanentFailure } from '../filing/errors';
import { MeshError, type MeshClient } from '../mesh';
import {
  findDeliveredDocument,
  findUnsentMessage,
  markSent,
  recordOutgoingMessage,
  type OutgoingMessage,
} from '../write-back';
import type { FilingTransport, ReadyFiling } from './index';

/** MESH workflow of a Send Document message, and of the ITK3 acknowledgements that answer it. */
export const SEND_DOCUMENT_WORKFLOW = 'GPFED_CONSULT_REPORT';
export const SEND_DOCUMENT_ACK_WORKFLOW = 'GPFED_CONSULT_REPORT_ACK';

/** The message built for one write-back: the ITK3 message Bundle, its ITK id and its document's. */
export interface ComposedMessage {
  bundle: unknown;
  messageId: string;
  documentId: string;
}

/** What builds and checks the ITK3 message (record/src/send-document), as this transport uses it. */
export interface SendDocumentComposer {
  compose(
    filing: ReadyFiling,
    context: {
      /** The document this one replaces (`relatesTo`): one an earlier message delivered, or null. */
      replacesDocumentId: string | null;
      /** The service's MESH mailbox: the message's source. */
      senderMailboxId: string;
      /** "Version {n}" of the report: 1, then one more for each replacement. */
      documentVersion: number;
    },
  ): Promise<ComposedMessage>;
  /** The STU3, ITK3 and CareConnect checks; a message that fails them is never sent. */
  validate(bundle: unknown): { ok: true } | { ok: false; problems: string[] };
}

export interface SendDocumentTransportDeps {
  pool: pg.Pool;
  /** The service's own MESH mailbox; undefined when RECORD_MESH_* is not set (nothing can be sent). */
  mesh: Pick<MeshClient, 'send'> | undefined;
  senderMailboxId: string;
  composer: SendDocumentComposer;
}

/** The mailbox MESH routes the message to: the GP system's, or the patient's registered practice's. */
export function meshRecipient(filing: ReadyFiling): string {
  const { sendDocument } = filing.target;
  if (sendDocument.routeByPatient) {
    const [year, month, day] = filing.patient.birthDate.split('-');
    const surname = filing.patient.familyName.toUpperCase().replace(/[^A-Z'-]/g, '');
    return `GPPROVIDER_${filing.data.nhsNumber}_${day}${month}${year}_${surname}`;
  }
  if (!sendDocument.recipientMailbox) {
    throw new PermanentFailure(
      "the practice has no GP system MESH mailbox set up (or routing by the patient's practice)",
    );
  }
  return sendDocument.recipientMailbox;
}

/** `mex-subject` as the online consultation variant gives it. */
function subjectOf(filing: ReadyFiling): string {
  const name = `${filing.patient.givenName} ${filing.patient.familyName}`;
  return `Online consultation report for ${name}, NHS Number ${filing.data.nhsNumber}, ODS Code ${filing.data.practice.odsCode}`;
}

export function createSendDocumentTransport(deps: SendDocumentTransportDeps): FilingTransport {
  return {
    async file(job, filing, log) {
      const { mesh } = deps;
      // retried: the service's mailbox is the operator's to set up, not the practice's to fix
      if (!mesh)
        throw new Error('the service has no MESH mailbox set up (RECORD_MESH_*), so nothing can be sent');
      const unsent = await findUnsentMessage(deps.pool, job.consultationId);
      const message = unsent ?? (await newMessage(deps, job.consultationId, filing));
      if (!unsent && !(await recordOutgoingMessage(deps.pool, job, message))) {
        return { outcome: 'skipped', reason: 'not pending' };
      }
      const { messageId: meshMessageId } = await mesh
        .send({
          to: message.mexTo,
          workflowId: SEND_DOCUMENT_WORKFLOW,
          subject: subjectOf(filing),
          localId: filing.data.practice.odsCode,
          body: message.body,
          contentType: 'application/fhir+json',
        })
        .catch((error: unknown) => {
          throw sendFailure(error);
        });
      const moved = await markSent(deps.pool, job.consultationId, {
        itkMessageId: message.itkMessageId,
        meshMessageId,
      });
      log.info({ resent: Boolean(unsent), moved, bytes: message.body.length }, 'write-back sent by MESH');
      return { outcome: 'sent', itkMessageId: message.itkMessageId, meshMessageId, resent: Boolean(unsent) };
    },
  };
}

async function newMessage(
  deps: SendDocumentTransportDeps,
  consultationId: string,
  filing: ReadyFiling,
): Promise<OutgoingMessage> {
  const mexTo = meshRecipient(filing);
  const delivered = await findDeliveredDocument(deps.pool, consultationId);
  const replacesDocumentId = delivered?.documentId ?? null;
  const composed = await deps.composer.compose(filing, {
    replacesDocumentId,
    senderMailboxId: deps.senderMailboxId,
    documentVersion: (delivered?.deliveredCount ?? 0) + 1,
  });
  const checked = deps.composer.validate(composed.bundle);
  if (!checked.ok) {
    throw new PermanentFailure(
      `the message is not valid, so it was not sent: ${checked.problems.join('; ')}`,
    );
  }
  return {
    itkMessageId: composed.messageId,
    documentId: composed.documentId,
    replacesDocumentId,
    mexTo,
    body: Buffer.from(JSON.stringify(composed.bundle), 'utf8'),
  };
}

/**
 * What a failed send means for the write-back: MESH refusing the message itself (an unregistered
 * recipient, a workflow the mailbox may not send) fails it for a person to fix; anything about the
 * service's own mailbox (credentials, address) or MESH being away is retried, since the operator's
 * fix should not need every write-back replayed.
 */
function sendFailure(error: unknown): Error {
  if (!(error instanceof MeshError)) return error instanceof Error ? error : new Error(String(error));
  if (error.code === 'mesh-refused')
    return new PermanentFailure(`MESH refused the message: ${error.message}`);
  return new Error(`MESH could not take the message (${error.code}): ${error.message}`);
}
