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

/**
 * On the filed Composition: the summary version it was built from (`id`) and the sha256 of that
 * version's canonical JSON (`sha256`), so what the GP record holds can be checked against what was frozen.
 */
export const SUMMARY_VERSION_EXTENSION =
  'https://gp-consult.example/fhir/StructureDefinition/summary-version';

export const SNOMED_SYSTEM = 'http://snomed.info/sct';
