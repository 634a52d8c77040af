-- A telemetry batch in one statement (issue #6's ingest benchmark): what
-- cc-ingest did in eight round trips (BEGIN, the tenant, the device, the
-- session, events, trace, state, COMMIT) is one call of cc_ingest_batch,
-- run as its own transaction.  Its events arrive as parallel arrays, which
-- PostgreSQL reads with one input function per value, instead of a JSON
-- document it parsed whole and then took apart again.
--
-- Idempotency without event_sequences.  The agent numbers a session's
-- events (Sequence, surviving restarts) and sends them in ascending order;
-- a retry resends identical items (agent-protocol.md 7).  So a batch whose
-- Sequences strictly ascend, the first above the highest the session has
-- stored (one probe of events_session, from its top), is new and is
-- inserted as it is; any other batch (a retry, an overlap, a Sequence
-- repeated or out of order) stores only the events whose Sequence the
-- session does not have yet, each once.  The session row is locked first,
-- so two copies of a batch in flight at once are applied one after the
-- other, and the second finds the first's events.  That replaces
-- event_sequences, whose key cost an index insert per event and a table
-- to purge.

DROP TRIGGER enrollment_sessions_sequences_cascade ON enrollment_sessions;
DROP FUNCTION cc_event_sequences_cascade();
DROP TABLE event_sequences;

-- The retention batch loses its count of sequence numbers; its result
-- type changes, so it is made again (sql/011 has the reasoning).
DROP FUNCTION cc_retention_purge_batch(integer);
CREATE FUNCTION cc_retention_purge_batch(p_limit integer,
                                         OUT sessions integer,
                                         OUT events bigint,
                                         OUT trace bigint,
                                         OUT errors bigint,
                                         OUT devices bigint,
                                         OUT more boolean)
    LANGUAGE plpgsql
    AS $$
DECLARE
    tenant  uuid := cc_current_tenant();
    cutoff  timestamptz := cc_retention_cutoff(tenant);
    ids     uuid[];
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'cc_retention_purge_batch needs a tenant';
    END IF;

    SELECT coalesce(array_agg(s.session_id), '{}') INTO ids
      FROM (SELECT e.session_id
              FROM enrollment_sessions e
             WHERE e.tenant_id = tenant
               AND e.updated_at < cutoff
               AND (e.completed_at IS NULL OR e.completed_at < cutoff)
             ORDER BY e.updated_at
             LIMIT p_limit
               FOR UPDATE SKIP LOCKED) s;
    sessions := cardinality(ids);

    errors := cc_retention_purge_session_errors(ids);

    -- Events reference no session (a partitioned table cannot be the
    -- child of this key cheaply), so they go by hand; the rest cascade
    -- but are counted here first.
    DELETE FROM events ev
     WHERE ev.tenant_id = tenant AND ev.session_id = ANY (ids);
    GET DIAGNOSTICS events = ROW_COUNT;
    DELETE FROM session_trace st
     WHERE st.tenant_id = tenant AND st.session_id = ANY (ids);
    GET DIAGNOSTICS trace = ROW_COUNT;
    DELETE FROM enrollment_sessions e
     WHERE e.tenant_id = tenant AND e.session_id = ANY (ids);

    DELETE FROM devices d
     WHERE (d.tenant_id, d.device_id) IN (
               SELECT o.tenant_id, o.device_id
                 FROM devices o
                WHERE o.tenant_id = tenant
                  AND o.last_seen < cutoff
                  AND NOT EXISTS (SELECT 1 FROM enrollment_sessions e
                                   WHERE e.tenant_id = o.tenant_id
                                     AND e.device_id = o.device_id)
                  AND NOT EXISTS (SELECT 1 FROM device_blocks b
                                   WHERE b.tenant_id = o.tenant_id
                                     AND b.device_id = o.device_id)
                LIMIT p_limit
                  FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS devices = ROW_COUNT;

    more := sessions >= p_limit OR devices >= p_limit;
END
$$;
GRANT EXECUTE ON FUNCTION cc_retention_purge_batch(integer) TO cc_app;


-- The settings of a tenant as before (sql/006), in PL/pgSQL: a SQL
-- function that is not inlined, as this one never is (it returns one row,
-- and a UNION), is planned again on every call; PL/pgSQL keeps its plan
-- for the connection.  Every agent request reads it.
CREATE OR REPLACE FUNCTION cc_monitor_settings(p_tenant uuid)
    RETURNS monitor_settings
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    s  monitor_settings;
BEGIN
    SELECT * INTO s FROM monitor_settings WHERE tenant_id = p_tenant;
    IF NOT FOUND THEN
        s := ROW(p_tenant, 90, 120, 5, false, true, false, 'OnFailure',
                 now());
    END IF;
    RETURN s;
END
$$;


-- The gate's settings (workers/cc-ingest/ingest_gate.c) in one statement:
-- the tenant's hardware and Autopilot switches, and its allow-list rows
-- when the hardware check is on (manufacturer NULL when there are none).
CREATE FUNCTION cc_ingest_gate_settings(p_tenant uuid)
    RETURNS TABLE (hardware_check boolean, autopilot_check boolean,
                   manufacturer text, model text)
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM set_config('cc.tenant_id', p_tenant::text, true);
    RETURN QUERY
    SELECT s.hardware_check, s.autopilot_check, a.manufacturer, a.model
      FROM cc_monitor_settings(p_tenant) s
      LEFT JOIN hardware_allowlist a
        ON s.hardware_check AND a.tenant_id = s.tenant_id;
END
$$;
REVOKE ALL ON FUNCTION cc_ingest_gate_settings(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_ingest_gate_settings(uuid) TO cc_app;


-- The device as its headers describe it: made when new, refreshed when
-- what it says changes or a minute has passed since it was last seen (a
-- row update per batch would be most of a batch's WAL).  '' = not said.
-- PL/pgSQL, for the plan it keeps (see cc_monitor_settings above).
CREATE FUNCTION cc_ingest_device_seen(p_tenant uuid, p_device uuid,
                                      p_manufacturer text, p_model text,
                                      p_serial text)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO devices AS d (tenant_id, device_id, manufacturer, model,
                              serial_number)
    VALUES (p_tenant, p_device, nullif(left(p_manufacturer, 256), ''),
            nullif(left(p_model, 256), ''), nullif(left(p_serial, 256), ''))
    ON CONFLICT (tenant_id, device_id) DO UPDATE SET
        manufacturer = coalesce(EXCLUDED.manufacturer, d.manufacturer),
        model = coalesce(EXCLUDED.model, d.model),
        serial_number = coalesce(EXCLUDED.serial_number, d.serial_number),
        last_seen = now()
    WHERE d.last_seen < now() - interval '1 minute'
       OR EXCLUDED.manufacturer IS DISTINCT FROM d.manufacturer
          AND EXCLUDED.manufacturer IS NOT NULL
       OR EXCLUDED.model IS DISTINCT FROM d.model
          AND EXCLUDED.model IS NOT NULL
       OR EXCLUDED.serial_number IS DISTINCT FROM d.serial_number
          AND EXCLUDED.serial_number IS NOT NULL;
END
$$;
REVOKE ALL ON FUNCTION cc_ingest_device_seen(uuid, uuid, text, text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_ingest_device_seen(uuid, uuid, text, text, text)
    TO cc_app;


-- register-session (agent-protocol.md 6) as one statement: the device,
-- then the session, made or refreshed.  The agent repeats it on every
-- start, so the first StartedAt ('' = now) is kept; a session id another
-- device holds is not taken over, and then nothing is written (outcome
-- 'other_device').  registered_at is the session's start as the agent
-- writes a DateTime; created is true when this call made the session.
CREATE FUNCTION cc_ingest_register(
        p_tenant uuid, p_device uuid,
        p_manufacturer text, p_model text, p_serial text,
        p_session uuid, p_started_at text, p_os jsonb, p_agent_version text,
        OUT outcome text, OUT registered_at text, OUT created boolean)
    LANGUAGE plpgsql
    AS $$
DECLARE
    owner  uuid;
BEGIN
    PERFORM set_config('cc.tenant_id', p_tenant::text, true);
    -- Session, then device, as cc_ingest_batch locks them: a batch and a
    -- registration of one session never wait for each other in a circle.
    SELECT s.device_id INTO owner
      FROM enrollment_sessions s
     WHERE s.tenant_id = p_tenant AND s.session_id = p_session
       FOR UPDATE;
    IF owner IS NOT NULL AND owner <> p_device THEN
        outcome := 'other_device';
        RETURN;
    END IF;

    PERFORM cc_ingest_device_seen(p_tenant, p_device, p_manufacturer,
                                  p_model, p_serial);
    INSERT INTO enrollment_sessions AS s (tenant_id, session_id, device_id,
                                          started_at, os, agent_version)
    VALUES (p_tenant, p_session, p_device,
            coalesce(nullif(p_started_at, '')::timestamptz, now()), p_os,
            nullif(left(p_agent_version, 256), ''))
    ON CONFLICT (tenant_id, session_id) DO UPDATE SET
        os = EXCLUDED.os, agent_version = EXCLUDED.agent_version,
        updated_at = now()
    WHERE s.device_id = EXCLUDED.device_id
    RETURNING to_char(s.started_at AT TIME ZONE 'UTC',
                      'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
              s.xmax = 0
         INTO registered_at, created;
    -- No row: another device took the id in the meantime.
    outcome := CASE WHEN FOUND THEN 'registered' ELSE 'other_device' END;
END
$$;
REVOKE ALL ON FUNCTION cc_ingest_register(uuid, uuid, text, text, text, uuid,
    text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_ingest_register(uuid, uuid, text, text, text,
    uuid, text, jsonb, text) TO cc_app;


-- Stores one telemetry batch of p_session for the device p_device of
-- p_tenant, and moves the session's state (cc_session_apply_batch), as
-- one transaction: called as a statement of its own, it commits when it
-- returns.  It sets the tenant itself, so row-level security holds for
-- everything it touches.
--
--   p_manufacturer.. what the device's headers say about it ('' = nothing)
--   p_first_seq      the first Sequence when the events' Sequences strictly
--                    ascend, else NULL (then every event is checked)
--   p_max_item       the highest, -1 when none
--   p_seq..p_data    the events, one array element per event
--   p_tkind..        the Signals and DecisionTransitions
--   p_summary        ingest_state.c's summary of the events; ruleIndex is
--                    the 1-based index of the event its rule matched
--
-- outcome is 'stored', or 'other_device' when another device holds the
-- session id (nothing is stored).  events is how many events were new (a
-- retry stores none, and the live view hears of it once); the rest is the
-- session's change, as cc_session_apply_batch returns it.
CREATE FUNCTION cc_ingest_batch(
        p_tenant uuid, p_device uuid,
        p_manufacturer text, p_model text, p_serial text,
        p_session uuid, p_first_seq bigint, p_max_item bigint,
        p_seq bigint[], p_item bigint[], p_event_id text[],
        p_time timestamptz[], p_type text[], p_severity integer[],
        p_source text[], p_phase integer[], p_message text[],
        p_data jsonb[],
        p_tkind text[], p_tordinal bigint[], p_titem bigint[],
        p_tat timestamptz[], p_tpayload jsonb[],
        p_summary jsonb,
        OUT outcome text, OUT old_status text, OUT status text,
        OUT phase integer, OUT reason text, OUT events integer,
        OUT last_event_type text)
    LANGUAGE plpgsql
    AS $$
#variable_conflict use_column
DECLARE
    owner      uuid;
    rule_at    integer := (p_summary ->> 'ruleIndex')::integer;
    fresh      integer;
    applied    record;
BEGIN
    PERFORM set_config('cc.tenant_id', p_tenant::text, true);

    -- The session is locked until the batch commits: a purge cannot
    -- delete it under the batch, and a second copy of the batch waits for
    -- this one.  A session of another device refuses the batch before
    -- anything is written.  Session, then device: cc_ingest_register
    -- locks them in the same order.
    SELECT s.device_id INTO owner
      FROM enrollment_sessions s
     WHERE s.tenant_id = p_tenant AND s.session_id = p_session
       FOR UPDATE;
    IF owner IS NOT NULL AND owner <> p_device THEN
        outcome := 'other_device';
        RETURN;
    END IF;
    PERFORM cc_ingest_device_seen(p_tenant, p_device, p_manufacturer,
                                  p_model, p_serial);
    IF owner IS NULL THEN
        -- Not registered (yet): made here, or by a racing request.
        INSERT INTO enrollment_sessions (tenant_id, session_id, device_id)
        VALUES (p_tenant, p_session, p_device)
        ON CONFLICT (tenant_id, session_id) DO NOTHING;
        SELECT s.device_id INTO owner
          FROM enrollment_sessions s
         WHERE s.tenant_id = p_tenant AND s.session_id = p_session
           FOR UPDATE;
        IF owner IS DISTINCT FROM p_device THEN
            RAISE EXCEPTION 'session taken by another device meanwhile'
                USING ERRCODE = 'serialization_failure';
        END IF;
    END IF;

    IF p_first_seq IS NOT NULL
       AND p_first_seq > coalesce((SELECT max(e.sequence) FROM events e
                                    WHERE e.tenant_id = p_tenant
                                      AND e.session_id = p_session), -1)
    THEN
        INSERT INTO events (tenant_id, session_id, sequence, item_id,
                            event_id, event_time, event_type, severity,
                            source, phase, message, data)
        SELECT p_tenant, p_session, x.*
          FROM unnest(p_seq, p_item, p_event_id, p_time, p_type,
                      p_severity, p_source, p_phase, p_message, p_data) x;
        GET DIAGNOSTICS fresh = ROW_COUNT;
    ELSE
        INSERT INTO events (tenant_id, session_id, sequence, item_id,
                            event_id, event_time, event_type, severity,
                            source, phase, message, data)
        SELECT DISTINCT ON (x.seq) p_tenant, p_session, x.*
          FROM unnest(p_seq, p_item, p_event_id, p_time, p_type,
                      p_severity, p_source, p_phase, p_message, p_data)
               AS x(seq, item, event_id, at, type, severity, source,
                    phase, message, data)
         WHERE NOT EXISTS (SELECT 1 FROM events e
                            WHERE e.tenant_id = p_tenant
                              AND e.session_id = p_session
                              AND e.sequence = x.seq)
         ORDER BY x.seq;
        GET DIAGNOSTICS fresh = ROW_COUNT;
    END IF;

    IF cardinality(p_tkind) > 0 THEN
        INSERT INTO session_trace (tenant_id, session_id, kind, ordinal,
                                   item_id, occurred_at, payload)
        SELECT p_tenant, p_session, x.*
          FROM unnest(p_tkind, p_tordinal, p_titem, p_tat, p_tpayload) x
        ON CONFLICT DO NOTHING;
    END IF;

    IF rule_at IS NOT NULL THEN
        p_summary := p_summary || jsonb_build_object('rule',
            jsonb_build_object('event_type', p_type[rule_at],
                               'event_time', p_time[rule_at],
                               'message', p_message[rule_at],
                               'data', p_data[rule_at]));
    END IF;
    SELECT * INTO applied
      FROM cc_session_apply_batch(p_session, p_summary, p_max_item);
    outcome := 'stored';
    old_status := applied.old_status;
    status := applied.status;
    phase := applied.phase;
    reason := applied.reason;
    events := fresh;
    last_event_type := applied.last_event_type;
END
$$;
REVOKE ALL ON FUNCTION cc_ingest_batch(uuid, uuid, text, text, text, uuid,
    bigint, bigint, bigint[], bigint[], text[], timestamptz[], text[],
    integer[], text[], integer[], text[], jsonb[], text[], bigint[],
    bigint[], timestamptz[], jsonb[], jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_ingest_batch(uuid, uuid, text, text, text,
    uuid, bigint, bigint, bigint[], bigint[], text[], timestamptz[], text[],
    integer[], text[], integer[], text[], jsonb[], text[], bigint[],
    bigint[], timestamptz[], jsonb[], jsonb) TO cc_app;
