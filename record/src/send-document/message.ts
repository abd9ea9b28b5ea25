import {
  ONLINE_CONSULTATION_LOCAL_EXTENSION,
  SEND_DOCUMENT_EVENT,
  SEND_DOCUMENT_MESSAGE_DEFINITION,
} from './codes';
import { buildDocumentBundle } from './document';
import { newUuid } from './ids';
import type { SendDocumentInput } from './input';
import { buildItkMessageBundle } from './itk-message';
import type { Stu3Bundle } from './types';

export type { ReportInput, ReportPatient, SendDocumentInput } from './input';

/**
 * One GP Connect Send Document message (ITK3, FHIR STU3), online consultation report variant: an
 * ITK-Message-Bundle-1 whose first entry is the ITK-MessageHeader-2 (event ITK007C, handling keys:
 * both acknowledgements requested, for action, the Send Document message definition, our
 * consultation id as SenderReference, the OC variant's LocalExtension), then the sending
 * organisation the header names, then the ITK document Bundle it focuses on.
 *
 * `messageId` is the MessageHeader's id, which every ITK3 acknowledgement names
 * (`MessageHeader.response.identifier`); `documentId` is the document Bundle's identifier, which a
 * later replacement names in `Composition.relatesTo`. Nothing is checked here: `validateItkMessage`
 * decides whether it may be sent.
 *
 * Uncertain, to check against the live specs: GP Connect's receiver error table (GPCM-SD-68..72)
 * also names a `Priority` handling key that must be `routine` (10006), which neither the handling
 * extension's published examples nor senddoc_requirements.yml's key list carries; it is left out
 * (a receiver enforcing it would answer 10006, shown to staff in words). `receiver` is left out
 * as senddoc_requirements.yml says (MESH routes), so `recipientOdsCode` only matters to MESH.
 */
export function buildSendDocumentMessage(input: SendDocumentInput): {
  bundle: Stu3Bundle;
  messageId: string;
  documentId: string;
} {
  const messageId = input.messageId ?? newUuid();
  const documentId = input.documentId ?? newUuid();
  const now = input.now ?? new Date();
  const document = buildDocumentBundle(input, documentId, now);
  const bundle = buildItkMessageBundle({
    messageId,
    now,
    event: SEND_DOCUMENT_EVENT,
    senderOdsCode: input.senderOdsCode,
    sourceEndpoint: input.senderMailboxId ?? input.senderOdsCode,
    handling: {
      acknowledgementsRequested: true,
      recipientType: 'FA',
      messageDefinition: SEND_DOCUMENT_MESSAGE_DEFINITION,
      // senddoc_requirements.yml: the sender's reference for the encounter
      senderReference: input.version.content.consultation.id,
      localExtension: ONLINE_CONSULTATION_LOCAL_EXTENSION,
    },
    focus: document,
  });
  return { bundle, messageId, documentId };
}
