-- Up Migration
-- GP Connect Send Document over MESH, beside FHIR R4: each practice files by one transport, and its
-- write-backs take it at the close. A Send Document write-back is `sent` once MESH has the message,
-- `filed` only on the GP system's business acknowledgement 30001 after its infrastructure one 20013,
-- and `needs_attention` when an acknowledgement says a person must look (30002/30003/30004), none
-- came in time, or MESH could not deliver it. A negative infrastructure code fails it (`failed`).
ALTER TABLE practice
  ADD COLUMN write_back_transport text NOT NULL DEFAULT 'fhir-r4'
    CHECK (write_back_transport IN ('fhir-r4', 'gp-connect-send-document')),
  -- the practice's GP system MESH mailbox (mex-to), unless routed by the patient (below)
  ADD COLUMN mesh_recipient_mailbox text CHECK (mesh_recipient_mailbox ~ '^[A-Za-z0-9]{1,20}$'),
  -- mex-to GPPROVIDER_<NHS number>_<DDMMYYYY>_<SURNAME>: MESH routes it to the patient's registered practice
  ADD COLUMN mesh_route_by_patient boolean NOT NULL DEFAULT false,
  -- the receiving organisation's ODS code, when it is not the practice's own
  ADD COLUMN send_document_recipient_ods text CHECK (send_document_recipient_ods ~ '^[A-Z0-9]{3,10}$');

ALTER TABLE write_back DROP CONSTRAINT write_back_transport_check;
ALTER TABLE write_back ADD CONSTRAINT write_back_transport_check
  CHECK (transport IN ('fhir-r4', 'gp-connect-send-document'));
ALTER TABLE write_back DROP CONSTRAINT write_back_status_check;
ALTER TABLE write_back ADD CONSTRAINT write_back_status_check
  CHECK (status IN ('needs_patient_match', 'pending', 'sent', 'filed', 'needs_attention', 'failed'));
CREATE INDEX write_back_sent ON write_back (updated_at) WHERE status = 'sent';

-- Every Send Document message a write-back sent (a re-send after a refusal is a new one). The row is
-- written before the message goes to MESH (with its body, so a restart re-sends the very same
-- message, whose ITK id the GP system knows as a duplicate), and gets MESH's id in the transaction
-- that makes the write-back `sent`. Acknowledgements find it by our ITK message id (MESH's
-- non-delivery reports by MESH's id); the first acknowledgement of each kind is the one that counts.
CREATE TABLE send_document_message (
  itk_message_id uuid PRIMARY KEY,
  consultation_id uuid NOT NULL REFERENCES write_back (consultation_id) ON DELETE CASCADE,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  document_id uuid NOT NULL,
  -- the document this one replaces: only ever one an earlier message delivered (20013)
  replaces_document_id uuid,
  mesh_message_id text UNIQUE,
  mex_to text NOT NULL,
  body bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  infrastructure_code text,
  infrastructure_text text,
  infrastructure_at timestamptz,
  business_code text,
  business_text text,
  business_at timestamptz,
  -- MESH's own report (non-delivery): its status code and description
  report_code text,
  report_text text,
  report_at timestamptz,
  CHECK ((mesh_message_id IS NULL) = (sent_at IS NULL))
);
CREATE INDEX send_document_message_consultation ON send_document_message (consultation_id, created_at);

-- the message a Send Document write-back stands on now (the latest it made)
ALTER TABLE write_back ADD COLUMN itk_message_id uuid;

-- Down Migration
ALTER TABLE write_back DROP COLUMN itk_message_id;
DROP TABLE send_document_message;
DROP INDEX write_back_sent;
UPDATE write_back SET status = 'failed', last_error = 'sent by a transport since removed'
 WHERE status IN ('sent', 'needs_attention');
ALTER TABLE write_back DROP CONSTRAINT write_back_status_check;
ALTER TABLE write_back ADD CONSTRAINT write_back_status_check
  CHECK (status IN ('needs_patient_match', 'pending', 'filed', 'failed'));
DELETE FROM write_back WHERE transport <> 'fhir-r4';
ALTER TABLE write_back DROP CONSTRAINT write_back_transport_check;
ALTER TABLE write_back ADD CONSTRAINT write_back_transport_check CHECK (transport IN ('fhir-r4'));
ALTER TABLE practice DROP COLUMN send_document_recipient_ods, DROP COLUMN mesh_route_by_patient,
  DROP COLUMN mesh_recipient_mailbox, DROP COLUMN write_back_transport;
