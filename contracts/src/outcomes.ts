/**
 * Consultation outcomes staff choose from when closing, as SNOMED CT concepts (International
 * edition ids; check against the UK edition in use before relying on them clinically).
 */
export const consultationOutcomes = [
  { code: '11429006', display: 'Consultation' },
  { code: '185317003', display: 'Telephone encounter' },
  { code: '448337001', display: 'Telemedicine consultation with patient' },
  { code: '182836005', display: 'Review of medication' },
  { code: '306206005', display: 'Referral to service' },
  { code: '390906007', display: 'Follow-up encounter' },
] as const;
