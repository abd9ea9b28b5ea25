-- Up Migration
-- Online requests taken per practice per local day: checked and counted in one statement, so the
-- capacity holds without scanning the day's requests or locking the whole practice.
CREATE TABLE practice_daily_submissions (
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  day date NOT NULL,
  submitted integer NOT NULL CHECK (submitted >= 0),
  PRIMARY KEY (practice_id, day)
);

INSERT INTO practice_daily_submissions (practice_id, day, submitted)
SELECT c.practice_id, (c.created_at AT TIME ZONE p.timezone)::date, count(*)
  FROM consultation c JOIN practice p ON p.id = c.practice_id
 GROUP BY 1, 2;

-- Down Migration
DROP TABLE practice_daily_submissions;
