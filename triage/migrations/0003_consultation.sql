-- Up Migration
-- A consultation: one patient's request to their practice, from arrival to the summary that is
-- filed into their GP record. Online-form details (answers, attachments, messages) hang off it.
ALTER TABLE practice
  ADD COLUMN fhir_base_url text CHECK (fhir_base_url ~ '^https?://'),
  -- how the record worker authenticates to the practice's FHIR endpoint: {"type":"none"},
  -- {"type":"bearer","token":...} or {"type":"client_credentials","tokenUrl":...,"clientId":...,"clientSecret":...}
  ADD COLUMN fhir_auth jsonb NOT NULL DEFAULT '{"type":"none"}';

CREATE TABLE consultation (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  -- what the patient is told and quotes on the phone
  reference text NOT NULL UNIQUE CHECK (reference ~ '^[A-Z0-9-]{6,20}$'),
  kind text NOT NULL CHECK (kind IN ('medical', 'admin')),
  mode text NOT NULL DEFAULT 'online' CHECK (mode IN ('online', 'video')),
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'awaiting_patient', 'closed')),
  priority text NOT NULL DEFAULT 'routine' CHECK (priority IN ('urgent', 'soon', 'routine')),
  -- null until staff record it: a summary is only ever filed against a valid NHS number
  patient_nhs_number text CHECK (patient_nhs_number ~ '^[0-9]{10}$'),
  patient_given_name text NOT NULL,
  patient_family_name text NOT NULL,
  patient_birth_date date NOT NULL,
  -- the FHIR QuestionnaireResponse as submitted
  questionnaire_response jsonb,
  assigned_to uuid REFERENCES staff (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- closing: SNOMED CT coded outcome and the clinician's summary
  outcome_code text CHECK (outcome_code ~ '^[0-9]{6,18}$'),
  outcome_display text,
  summary text,
  closed_at timestamptz,
  closed_by uuid REFERENCES staff (id) ON DELETE SET NULL,
  CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
  CHECK (status <> 'closed' OR (outcome_code IS NOT NULL AND summary IS NOT NULL AND closed_by IS NOT NULL))
);
CREATE INDEX consultation_practice_queue ON consultation (practice_id, status, created_at);

-- Down Migration
DROP TABLE consultation;
ALTER TABLE practice DROP COLUMN fhir_auth, DROP COLUMN fhir_base_url;
