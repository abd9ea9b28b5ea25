/** National identifier systems (NHS England). */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_CODE_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/**
 * Our own identifier systems. Every resource we file carries one, and every create is conditional
 * on it (`ifNoneExist`), so a retried write-back finds what the first attempt filed.
 */
export const CONSULTATION_SYSTEM = 'https://gp-consult.example/Id/consultation';
export const ATTACHMENT_SYSTEM = 'https://gp-consult.example/Id/attachment';
export const STAFF_SYSTEM = 'https://gp-consult.example/Id/staff';

export const SNOMED_SYSTEM = 'http://snomed.info/sct';
