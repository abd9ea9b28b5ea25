-- Up Migration
-- Sign in with NHS login on the public form, when a practice offers it and the service is set up
-- for it. Two short-lived kinds of row: a sign-in on its way (the state, nonce and PKCE verifier
-- kept here, not in the browser), and the identity NHS login gave, which the form's request uses
-- once. Neither is kept once expired.
ALTER TABLE practice ADD COLUMN nhs_login_offered boolean NOT NULL DEFAULT false;

-- A sign-in started from the form: used once, by the callback that carries its state.
CREATE TABLE nhs_login_request (
  -- sha-256 of the state sent to NHS login (the state itself passes through the browser)
  state_hash bytea PRIMARY KEY,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX nhs_login_request_expiry ON nhs_login_request (expires_at);

-- What NHS login said about the patient, for one request to one practice: the form holds only a
-- random token (its hash is the key), shows the name and date of birth, and sends the token with
-- the request; intake takes the details from here and marks it used in the same transaction.
CREATE TABLE nhs_login_session (
  token_hash bytea PRIMARY KEY,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  -- NHS login's subject for the patient
  subject text NOT NULL,
  nhs_number text NOT NULL CHECK (nhs_number ~ '^[0-9]{10}$'),
  given_name text NOT NULL,
  family_name text NOT NULL,
  birth_date date NOT NULL,
  proofing_level text NOT NULL CHECK (proofing_level IN ('P5', 'P9')),
  -- the vector of trust NHS login gave (e.g. P9.Cp.Cd)
  vot text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  -- the request it was used for
  consultation_id uuid REFERENCES consultation (id) ON DELETE SET NULL
);
CREATE INDEX nhs_login_session_expiry ON nhs_login_session (expires_at);

-- Down Migration
DROP TABLE nhs_login_session;
DROP TABLE nhs_login_request;
ALTER TABLE practice DROP COLUMN nhs_login_offered;
