-- Several controllers on one database: what one of them needs from another lives here, not in a
-- process's memory.

-- Dashboard sessions, so a login through one controller is good on every other and a logout
-- anywhere ends it everywhere. Only the session id's sha256 is kept: reading the table gives
-- nobody a session.
CREATE TABLE sessions (
  id_hash    text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Each alert is sent by one controller, the alert leader (the holder of an advisory lock), from
-- the rows still pending, whichever controller recorded them. recordAlert writes 'pending'; the
-- default is 'sent' because rows it did not write (those from before this migration, a fleet file
-- imported by migrate-store) were the old code's to send, and must not be sent again.
ALTER TABLE alerts
  ADD COLUMN delivery text NOT NULL DEFAULT 'sent' CHECK (delivery IN ('pending', 'sent', 'failed', 'expired')),
  ADD COLUMN sent_at timestamptz;
CREATE INDEX alerts_pending ON alerts (seq) WHERE delivery = 'pending';
