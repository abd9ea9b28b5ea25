-- Up Migration
-- Who has a request open right now, so two people never work the same one unknowingly; and the
-- practice's care navigation rules, which assign new requests as they arrive.
ALTER TABLE consultation
  ADD COLUMN claimed_by uuid REFERENCES staff (id) ON DELETE SET NULL,
  ADD COLUMN claimed_at timestamptz;

CREATE TABLE navigation_rule (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  -- rules are tried in order; the first that matches applies
  position integer NOT NULL,
  match_kind text CHECK (match_kind IN ('medical', 'admin')),
  match_form_slug text,
  assign_to uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  set_priority text CHECK (set_priority IN ('urgent', 'soon', 'routine')),
  UNIQUE (practice_id, position)
);

-- Down Migration
DROP TABLE navigation_rule;
ALTER TABLE consultation DROP COLUMN claimed_at, DROP COLUMN claimed_by;
