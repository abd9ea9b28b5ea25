-- Up Migration
-- Practices, their staff and the audit trail: the first tables every other part hangs off.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE practice (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NHS Organisation Data Service code, e.g. A81001
  ods_code text NOT NULL UNIQUE CHECK (ods_code ~ '^[A-Z0-9]{3,10}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  email text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  role text NOT NULL CHECK (role IN ('admin', 'clinician', 'reception')),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (practice_id, email)
);

-- Who touched which record, when: ids only, never patient data.
CREATE TABLE audit_event (
  id bigserial PRIMARY KEY,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  actor text NOT NULL,
  action text NOT NULL,
  entity text NOT NULL,
  entity_id text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_event_practice_at ON audit_event (practice_id, at DESC);

-- Down Migration
DROP TABLE audit_event;
DROP TABLE staff;
DROP TABLE practice;
