-- Up Migration
-- The queue is read most urgent first, then oldest first: a stored rank lets one index serve that
-- order, so listing stays fast with a practice's whole history in the table.
ALTER TABLE consultation
  ADD COLUMN priority_rank smallint GENERATED ALWAYS AS (CASE priority WHEN 'urgent' THEN 0 WHEN 'soon' THEN 1 ELSE 2 END) STORED;
CREATE INDEX consultation_queue_order ON consultation (practice_id, status, priority_rank, created_at);
DROP INDEX consultation_practice_queue;

-- Down Migration
CREATE INDEX consultation_practice_queue ON consultation (practice_id, status, created_at);
DROP INDEX consultation_queue_order;
ALTER TABLE consultation DROP COLUMN priority_rank;
