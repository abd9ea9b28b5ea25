-- Up Migration
-- How a write-back reaches the GP record. Every write-back so far went over FHIR R4; MESH (with
-- ITK3 acknowledgements) comes next, as another transport of the same row, never a second table.
-- The transport's own detail stays in its columns: for FHIR R4, `server_locations`.
ALTER TABLE write_back
  ADD COLUMN transport text NOT NULL DEFAULT 'fhir-r4' CHECK (transport IN ('fhir-r4'));

-- Down Migration
ALTER TABLE write_back DROP COLUMN transport;
