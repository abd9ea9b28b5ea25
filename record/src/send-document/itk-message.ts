import {
  MESSAGE_HANDLING_EXTENSION,
  ODS_CODE_SYSTEM,
  PROFILE,
  RECIPIENT_TYPE_SYSTEM,
  RECIPIENT_TYPES,
  UUID_SYSTEM,
} from './codes';
import { derivedUuid } from './ids';
import type { Stu3Bundle, Stu3Coding, Stu3Resource } from './types';

export const urn = (id: string): string => `urn:uuid:${id}`;

/** What tells one ITK3 message from another: a Send Document message and an acknowledgement alike. */
export interface ItkMessageInput {
  /** The MessageHeader's id (what an acknowledgement names); the other ids are derived from it. */
  messageId: string;
  now: Date;
  event: Required<Stu3Coding>;
  /** The sending organisation's ODS code, and its MESH mailbox (`source.endpoint`). */
  senderOdsCode: string;
  sourceEndpoint: string;
  /** The handling extension's keys: both acknowledgements requested or neither, for action or information. */
  handling: {
    acknowledgementsRequested: boolean;
    recipientType: 'FA' | 'FI';
    messageDefinition: string;
    senderReference: string;
    localExtension?: string;
  };
  /** For a response: `MessageHeader.response`. */
  response?: Record<string, unknown>;
  /** The one resource the header focuses on (the document Bundle, or a response's OperationOutcome). */
  focus: Stu3Resource;
}

/**
 * An ITK3 message Bundle (ITK-Message-Bundle-1): the ITK-MessageHeader-2 first, then the sending
 * organisation it names, then the resource it focuses on. The one place both the Send Document
 * message and the acknowledgements are framed.
 */
export function buildItkMessageBundle(input: ItkMessageInput): Stu3Bundle {
  const { messageId, handling } = input;
  const sender: Stu3Resource = {
    resourceType: 'Organization',
    id: derivedUuid(messageId, 'sender'),
    meta: { profile: [PROFILE.headerOrganization] },
    identifier: [{ system: ODS_CODE_SYSTEM, value: input.senderOdsCode }],
  };
  const keys: Record<string, unknown>[] = [
    { url: 'BusAckRequested', valueBoolean: handling.acknowledgementsRequested },
    { url: 'InfAckRequested', valueBoolean: handling.acknowledgementsRequested },
    {
      url: 'RecipientType',
      valueCoding: {
        system: RECIPIENT_TYPE_SYSTEM,
        code: handling.recipientType,
        display: RECIPIENT_TYPES[handling.recipientType],
      },
    },
    { url: 'MessageDefinition', valueReference: { reference: handling.messageDefinition } },
    { url: 'SenderReference', valueString: handling.senderReference },
  ];
  if (handling.localExtension) keys.push({ url: 'LocalExtension', valueString: handling.localExtension });
  const header: Stu3Resource = {
    resourceType: 'MessageHeader',
    id: messageId,
    meta: { profile: [PROFILE.messageHeader] },
    extension: [{ url: MESSAGE_HANDLING_EXTENSION, extension: keys }],
    event: { ...input.event },
    // ITK3 leaves `destination` and `receiver` out: MESH routes the message
    sender: { reference: urn(sender.id!) },
    timestamp: input.now.toISOString(),
    source: { endpoint: input.sourceEndpoint },
    ...(input.response ? { response: input.response } : {}),
    focus: [{ reference: urn(input.focus.id!) }], // STU3: 0..*, ITK3: exactly one
  };
  const bundleId = derivedUuid(messageId, 'message-bundle');
  return {
    resourceType: 'Bundle',
    id: bundleId,
    meta: { profile: [PROFILE.messageBundle], lastUpdated: input.now.toISOString() },
    identifier: { system: UUID_SYSTEM, value: bundleId },
    type: 'message',
    entry: [header, sender, input.focus].map((resource) => ({ fullUrl: urn(resource.id!), resource })),
  };
}
