// ITK3 response codes (CodeSystem https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1), the ones
// a GP system answering Send Document may use. Prefix 1 and 2: infrastructure; 3: business. 20013
// and 30001 are the positive ones; every other code is fatal and nothing follows it. Sources:
// ../../../../shared/NHS-INTEGRATION.md 1c (the code system; ITK3 response codes page) and GP Connect
// Send Document's error table (GPCM-SD-68..73) for what 10002, 10003, 10006, 10008 and 10010 mean
// there. The 1000x displays are our words for those rules (the code system's own displays were not
// in the stored material); 20004 and 20005 are both about the file type, told apart here as the
// stored notes did not.

/** Each code, its display in the code system's sense, and what staff are told (`describeItkCode`). */
export const ITK_RESPONSE_CODES = {
  '10001': { display: 'Handling specification error', staff: 'the message handling keys were refused' },
  '10002': {
    display: 'Infrastructure acknowledgement not requested',
    staff: 'the message did not ask for a delivery acknowledgement',
  },
  '10003': {
    display: 'Business acknowledgement not requested',
    staff: 'the message did not ask for a filing acknowledgement',
  },
  '10006': { display: 'Priority not routine', staff: 'the message priority was refused' },
  '10008': {
    display: 'Mandated element missing or business rule violated',
    staff: 'the message header or a business rule was refused',
  },
  '10010': { display: 'Recipient type not for action', staff: 'the message was not marked for action' },
  '20001': { display: 'Unrecognised Recipient Person', staff: 'the recipient person is not recognised' },
  '20002': { display: 'Unrecognised Recipient Organisation', staff: 'the GP practice is not recognised' },
  '20003': { display: 'Unrecognised Sender', staff: 'the GP system does not recognise us as a sender' },
  '20004': { display: 'Unsupported file type', staff: 'the file type is not accepted' },
  '20005': { display: 'File type not accepted by recipient', staff: 'the file type is not accepted here' },
  '20006': { display: 'ITK header validation failure', staff: 'ITK header validation failure' },
  '20007': { display: 'Duplicate Message', staff: 'duplicate message (already received)' },
  '20008': { display: 'Duplicate Document', staff: 'duplicate document (already received)' },
  '20009': { display: 'Payload validation failure', staff: 'payload validation failure' },
  '20012': { display: 'Unauthorised Sender', staff: 'we are not authorised to send to this GP system' },
  '20013': { display: 'Success', staff: 'delivered to the GP system' },
  '20014': {
    display: 'Unable to Process Replacement Document',
    staff: 'the GP system could not replace the earlier document',
  },
  '20015': { display: 'Message too large', staff: 'the message is too large' },
  '30001': {
    display: 'Patient known here',
    staff: "filed in the GP system's workflow (patient registered here)",
  },
  '30002': { display: 'Patient not known here', staff: 'patient not registered at this practice' },
  '30003': {
    display: 'Patient no longer at this clinical setting',
    staff: 'patient no longer registered at this practice',
  },
  '30004': {
    display: 'Patient known here and recently deceased',
    staff: 'patient known at this practice and recently deceased',
  },
} as const;

export type ItkAckCode = keyof typeof ITK_RESPONSE_CODES;

export const isItkAckCode = (code: unknown): code is ItkAckCode =>
  typeof code === 'string' && Object.hasOwn(ITK_RESPONSE_CODES, code);

/** Infrastructure (prefix 1 or 2) or business (prefix 3). */
export const itkCodeKind = (code: ItkAckCode): 'infrastructure' | 'business' =>
  code.startsWith('3') ? 'business' : 'infrastructure';

/** 20013 and 30001; every other code is fatal. */
export const isPositiveItkCode = (code: ItkAckCode): boolean => code === '20013' || code === '30001';

/** An ITK3 response code in words for staff, with the code: e.g. 20009 "payload validation failure". */
export function describeItkCode(code: ItkAckCode): string {
  return ITK_RESPONSE_CODES[code].staff;
}
