import {
  MESSAGE_HANDLING_EXTENSION,
  PROFILE,
  RESPONSE_CODE_SYSTEM,
  RESPONSE_EVENT,
  RESPONSE_MESSAGE_DEFINITION,
} from './codes';
import { derivedUuid, newUuid } from './ids';
import { buildItkMessageBundle, urn } from './itk-message';
import {
  describeItkCode,
  isItkAckCode,
  isPositiveItkCode,
  ITK_RESPONSE_CODES,
  itkCodeKind,
  type ItkAckCode,
} from './response-codes';
import type { Stu3Bundle, Stu3Resource } from './types';

export {
  describeItkCode,
  isItkAckCode,
  isPositiveItkCode,
  itkCodeKind,
  type ItkAckCode,
} from './response-codes';

export type ItkAckKind = 'infrastructure' | 'business';

export interface ItkAcknowledgementInput {
  /** The Send Document message being answered. */
  original: Stu3Bundle;
  kind: ItkAckKind;
  code: ItkAckCode;
  /** The answering GP system's practice. */
  senderOdsCode: string;
  /** The answering system's MESH mailbox (`source.endpoint`); its ODS code when not given. */
  senderMailboxId?: string;
  /** What went wrong, for a negative code (`OperationOutcome.issue.diagnostics`). */
  diagnostics?: string;
  /** For tests: the response's MessageHeader id and time. */
  messageId?: string;
  now?: Date;
}

/** STU3 IssueType for each response code (`OperationOutcome.issue.code`). */
const ISSUE_TYPE: Partial<Record<ItkAckCode, string>> = {
  '20013': 'informational',
  '30001': 'informational',
  '20001': 'not-found',
  '20002': 'not-found',
  '20003': 'security',
  '20012': 'security',
  '20004': 'not-supported',
  '20005': 'not-supported',
  '20006': 'structure',
  '20007': 'duplicate',
  '20008': 'duplicate',
  '20014': 'processing',
  '20015': 'too-long',
  '30002': 'business-rule',
  '30003': 'business-rule',
  '30004': 'business-rule',
};

/**
 * An ITK3 response (event ITK008M) to a Send Document message: an infrastructure acknowledgement
 * (20013 received, or a negative 1xxxx/2xxxx code) or a business acknowledgement (30001 filed in the
 * workflow, or 30002..30004). `MessageHeader.response.identifier` names the original MessageHeader
 * id; `response.code` is ok for 20013 and 30001, fatal-error otherwise; the code itself is in an
 * ITK-Response-OperationOutcome-1's `issue.details`. Both acknowledgement requests are false in a
 * response, and the SenderReference is the original's. Used by the simulated GP inbox.
 */
export function buildItkAcknowledgement(input: ItkAcknowledgementInput): Stu3Bundle {
  if (!isItkAckCode(input.code)) throw new TypeError(`'${String(input.code)}' is not an ITK3 response code`);
  if (itkCodeKind(input.code) !== input.kind) {
    throw new TypeError(`${input.code} is not an ${input.kind} acknowledgement code`);
  }
  const original = originalHeader(input.original);
  if (!original) throw new TypeError('the original is not an ITK3 message (no MessageHeader first)');
  const messageId = input.messageId ?? newUuid();
  const now = input.now ?? new Date();
  const positive = isPositiveItkCode(input.code);
  const outcome: Stu3Resource = {
    resourceType: 'OperationOutcome',
    id: derivedUuid(messageId, 'outcome'),
    meta: { profile: [PROFILE.responseOutcome] },
    issue: [
      {
        severity: positive ? 'information' : 'fatal',
        code: ISSUE_TYPE[input.code] ?? 'invalid',
        details: {
          coding: [
            {
              system: RESPONSE_CODE_SYSTEM,
              code: input.code,
              display: ITK_RESPONSE_CODES[input.code].display,
            },
          ],
        },
        ...(input.diagnostics ? { diagnostics: input.diagnostics } : {}),
      },
    ],
  };
  return buildItkMessageBundle({
    messageId,
    now,
    event: RESPONSE_EVENT,
    senderOdsCode: input.senderOdsCode,
    sourceEndpoint: input.senderMailboxId ?? input.senderOdsCode,
    handling: {
      acknowledgementsRequested: false,
      recipientType: 'FI',
      messageDefinition: RESPONSE_MESSAGE_DEFINITION,
      senderReference: original.senderReference ?? 'None',
    },
    response: {
      identifier: original.id,
      code: positive ? 'ok' : 'fatal-error',
      details: { reference: urn(outcome.id!) },
    },
    focus: outcome,
  });
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  Boolean(value) && typeof value === 'object' && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function originalHeader(bundle: unknown): { id: string; senderReference: string | undefined } | undefined {
  const header = isObject(bundle) ? (list(bundle.entry)[0] as Json | undefined)?.resource : undefined;
  if (!isObject(header) || header.resourceType !== 'MessageHeader' || typeof header.id !== 'string')
    return undefined;
  const handling = list(header.extension).find(
    (item) => isObject(item) && item.url === MESSAGE_HANDLING_EXTENSION,
  ) as Json | undefined;
  const reference = list(handling?.extension).find(
    (item) => isObject(item) && item.url === 'SenderReference',
  ) as Json | undefined;
  return {
    id: header.id,
    senderReference: typeof reference?.valueString === 'string' ? reference.valueString : undefined,
  };
}

/** What came back was not an ITK3 acknowledgement this service can read; `reason` says where it failed. */
export class ItkAcknowledgementInvalid extends Error {
  override name = 'ItkAcknowledgementInvalid';
  readonly code = 'ITK_ACK_INVALID';
  constructor(readonly reason: string) {
    super(`not an ITK3 acknowledgement: ${reason}`);
  }
}

export interface ParsedItkAcknowledgement {
  kind: ItkAckKind;
  code: ItkAckCode;
  /** The MessageHeader id of the message acknowledged (ours). */
  acknowledgedMessageId: string;
  /** The code in words for staff (`describeItkCode`). */
  text: string;
  /** The GP system's own words, when it gave any (never shown as ours; may be logged only if it has no patient data). */
  diagnostics?: string;
}

/**
 * Reads an ITK3 acknowledgement (a Bundle, or its JSON as a string or bytes): which message it
 * answers, its code and so its kind. Anything else throws `ItkAcknowledgementInvalid`.
 */
export function parseItkAcknowledgement(bundle: unknown): ParsedItkAcknowledgement {
  const parsed =
    typeof bundle === 'string' || Buffer.isBuffer(bundle) ? parseJson(bundle.toString()) : bundle;
  if (!isObject(parsed) || parsed.resourceType !== 'Bundle' || parsed.type !== 'message') {
    throw new ItkAcknowledgementInvalid('it is not a FHIR message Bundle');
  }
  const entries = new Map<string, Json>();
  for (const entry of list(parsed.entry)) {
    if (isObject(entry) && typeof entry.fullUrl === 'string' && isObject(entry.resource))
      entries.set(entry.fullUrl, entry.resource);
  }
  const header = (list(parsed.entry)[0] as Json | undefined)?.resource;
  if (!isObject(header) || header.resourceType !== 'MessageHeader')
    throw new ItkAcknowledgementInvalid('its first entry is not a MessageHeader');
  const event = header.event as Json | undefined;
  if (event?.system !== RESPONSE_EVENT.system || event.code !== RESPONSE_EVENT.code) {
    throw new ItkAcknowledgementInvalid(
      `its event is not ${RESPONSE_EVENT.code} (${RESPONSE_EVENT.display})`,
    );
  }
  const response = header.response as Json | undefined;
  if (!isObject(response) || typeof response.identifier !== 'string' || response.identifier === '') {
    throw new ItkAcknowledgementInvalid('its MessageHeader.response names no message');
  }
  const outcomeReference =
    (response.details as Json | undefined)?.reference ??
    (list(header.focus)[0] as Json | undefined)?.reference;
  const outcome = typeof outcomeReference === 'string' ? entries.get(outcomeReference) : undefined;
  if (!outcome || outcome.resourceType !== 'OperationOutcome')
    throw new ItkAcknowledgementInvalid('it has no OperationOutcome');
  const codings = list(outcome.issue)
    .filter(isObject)
    .flatMap((issue) =>
      list((issue.details as Json | undefined)?.coding)
        .filter(isObject)
        .map((coding) => ({ issue, coding })),
    );
  const found = codings.find(({ coding }) => coding.system === RESPONSE_CODE_SYSTEM);
  if (!found) throw new ItkAcknowledgementInvalid(`its OperationOutcome has no ${RESPONSE_CODE_SYSTEM} code`);
  const code = found.coding.code;
  if (!isItkAckCode(code))
    throw new ItkAcknowledgementInvalid(`'${String(code)}' is not an ITK3 response code this service knows`);
  const positive = isPositiveItkCode(code);
  if ((response.code === 'ok') !== positive) {
    throw new ItkAcknowledgementInvalid(
      `its response code '${String(response.code)}' contradicts ITK3 code ${code}`,
    );
  }
  const diagnostics = typeof found.issue.diagnostics === 'string' ? found.issue.diagnostics : undefined;
  return {
    kind: itkCodeKind(code),
    code,
    acknowledgedMessageId: response.identifier,
    text: describeItkCode(code),
    ...(diagnostics ? { diagnostics } : {}),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ItkAcknowledgementInvalid('it is not JSON');
  }
}
