-- Up Migration
-- NHS CIS2 sign-in for staff (issue 12, finding 7). A practice may let its staff sign in with NHS
-- CIS2 (their smartcard or other NHS authenticator); such a member of staff is found (or added) by
-- the practice and their CIS2 user id, their role comes from their national RBAC roles at the
-- practice's ODS code at each sign-in, and they have no password here: they can never sign in
-- with one. Two short-lived kinds of row: a sign-in on its way to CIS2 (state, nonce, PKCE
-- verifier and the assurance level asked for, kept here rather than in the browser), and a
-- one-time hand-over of the finished sign-in to the staff page (so no token is put in a URL).
ALTER TABLE practice ADD COLUMN cis2_sign_in boolean NOT NULL DEFAULT false;

ALTER TABLE staff
  ADD COLUMN sign_in_method text NOT NULL DEFAULT 'password' CHECK (sign_in_method IN ('password', 'cis2')),
  -- CIS2's user id (`nhsid_useruid`, the subject): unique within a practice
  ADD COLUMN cis2_uid text CHECK (cis2_uid ~ '^[0-9A-Za-z-]{1,64}$'),
  ALTER COLUMN password_hash DROP NOT NULL,
  -- CIS2 gives no email address for the scopes asked for: its staff may have none here
  ALTER COLUMN email DROP NOT NULL,
  ADD CONSTRAINT staff_sign_in_method_credentials CHECK (
    (sign_in_method = 'password' AND password_hash IS NOT NULL AND email IS NOT NULL AND cis2_uid IS NULL)
    OR (sign_in_method = 'cis2' AND password_hash IS NULL AND cis2_uid IS NOT NULL)
  );
CREATE UNIQUE INDEX staff_practice_cis2_uid ON staff (practice_id, cis2_uid) WHERE cis2_uid IS NOT NULL;

-- A sign-in started from a staff page: used once, by the callback that carries its state.
CREATE TABLE cis2_request (
  -- sha-256 of the state sent to CIS2 (the state itself passes through the browser)
  state_hash bytea PRIMARY KEY,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  -- what was asked for (`acr_values`); the ID token's `acr` must meet it
  acr_values text NOT NULL,
  -- the staff page to go back to
  return_page text NOT NULL CHECK (return_page IN ('staff', 'settings')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX cis2_request_expiry ON cis2_request (expires_at);

-- A finished sign-in waiting for the staff page to take it: a random code in the page's URL
-- fragment (its hash is the key), exchanged once, within a minute, for a staff session.
CREATE TABLE cis2_handover (
  code_hash bytea PRIMARY KEY,
  staff_id uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX cis2_handover_expiry ON cis2_handover (expires_at);

-- Down Migration
DROP TABLE cis2_handover;
DROP TABLE cis2_request;
DROP INDEX staff_practice_cis2_uid;
DELETE FROM staff WHERE sign_in_method = 'cis2';
ALTER TABLE staff
  DROP CONSTRAINT staff_sign_in_method_credentials,
  ALTER COLUMN email SET NOT NULL,
  ALTER COLUMN password_hash SET NOT NULL,
  DROP COLUMN cis2_uid,
  DROP COLUMN sign_in_method;
ALTER TABLE practice DROP COLUMN cis2_sign_in;
