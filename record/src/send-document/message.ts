import {
  MESSAGE_HANDLING_EXTENSION,
  ODS_CODE_SYSTEM,
  ONLINE_CONSULTATION_LOCAL_EXTENSION,
  PROFILE,
  RECIPIENT_TYPE_SYSTEM,
  RECIPIENT_TYPES,
  SEND_DOCUMENT_EVENT,
  SEND_DOCUMENT_MESSAGE_DEFINITION,
  UUID_SYSTEM,
} from './codes';
import { buildDocumentBundle } from './document';
import { derivedUuid, newUuid } from './ids';
import type { SendDocumentInput } from './input';
import type { Stu3Bundle, Stu3Resource } from './types';

export type { ReportInput, ReportPatient, SendDocumentInput } from './input';

const urn = (id: string): string => `urn:uuid:${id}`;

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
  const sender: Stu3Resource = {
    resourceType: 'Organization',
    id: derivedUuid(messageId, 'sender'),
    meta: { profile: [PROFILE.headerOrganization] },
    identifier: [{ system: ODS_CODE_SYSTEM, value: input.senderOdsCode }],
  };
  const header: Stu3Resource = {
    resourceType: 'MessageHeader',
    id: messageId,
    meta: { profile: [PROFILE.messageHeader] },
    extension: [
      {
        url: MESSAGE_HANDLING_EXTENSION,
        extension: [
          { url: 'BusAckRequested', valueBoolean: true },
          { url: 'InfAckRequested', valueBoolean: true },
          {
            url: 'RecipientType',
            valueCoding: { system: RECIPIENT_TYPE_SYSTEM, code: 'FA', display: RECIPIENT_TYPES.FA },
          },
          { url: 'MessageDefinition', valueReference: { reference: SEND_DOCUMENT_MESSAGE_DEFINITION } },
          // senddoc_requirements.yml: the sender's reference for the encounter
          { url: 'SenderReference', valueString: input.version.content.consultation.id },
          { url: 'LocalExtension', valueString: ONLINE_CONSULTATION_LOCAL_EXTENSION },
        ],
      },
    ],
    event: { ...SEND_DOCUMENT_EVENT },
    // Send Document leaves `destination` and `receiver` out: MESH routes the message
    sender: { reference: urn(sender.id!) },
    timestamp: now.toISOString(),
    source: { endpoint: input.senderMailboxId ?? input.senderOdsCode },
    focus: [{ reference: urn(document.id!) }], // STU3: 0..*, ITK3: exactly one
  };
  const bundleId = derivedUuid(messageId, 'message-bundle');
  const bundle: Stu3Bundle = {
    resourceType: 'Bundle',
    id: bundleId,
    meta: { profile: [PROFILE.messageBundle], lastUpdated: now.toISOString() },
    identifier: { system: UUID_SYSTEM, value: bundleId },
    type: 'message',
    entry: [header, sender, document].map((resource) => ({ fullUrl: urn(resource.id!), resource })),
  };
  return { bundle, messageId, documentId };
}
