-- Up Migration
-- Opening hours and capacity are reckoned in the practice's own time zone (clock changes included).
ALTER TABLE practice ADD COLUMN timezone text NOT NULL DEFAULT 'Europe/London';

-- Down Migration
ALTER TABLE practice DROP COLUMN timezone;
