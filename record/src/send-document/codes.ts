// The systems, profiles and codes of GP Connect Send Document (ITK3, FHIR STU3), online consultation
// report variant. Sources: ../../../../shared/NHS-INTEGRATION.md section Q1 (nhsconnect/gpconnect-messaging
// `_data/senddoc_requirements.yml` and `_data/oc_requirements.yml`; the ITK3 Message Distribution
// guide) and NHS England's published ITK3 examples. Where a value could not be confirmed it says so.

export const SNOMED = 'http://snomed.info/sct';
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_CODE_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
/** ITK3 examples identify bundles and compositions by UUID under this system. */
export const UUID_SYSTEM = 'https://tools.ietf.org/html/rfc4122';
/** Our own: who closed the request (a member of staff here has no SDS user id to give). */
export const STAFF_SYSTEM = 'https://gp-consult.example/Id/staff';
export const CONSULTATION_SYSTEM = 'https://gp-consult.example/Id/consultation';

export const PROFILE = {
  messageBundle: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1',
  messageHeader: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2',
  headerOrganization: 'https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1',
  documentBundle: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1',
  attachmentBinary: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1',
  responseOutcome: 'https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Response-OperationOutcome-1',
  composition: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1',
  patient: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1',
  organization: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1',
  practitioner: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Practitioner-1',
  encounter: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Encounter-1',
  questionnaireResponse:
    'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-QuestionnaireResponse-1',
} as const;

export const MESSAGE_HANDLING_EXTENSION =
  'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2';
export const MESSAGE_EVENT_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2';
export const RECIPIENT_TYPE_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1';
export const RESPONSE_CODE_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1';

/** ITK-MessageEvent-2: the events this service sends (ITK007C) and reads back (ITK008M). */
export const MESSAGE_EVENTS: Record<string, string> = {
  ITK007C: 'ITK GP Connect Send Document',
  ITK008M: 'ITK Response',
};
export const SEND_DOCUMENT_EVENT = {
  system: MESSAGE_EVENT_SYSTEM,
  code: 'ITK007C',
  display: MESSAGE_EVENTS.ITK007C!,
};
export const RESPONSE_EVENT = {
  system: MESSAGE_EVENT_SYSTEM,
  code: 'ITK008M',
  display: MESSAGE_EVENTS.ITK008M!,
};

export const RECIPIENT_TYPES: Record<string, string> = { FA: 'For Action', FI: 'For Information' };

/**
 * The Send Document message definition, as senddoc_requirements.yml gives it. One published
 * example elsewhere writes `ITK-GPConnectSendDocument-MessageDefinition-Instance-1`; the
 * requirements' form is used here (uncertain: check against the live spec before go-live).
 */
export const SEND_DOCUMENT_MESSAGE_DEFINITION =
  'https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1';
/** The ITK3 response's message definition (ITK3 Message Distribution 2.x). */
export const RESPONSE_MESSAGE_DEFINITION =
  'https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1';
/** The online consultation variant's LocalExtension (oc_requirements.yml). */
export const ONLINE_CONSULTATION_LOCAL_EXTENSION = 'SendDocument-OnlineConsultationReport';

/** SNOMED CT 149951000000107: the Composition's type in the online consultation variant. */
export const ONLINE_CONSULTATION_REPORT_TYPE = {
  system: SNOMED,
  code: '149951000000107',
  display: 'Patient information received using general practice online consultation system',
};
export const ONLINE_CONSULTATION_REPORT_TITLE = 'Online consultation report';
/** SNOMED CT 149971000000103: the Encounter's type in the online consultation variant. */
export const ONLINE_CONSULTATION_ENCOUNTER_TYPE = {
  system: SNOMED,
  code: '149971000000103',
  display: 'Encounter using general practice online consultation system',
};

export const NHS_NUMBER_VERIFICATION_EXTENSION =
  'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1';
export const NHS_NUMBER_VERIFICATION_SYSTEM =
  'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1';
/** CareConnect-NHSNumberVerificationStatus-1. Only 01 is a verified number. */
export const NHS_NUMBER_VERIFICATION: Record<string, string> = {
  '01': 'Number present and verified',
  '02': 'Number present but not traced',
  '03': 'Trace required',
  '04': 'Trace attempted - No match or multiple match found',
  '05': 'Trace needs to be resolved - (NHS number or patient detail conflict)',
  '06': 'Trace in progress',
  '07': 'Number not present and trace not required',
  '08': 'Trace postponed (baby under six weeks old)',
};

/** HL7 v3 ActCode (STU3's system URL) VR: the encounter happened online or by video. */
export const VIRTUAL_ENCOUNTER = { system: 'http://hl7.org/fhir/v3/ActCode', code: 'VR', display: 'virtual' };
