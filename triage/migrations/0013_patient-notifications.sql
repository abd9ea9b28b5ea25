-- Up Migration
-- How a practice reaches its patients: GOV.UK Notify or its own SMTP relay (NULL: staff send the
-- links themselves). Holds credentials: readable by the service's database role only.
ALTER TABLE practice ADD COLUMN notification_settings jsonb;

-- The notification outbox: one row per link sent to a patient, written in the same transaction as
-- the staff message, so a queue outage delays a text or email and never loses it. The sender
-- moves it along; a sweep re-queues queued rows whose job the queue has lost.
CREATE TABLE notification (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  consultation_id uuid NOT NULL REFERENCES consultation (id) ON DELETE CASCADE,
  message_id uuid REFERENCES message (id) ON DELETE SET NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  -- the address or number as it was when the message was sent
  destination text NOT NULL,
  provider text NOT NULL CHECK (provider IN ('smtp', 'govuk-notify')),
  status text NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  -- the provider's id for it (Notify's notification id, the SMTP Message-ID)
  provider_reference text,
  sent_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_consultation ON notification (consultation_id, created_at);
CREATE INDEX notification_queued ON notification (updated_at) WHERE status = 'queued';

-- Down Migration
DROP TABLE notification;
ALTER TABLE practice DROP COLUMN notification_settings;
