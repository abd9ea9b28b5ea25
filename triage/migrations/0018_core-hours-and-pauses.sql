-- Up Migration
-- Open through core hours (England's GP contract 2025/26): the practice's nation (core hours apply in
-- England), what the form does outside hours, and what patients are told about when to expect a reply.
ALTER TABLE practice
  ADD COLUMN nation text NOT NULL DEFAULT 'england'
    CHECK (nation IN ('england', 'wales', 'scotland', 'northern-ireland')),
  ADD COLUMN out_of_hours text NOT NULL DEFAULT 'closed' CHECK (out_of_hours IN ('open', 'closed')),
  ADD COLUMN response_time_message text CHECK (length(response_time_message) BETWEEN 1 AND 300);

-- a practice that already took requests at weekends (e.g. the development practice, open round the
-- clock) keeps taking them outside core hours
UPDATE practice SET out_of_hours = 'open'
 WHERE jsonb_array_length(COALESCE(opening_hours -> 'sat', '[]')) > 0
    OR jsonb_array_length(COALESCE(opening_hours -> 'sun', '[]')) > 0;

-- An exceptional pause: an admin's explicit act, with a reason, that ends by itself at `until` (no job:
-- every reader compares times), or earlier when an admin ends it. Kept for ever: the ICB's report.
CREATE TABLE practice_pause (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  paused_by uuid NOT NULL REFERENCES staff (id),
  reason text NOT NULL CHECK (length(btrim(reason)) BETWEEN 10 AND 500),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  ended_early_at timestamptz,
  ended_early_by uuid REFERENCES staff (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at AND ends_at <= starts_at + interval '24 hours'),
  CHECK ((ended_early_at IS NULL) = (ended_early_by IS NULL))
);
CREATE INDEX practice_pause_practice ON practice_pause (practice_id, ends_at DESC);

-- Two levels of red flag: emergency (999; the form stops) and urgent (111 or the practice now; the
-- patient may still send). A request sent past an urgent flag arrives flagged, at the top of the queue.
ALTER TABLE red_flag_event
  ADD COLUMN level text NOT NULL DEFAULT 'emergency' CHECK (level IN ('emergency', 'urgent')),
  -- the request the patient sent anyway (urgent only); null when the form stopped
  ADD COLUMN consultation_id uuid REFERENCES consultation (id) ON DELETE CASCADE;

ALTER TABLE consultation
  ADD COLUMN red_flag text CHECK (red_flag IN ('urgent')),
  -- the practice's date by which the patient was told to expect a reply
  ADD COLUMN reply_by date;

-- Down Migration
ALTER TABLE consultation DROP COLUMN reply_by, DROP COLUMN red_flag;
ALTER TABLE red_flag_event DROP COLUMN consultation_id, DROP COLUMN level;
DROP TABLE practice_pause;
ALTER TABLE practice DROP COLUMN response_time_message, DROP COLUMN out_of_hours, DROP COLUMN nation;
