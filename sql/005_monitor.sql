-- What device agents report (agent-protocol.md 6-9): the devices, their
-- enrollment sessions and the sessions' events.  Identity comes from the
-- device certificate nginx verified, so every row is keyed by the tenant
-- and the Intune device id of that certificate, never by what a body says.
-- serial_number is personal data: it is stored, never logged.

CREATE TABLE devices (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    device_id      uuid NOT NULL,          -- the certificate's CN
    manufacturer   text,
    model          text,
    serial_number  text,
    first_seen     timestamptz NOT NULL DEFAULT now(),
    last_seen      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device_id)
);

-- A session is the agent's SessionId (a GUID kept on the device for the
-- whole enrollment); the agent registers it again on every restart, so
-- registration is an upsert that keeps the first started_at.
CREATE TABLE enrollment_sessions (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_id     uuid NOT NULL,
    device_id      uuid NOT NULL,
    status         text NOT NULL DEFAULT 'InProgress'
                   CHECK (status IN ('InProgress', 'Pending', 'Stalled',
                                     'Succeeded', 'Failed', 'Unknown',
                                     'AwaitingUser', 'Incomplete')),
    phase          integer NOT NULL DEFAULT -1,
    os             jsonb NOT NULL DEFAULT '{}',
    agent_version  text,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    outcome        text,
    -- The highest TelemetryItemId stored: the agent's replay watermark.
    last_item_id   bigint NOT NULL DEFAULT -1,
    PRIMARY KEY (tenant_id, session_id),
    FOREIGN KEY (tenant_id, device_id)
        REFERENCES devices (tenant_id, device_id) ON DELETE CASCADE
);
CREATE INDEX enrollment_sessions_device
    ON enrollment_sessions (tenant_id, device_id);

-- Events, partitioned by month of arrival so that retention can drop whole
-- partitions.  A unique key on a partitioned table must include the
-- partition key, so the idempotency key (tenant, session, Sequence) lives
-- in event_sequences, which is not partitioned: an event is inserted only
-- when its sequence number was new, and a retried batch stores nothing.
CREATE TABLE events (
    tenant_id      uuid NOT NULL,
    session_id     uuid NOT NULL,
    sequence       bigint NOT NULL,
    item_id        bigint,
    event_id       text,
    event_time     timestamptz NOT NULL,
    event_type     text NOT NULL,
    severity       integer,
    source         text,
    phase          integer,
    message        text,
    data           jsonb,
    received_at    timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (received_at);

CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_session ON events (tenant_id, session_id, sequence);

CREATE TABLE event_sequences (
    tenant_id      uuid NOT NULL,
    session_id     uuid NOT NULL,
    sequence       bigint NOT NULL,
    PRIMARY KEY (tenant_id, session_id, sequence),
    FOREIGN KEY (tenant_id, session_id)
        REFERENCES enrollment_sessions (tenant_id, session_id)
        ON DELETE CASCADE
);

-- Signals and DecisionTransitions, kept as the agent sent them (opaque to
-- the platform: only Events drive session state, agent-protocol.md 7).
-- The agent's own ordinals (SessionSignalOrdinal, StepIndex) are the
-- idempotency key.
CREATE TABLE session_trace (
    tenant_id      uuid NOT NULL,
    session_id     uuid NOT NULL,
    kind           text NOT NULL
                   CHECK (kind IN ('Signal', 'DecisionTransition')),
    ordinal        bigint NOT NULL,
    item_id        bigint,
    occurred_at    timestamptz,
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, session_id, kind, ordinal),
    FOREIGN KEY (tenant_id, session_id)
        REFERENCES enrollment_sessions (tenant_id, session_id)
        ON DELETE CASCADE
);

-- Creates the partition of events for the month holding p_month, if it is
-- missing; returns its name.  Run ahead of time by the platform (owner).
CREATE FUNCTION cc_events_create_partition(p_month date) RETURNS text
    LANGUAGE plpgsql
    AS $$
DECLARE
    first_day date := date_trunc('month', p_month)::date;
    name      text := format('events_%s', to_char(first_day, 'YYYYMM'));
BEGIN
    IF to_regclass(name) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF events '
                       'FOR VALUES FROM (%L) TO (%L)', name,
                       first_day::timestamptz,
                       (first_day + interval '1 month')::timestamptz);
    END IF;
    RETURN name;
END
$$;
REVOKE ALL ON FUNCTION cc_events_create_partition(date) FROM PUBLIC;

DO $$
BEGIN
    PERFORM cc_events_create_partition(now()::date);
    PERFORM cc_events_create_partition((now() + interval '1 month')::date);
END
$$;

ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE enrollment_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_sequences ENABLE ROW LEVEL SECURITY;
ALTER TABLE session_trace ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON devices
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON enrollment_sessions
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON events
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON event_sequences
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON session_trace
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());

GRANT SELECT, INSERT, UPDATE ON devices, enrollment_sessions TO cc_app;
GRANT SELECT, INSERT ON events, event_sequences, session_trace TO cc_app;
