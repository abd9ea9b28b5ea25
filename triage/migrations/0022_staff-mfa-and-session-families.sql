-- Up Migration
-- Staff accounts (issue 12, finding 6 and finding 5's sign-in part): TOTP MFA with recovery codes,
-- required by practice policy; passwords changed by their owner or reset by an admin; refresh
-- tokens in families, so a spent token presented again revokes the whole family; sign-in attempts
-- throttled per account with a growing, capped back-off.

-- The roles that must sign in with MFA (admins and clinicians unless the practice says otherwise).
ALTER TABLE practice
  ADD COLUMN mfa_required_roles text[] NOT NULL DEFAULT '{admin,clinician}'
    CHECK (mfa_required_roles <@ ARRAY['admin', 'clinician', 'reception']::text[]);

ALTER TABLE staff
  -- the TOTP secret once enrolment is confirmed; never returned after enrolment
  ADD COLUMN totp_secret text,
  -- a secret shown for enrolment, switched on only when a first code from it is confirmed
  ADD COLUMN totp_pending_secret text,
  ADD COLUMN mfa_enabled_at timestamptz,
  -- the last 30-second step a code was accepted for: a code is never accepted twice
  ADD COLUMN totp_last_step bigint,
  -- set by an admin's reset: the temporary password works once, to choose a new one
  ADD COLUMN password_must_change boolean NOT NULL DEFAULT false,
  ADD COLUMN password_changed_at timestamptz;

-- Ten per enrolment, each works once; stored as SHA-256 only (they are random, 50 bits each).
CREATE TABLE staff_recovery_code (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  staff_id uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (staff_id, code_hash)
);

-- A sign-in between its password and its session: a short-lived, single-purpose proof (an opaque
-- random token, stored hashed) that the password was right, good only for the next step.
CREATE TABLE staff_sign_in_step (
  token_hash text PRIMARY KEY,
  staff_id uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  step text NOT NULL CHECK (step IN ('totp', 'change-password', 'enrol-mfa')),
  -- the sign-in throttle's key for the account (practice code and email), for wrong codes
  account_key text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_sign_in_step_expiry ON staff_sign_in_step (expires_at);

-- Each sign-in opens a family; refreshing rotates within it. `spent_at`: rotated away (presenting
-- it again is reuse); `revoked_at`: ended (signed out, family revoked, password changed).
ALTER TABLE staff_session
  ADD COLUMN family_id uuid NOT NULL DEFAULT gen_random_uuid(),
  ADD COLUMN spent_at timestamptz;
CREATE INDEX staff_session_family ON staff_session (family_id);

-- Failed sign-ins per account (practice code and email, known or not): after a few, each further
-- attempt waits 2^n seconds, capped. A delay, never a lock: it ends on its own.
CREATE TABLE sign_in_throttle (
  account_key text PRIMARY KEY,
  failures integer NOT NULL,
  blocked_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_throttle_updated ON sign_in_throttle (updated_at);

-- Down Migration
DROP TABLE sign_in_throttle;
DROP INDEX staff_session_family;
ALTER TABLE staff_session DROP COLUMN family_id, DROP COLUMN spent_at;
DROP TABLE staff_sign_in_step;
DROP TABLE staff_recovery_code;
ALTER TABLE staff
  DROP COLUMN totp_secret,
  DROP COLUMN totp_pending_secret,
  DROP COLUMN mfa_enabled_at,
  DROP COLUMN totp_last_step,
  DROP COLUMN password_must_change,
  DROP COLUMN password_changed_at;
ALTER TABLE practice DROP COLUMN mfa_required_roles;
