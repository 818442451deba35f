-- The fleet in PostgreSQL: what LowdbFleetStore keeps in fleet.json, one table per kind of record.
-- Times the store hands out are ISO strings with milliseconds; timestamptz keeps microseconds, so
-- they come back exactly. Names of groups, apps and versions are schema-checked text.

CREATE TABLE agents (
  agent_id      text PRIMARY KEY,
  -- sha256 (hex) of the agent's current token; '' once an operator released the id.
  token_hash    text NOT NULL,
  facts         jsonb NOT NULL,
  enrolled_at   timestamptz NOT NULL,
  last_seen_at  timestamptz,
  status        jsonb,
  last_outcomes jsonb NOT NULL DEFAULT '{}',
  verdicts      jsonb NOT NULL DEFAULT '{}',
  -- Events kept for this agent, so a report knows without counting whether it passed the cap.
  event_count   integer NOT NULL DEFAULT 0,
  -- Enrollment order, the order listAgents() answers in.
  seq           bigint GENERATED ALWAYS AS IDENTITY
);
CREATE UNIQUE INDEX agents_token_hash ON agents (token_hash) WHERE token_hash <> '';
CREATE INDEX agents_seq ON agents (seq);

-- Receive order across the whole store; an event's seq is taken when it is inserted.
CREATE SEQUENCE event_seq;
CREATE TABLE events (
  agent_id    text NOT NULL REFERENCES agents (agent_id),
  event_id    text NOT NULL,
  seq         bigint NOT NULL,
  received_at timestamptz NOT NULL,
  -- The event as the agent sent it (ReportEvent).
  body        jsonb NOT NULL,
  PRIMARY KEY (agent_id, event_id)
);
CREATE INDEX events_agent_seq ON events (agent_id, seq);
CREATE INDEX events_received_at ON events (received_at);

CREATE TABLE outcomes (
  grp             text NOT NULL,
  app             text NOT NULL,
  version         text NOT NULL,
  applied         integer NOT NULL DEFAULT 0,
  rolled_back     integer NOT NULL DEFAULT 0,
  rollback_failed integer NOT NULL DEFAULT 0,
  deferred        integer NOT NULL DEFAULT 0,
  failed          integer NOT NULL DEFAULT 0,
  interrupted     integer NOT NULL DEFAULT 0,
  nodes_applied               integer NOT NULL DEFAULT 0,
  nodes_release_failed        integer NOT NULL DEFAULT 0,
  nodes_infrastructure_failed integer NOT NULL DEFAULT 0,
  failed_agents   text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (grp, app, version)
);

CREATE TABLE alerts (
  grp     text NOT NULL,
  app     text NOT NULL,
  version text NOT NULL,
  -- The AlertRecord as recorded.
  body    jsonb NOT NULL,
  seq     bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (grp, app, version)
);

CREATE TABLE diagnostics (
  id          text PRIMARY KEY,
  agent_id    text NOT NULL,
  filename    text NOT NULL,
  bytes       bigint NOT NULL,
  sha256      text NOT NULL,
  received_at timestamptz NOT NULL,
  seq         bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX diagnostics_agent ON diagnostics (agent_id, seq);
CREATE INDEX diagnostics_received_at ON diagnostics (received_at);

-- Small documents read and written whole, under the row's lock: the folded failure log (at most
-- 100 records, failure-log.ts) is one, as in fleet.json.
CREATE TABLE documents (
  name text PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO documents (name, body) VALUES ('recent-failures', '[]');
