-- Up Migration
-- Messages between staff and the patient on a request, and the patient's thread lock: a link sent
-- by SMS can be forwarded, so the thread asks for the date of birth and locks after wrong tries.
CREATE TABLE message (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  consultation_id uuid NOT NULL REFERENCES consultation (id) ON DELETE CASCADE,
  author text NOT NULL CHECK (author IN ('staff', 'patient')),
  staff_id uuid REFERENCES staff (id) ON DELETE SET NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_consultation ON message (consultation_id, created_at);

CREATE TABLE thread_access (
  consultation_id uuid PRIMARY KEY REFERENCES consultation (id) ON DELETE CASCADE,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz
);

-- Down Migration
DROP TABLE thread_access;
DROP TABLE message;
