-- Up Migration
-- Files a patient attached (photos, documents). The bytes live in S3; here only the key and what was checked.
CREATE TABLE attachment (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  consultation_id uuid NOT NULL REFERENCES consultation (id) ON DELETE CASCADE,
  s3_key text NOT NULL UNIQUE,
  content_type text NOT NULL,
  size_bytes integer NOT NULL CHECK (size_bytes > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachment_consultation ON attachment (consultation_id);

-- Down Migration
DROP TABLE attachment;
