-- Up Migration
-- Each practice's forms, as FHIR Questionnaire resources, and a record of every red-flag stop.
CREATE TABLE questionnaire (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  slug text NOT NULL CHECK (slug ~ '^[a-z0-9-]{2,60}$'),
  kind text NOT NULL CHECK (kind IN ('medical', 'admin')),
  resource jsonb NOT NULL CHECK (resource ->> 'resourceType' = 'Questionnaire'),
  active boolean NOT NULL DEFAULT true,
  UNIQUE (practice_id, slug)
);

ALTER TABLE consultation ADD COLUMN questionnaire_id uuid REFERENCES questionnaire (id);

-- A form stopped by an urgent answer: which question, never who. Lets a practice see how often it happens.
CREATE TABLE red_flag_event (
  id bigserial PRIMARY KEY,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  questionnaire_id uuid NOT NULL REFERENCES questionnaire (id) ON DELETE CASCADE,
  link_id text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE red_flag_event;
ALTER TABLE consultation DROP COLUMN questionnaire_id;
DROP TABLE questionnaire;
