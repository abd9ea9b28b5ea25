-- Up Migration
-- Video calls, made by triage (no longer by the call node): one row per call a clinician or admin
-- starts for a request. The call node opens the call from the first valid call token triage signed
-- for it; links (patient, guests) and host tokens are only ever signed for a call recorded here.
CREATE TABLE video_call (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  consultation_id uuid NOT NULL REFERENCES consultation (id) ON DELETE CASCADE,
  created_by uuid NOT NULL REFERENCES staff (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- links into the call are signed until then
  links_expire_at timestamptz NOT NULL,
  ended_at timestamptz,
  CHECK (links_expire_at > created_at)
);
CREATE INDEX video_call_consultation ON video_call (practice_id, consultation_id, created_at DESC);

-- Down Migration
DROP TABLE video_call;
