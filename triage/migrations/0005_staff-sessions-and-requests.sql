-- Up Migration
-- Staff sign-in sessions, and what the public form needs to take a request safely.

-- One row per refresh token: only its hash is stored, so a database leak yields no usable token.
CREATE TABLE staff_session (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  staff_id uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  refresh_token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_session_staff ON staff_session (staff_id);

ALTER TABLE staff ADD COLUMN active boolean NOT NULL DEFAULT true;

ALTER TABLE practice
  -- {"mon":[["08:00","18:30"]], ...} in the practice's time zone; a day missing is closed
  ADD COLUMN opening_hours jsonb NOT NULL DEFAULT
    '{"mon":[["08:00","18:30"]],"tue":[["08:00","18:30"]],"wed":[["08:00","18:30"]],"thu":[["08:00","18:30"]],"fri":[["08:00","18:30"]]}',
  ADD COLUMN daily_capacity integer NOT NULL DEFAULT 200 CHECK (daily_capacity >= 0);

ALTER TABLE consultation
  -- the form's key for this submission: a retry or double click finds the first request
  ADD COLUMN idempotency_key uuid,
  ADD COLUMN submitted_by text NOT NULL DEFAULT 'patient' CHECK (submitted_by IN ('patient', 'proxy')),
  ADD COLUMN proxy_name text,
  ADD COLUMN proxy_relationship text,
  ADD COLUMN contact_phone text,
  ADD COLUMN contact_email text,
  ADD COLUMN preferred_contact text CHECK (preferred_contact IN ('phone', 'sms', 'email')),
  ADD COLUMN preferred_times text,
  ADD CONSTRAINT consultation_idempotency UNIQUE (practice_id, idempotency_key),
  ADD CONSTRAINT consultation_proxy CHECK (submitted_by = 'patient' OR (proxy_name IS NOT NULL AND proxy_relationship IS NOT NULL));

-- Down Migration
ALTER TABLE consultation
  DROP CONSTRAINT consultation_proxy,
  DROP CONSTRAINT consultation_idempotency,
  DROP COLUMN preferred_times,
  DROP COLUMN preferred_contact,
  DROP COLUMN contact_email,
  DROP COLUMN contact_phone,
  DROP COLUMN proxy_relationship,
  DROP COLUMN proxy_name,
  DROP COLUMN submitted_by,
  DROP COLUMN idempotency_key;
ALTER TABLE practice DROP COLUMN daily_capacity, DROP COLUMN opening_hours;
ALTER TABLE staff DROP COLUMN active;
DROP TABLE staff_session;
