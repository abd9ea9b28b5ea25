-- Up Migration
-- Which of the patient's messages each member of staff has been shown, message by message: closing a
-- request is refused while a patient's message on it has not been shown to the member of staff
-- closing it. A row is written in the same statement that reads the messages out to them, for exactly
-- the messages that statement read, so a reply committed during the read is never counted as seen
-- (a time watermark could be: a message's created_at is its transaction's start, before its commit).
CREATE TABLE message_seen (
  message_id uuid NOT NULL REFERENCES message (id) ON DELETE CASCADE,
  staff_id uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, staff_id)
);

-- Per practice, how long a request may wait for its first action, per priority, in minutes by the
-- clock (nights and weekends count): urgent 1 hour, soon 4 hours, routine 2 days.
ALTER TABLE practice
  ADD COLUMN response_target_urgent_minutes integer NOT NULL DEFAULT 60
    CHECK (response_target_urgent_minutes BETWEEN 1 AND 43200),
  ADD COLUMN response_target_soon_minutes integer NOT NULL DEFAULT 240
    CHECK (response_target_soon_minutes BETWEEN 1 AND 43200),
  ADD COLUMN response_target_routine_minutes integer NOT NULL DEFAULT 2880
    CHECK (response_target_routine_minutes BETWEEN 1 AND 43200);

-- the first staff message is a request's first action: found by this index, not by a scan of its thread
CREATE INDEX message_staff_first ON message (consultation_id, created_at) WHERE author = 'staff';

-- Down Migration
DROP INDEX message_staff_first;
ALTER TABLE practice
  DROP COLUMN response_target_routine_minutes,
  DROP COLUMN response_target_soon_minutes,
  DROP COLUMN response_target_urgent_minutes;
DROP TABLE message_seen;
