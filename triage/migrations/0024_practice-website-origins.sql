-- Up Migration
-- The practice's own websites (origins such as https://www.riverside-surgery.nhs.uk), where the
-- widget may open the online form: the web server names them in the form page's frame-ancestors,
-- and the form and the widget talk by postMessage only with them. Empty: the form opens in no frame.
ALTER TABLE practice
  ADD COLUMN website_origins text[] NOT NULL DEFAULT '{}'
  CHECK (cardinality(website_origins) <= 20);

-- Down Migration
ALTER TABLE practice DROP COLUMN website_origins;
