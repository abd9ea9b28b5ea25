-- Up Migration
-- What the clinician saw is what is filed.
--
-- A summary version: closing a request freezes what was shown and written (the form's questions and
-- answers in the server's words, the thread both ways, the verified files and their hashes, the
-- outcome, the summary, who closed it and when) as one row that never changes, with the sha256 of
-- its canonical JSON. The write-back files the version it names, and nothing else of the request.
CREATE TABLE summary_version (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  consultation_id uuid NOT NULL REFERENCES consultation (id) ON DELETE CASCADE,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  content jsonb NOT NULL CHECK (jsonb_typeof(content) = 'object'),
  content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- who closed it; the name is in the content, so a member of staff who leaves may go (set null)
  created_by uuid REFERENCES staff (id) ON DELETE SET NULL
);
CREATE INDEX summary_version_consultation ON summary_version (consultation_id);

CREATE FUNCTION summary_version_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.content IS DISTINCT FROM OLD.content OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
     OR NEW.consultation_id IS DISTINCT FROM OLD.consultation_id OR NEW.practice_id IS DISTINCT FROM OLD.practice_id
     OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'summary version % is frozen: it cannot be changed', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER summary_version_frozen BEFORE UPDATE ON summary_version
  FOR EACH ROW EXECUTE FUNCTION summary_version_unchanged();

-- The version a write-back files. Null only on write-backs opened before versions existed: those
-- cannot be filed by the worker (it says why), since nothing of what was shown was frozen for them.
ALTER TABLE write_back ADD COLUMN summary_version_id uuid REFERENCES summary_version (id);

-- A form version is immutable once a request answered it: its questions' words are what the
-- patient answered, and what staff and the GP record are shown. A changed form is a new row.
CREATE FUNCTION questionnaire_answered_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.resource IS DISTINCT FROM OLD.resource
     AND EXISTS (SELECT 1 FROM consultation WHERE questionnaire_id = OLD.id) THEN
    RAISE EXCEPTION 'form version % has been answered: it cannot be changed, add a new version instead', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER questionnaire_answered_frozen BEFORE UPDATE OF resource ON questionnaire
  FOR EACH ROW EXECUTE FUNCTION questionnaire_answered_unchanged();
CREATE INDEX consultation_questionnaire ON consultation (questionnaire_id);

-- Files: the verified copy, under a prefix no patient's upload grant can write (`verified/`), and
-- its sha256. Staff see and the GP record files only this copy. Null on rows from before checking.
ALTER TABLE attachment
  ADD COLUMN verified_key text UNIQUE CHECK (verified_key ~ '^verified/'),
  ADD COLUMN sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  ADD CONSTRAINT attachment_verified_together CHECK ((verified_key IS NULL) = (sha256 IS NULL));

-- Down Migration
ALTER TABLE attachment DROP CONSTRAINT attachment_verified_together, DROP COLUMN sha256, DROP COLUMN verified_key;
DROP INDEX consultation_questionnaire;
DROP TRIGGER questionnaire_answered_frozen ON questionnaire;
DROP FUNCTION questionnaire_answered_unchanged();
ALTER TABLE write_back DROP COLUMN summary_version_id;
DROP TABLE summary_version;
DROP FUNCTION summary_version_unchanged();
