-- Up Migration
-- Call data (issue 13): who joined and left each video call and when, the media path each took,
-- and the pages' periodic quality summaries. Only call nodes write them, through triage's internal
-- call-events endpoint (db/call-data.ts owns both tables); each row's id is the id of the event
-- that made it, so an event sent again (a call node's retry) records nothing twice.

-- One row per join: a participant who drops and comes back has one row per connection.
CREATE TABLE video_call_attendance (
  -- the join event's id
  id uuid PRIMARY KEY,
  call_id uuid NOT NULL REFERENCES video_call (id) ON DELETE CASCADE,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  -- the call node's participant id: a staff id for the host, the link's id for a patient or guest
  participant_id text NOT NULL CHECK (length(participant_id) <= 100),
  role text NOT NULL CHECK (role IN ('clinician', 'patient', 'guest')),
  display_name text NOT NULL CHECK (length(display_name) <= 200),
  joined_at timestamptz NOT NULL,
  left_at timestamptz,
  left_reason text CHECK (left_reason IN ('left', 'disconnected', 'removed', 'refused', 'replaced', 'ended')),
  -- the last media path the page reported (its selected ICE candidate pair), and when
  media_path text CHECK (media_path IN ('udp', 'tcp', 'relay-udp', 'relay-tcp', 'relay-tls')),
  media_path_at timestamptz,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((left_at IS NULL) = (left_reason IS NULL))
);
CREATE INDEX video_call_attendance_call ON video_call_attendance (call_id, joined_at);
CREATE INDEX video_call_attendance_practice ON video_call_attendance (practice_id, joined_at);

-- A page's quality summary over the last `window_seconds` of one attendance.
CREATE TABLE video_call_quality (
  -- the quality event's id
  id uuid PRIMARY KEY,
  attendance_id uuid NOT NULL REFERENCES video_call_attendance (id) ON DELETE CASCADE,
  at timestamptz NOT NULL,
  window_seconds integer NOT NULL CHECK (window_seconds BETWEEN 1 AND 600),
  media_path text CHECK (media_path IN ('udp', 'tcp', 'relay-udp', 'relay-tcp', 'relay-tls')),
  send_kbps integer NOT NULL CHECK (send_kbps >= 0),
  recv_kbps integer NOT NULL CHECK (recv_kbps >= 0),
  loss_percent real NOT NULL CHECK (loss_percent BETWEEN 0 AND 100),
  round_trip_ms integer CHECK (round_trip_ms >= 0),
  freeze_count integer NOT NULL CHECK (freeze_count >= 0),
  freeze_seconds real NOT NULL CHECK (freeze_seconds >= 0)
);
CREATE INDEX video_call_quality_attendance ON video_call_quality (attendance_id, at);

-- Down Migration
DROP TABLE video_call_quality;
DROP TABLE video_call_attendance;
