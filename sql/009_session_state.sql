-- The enrollment session's state machine (agent-protocol.md 9): what each
-- telemetry batch does to its session, and the sweep that marks silent
-- sessions Stalled and classifies the ones past their timeout.
--
-- Why SQL and not C: the batch is already in the database as JSON (the
-- events insert reads the same text), so one call per batch, in the
-- batch's own transaction, decides the new state with one aggregate pass
-- over the rows and one UPDATE; a batch that fails changes nothing, and
-- C would need the session row read back first (another round trip).
--
-- Statuses: InProgress, Pending (pre-provisioning sealed), Stalled,
-- Succeeded, Failed, Unknown, AwaitingUser, Incomplete.  Succeeded and
-- Failed are terminal: late events (app_tracking_summary,
-- agent_shutting_down after enrollment_complete) never change them.
-- AwaitingUser and Incomplete are the timeout's verdicts on a silent
-- session; the agent's own enrollment_complete or enrollment_failed, if it
-- ever comes, still decides.

ALTER TABLE enrollment_sessions
    -- Why the session has its status, for people: the failure message and
    -- its error code, the stall, the timeout's reading of the ESP.
    ADD COLUMN status_reason     text,
    -- When each phase was first declared: {"2": "2026-11-23T10:00:00Z"},
    -- so that a phase's duration is the next phase's start minus its own.
    ADD COLUMN phase_times       jsonb NOT NULL DEFAULT '{}',
    -- Server time of the last event that was not periodic: the sweep's
    -- "silence" is measured from here (snapshots and probes keep arriving
    -- from a device whose ESP is stuck, so they do not count as progress).
    ADD COLUMN last_progress_at  timestamptz NOT NULL DEFAULT now(),
    -- The latest esp_provisioning_status, parsed: "ESP provisioning
    -- status: <Category> — N of M subcategories completed".
    ADD COLUMN esp_category      text,
    ADD COLUMN esp_done          integer,
    ADD COLUMN esp_total         integer;

-- The sweep reads only open sessions.
CREATE INDEX enrollment_sessions_open
    ON enrollment_sessions (last_progress_at)
    WHERE status IN ('InProgress', 'Unknown', 'Stalled');


-- Periodic events do not show progress and do not heal a Stalled session:
-- snapshots, the agent's stall probes, the deployment log dump, power and
-- clock events (agent-protocol.md 9).
CREATE FUNCTION cc_event_is_periodic(p_type text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT p_type LIKE '%snapshot%'
        OR p_type LIKE 'stall\_probe%'
        OR p_type = 'modern_deployment_log'
        OR p_type LIKE 'power\_%'
        OR p_type LIKE 'clock\_%'
$$;


-- The timeout classification: what a session that never reported its own
-- end most likely came to, read from its latest esp_provisioning_status.
--
--   no status ever reported            -> Incomplete (nothing to go on)
--   the category names a failure       -> Failed
--   AccountSetup with N = M            -> Succeeded (the user part of ESP
--                                         finished; the end was not sent)
--   another category with N = M        -> AwaitingUser (the device part
--                                         finished; nobody signed in)
--   N < M                              -> Failed (ESP stopped part way)
--
-- p_why opens the reason ("Timed out after 5 h", "Agent max lifetime").
CREATE FUNCTION cc_session_classify(p_category text, p_done integer,
                                    p_total integer, p_why text,
                                    OUT status text, OUT reason text)
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE
               WHEN p_category IS NULL OR p_total IS NULL THEN 'Incomplete'
               WHEN p_category ~* 'fail' THEN 'Failed'
               WHEN p_done >= p_total AND p_category ILIKE 'AccountSetup'
                   THEN 'Succeeded'
               WHEN p_done >= p_total THEN 'AwaitingUser'
               ELSE 'Failed'
           END,
           p_why || CASE
               WHEN p_category IS NULL OR p_total IS NULL
                   THEN ': no ESP provisioning status was reported'
               ELSE format(': ESP %s, %s of %s subcategories completed',
                           p_category, p_done, p_total)
           END
$$;


-- The reason a failure event gives: its message, and " (<errorCode>)" when
-- Data carries one.
CREATE FUNCTION cc_event_failure_reason(p_message text, p_data jsonb)
    RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT left(coalesce(nullif(p_message, ''), 'Enrollment failed')
                || coalesce(' (' || (p_data ->> 'errorCode') || ')', ''),
                500)
$$;


-- Applies one telemetry batch to its session, in the batch's transaction,
-- under the tenant's row-level security.  p_rows are the batch's event
-- rows as cc-ingest stores them ({sequence, event_time, event_type, phase,
-- message, data, ...}); p_max_item is the batch's highest TelemetryItemId.
--
-- In sequence order: phase declarations move the phase and record when it
-- was first entered; of session_stalled and the non-periodic events, the
-- last one decides between Stalled and healing back to InProgress.  Then
-- the first per-batch rule of agent-protocol.md 9 that matches wins over
-- that.  A retried batch sets the same values again.
--
-- Returns the status before and after, for the live view.
CREATE FUNCTION cc_session_apply_batch(p_session uuid, p_rows jsonb,
                                       p_max_item bigint,
                                       OUT old_status text, OUT status text,
                                       OUT phase integer, OUT reason text,
                                       OUT events integer,
                                       OUT last_event_type text)
    LANGUAGE plpgsql
    AS $$
#variable_conflict use_column
DECLARE
    s        enrollment_sessions;
    b        record;
    rule     record;
    verdict  record;
    times    jsonb;
    done_at  timestamptz;
BEGIN
    SELECT * INTO s FROM enrollment_sessions
     WHERE session_id = p_session FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    SELECT count(*)::integer AS n,
           (array_agg(e.event_type ORDER BY e.sequence DESC))[1] AS last_type,
           (array_agg(e.phase ORDER BY e.sequence DESC)
               FILTER (WHERE e.event_type IN ('esp_phase_changed',
                                              'phase_transition')
                         AND e.phase >= 0))[1] AS last_phase,
           (array_agg(e.event_type ORDER BY e.sequence DESC)
               FILTER (WHERE e.event_type = 'session_stalled'
                          OR NOT cc_event_is_periodic(e.event_type)))[1]
               AS last_stall_word,
           (array_agg(e.message ORDER BY e.sequence DESC)
               FILTER (WHERE e.event_type = 'session_stalled'))[1]
               AS stall_message,
           (array_agg(e.message ORDER BY e.sequence DESC)
               FILTER (WHERE e.event_type = 'esp_provisioning_status'))[1]
               AS esp_message,
           bool_or(NOT cc_event_is_periodic(e.event_type)
                   AND e.event_type <> 'session_stalled') AS progressed
      INTO b
      FROM jsonb_to_recordset(p_rows) AS e(sequence bigint,
           event_time timestamptz, event_type text, phase integer,
           message text);

    SELECT jsonb_object_agg(p.phase::text,
               to_char(p.first_at AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
      INTO times
      FROM (SELECT e.phase, min(e.event_time) AS first_at
              FROM jsonb_to_recordset(p_rows) AS e(event_time timestamptz,
                   event_type text, phase integer)
             WHERE e.event_type IN ('esp_phase_changed', 'phase_transition')
               AND e.phase >= 0
             GROUP BY e.phase) p;

    old_status := s.status;
    events := b.n;
    last_event_type := b.last_type;

    s.last_item_id := greatest(s.last_item_id, p_max_item);
    s.phase := coalesce(b.last_phase, s.phase);
    s.phase_times := coalesce(times, '{}') || s.phase_times;   -- first wins
    IF b.progressed THEN
        s.last_progress_at := now();
    END IF;
    IF b.esp_message IS NOT NULL THEN
        SELECT m[1], m[2]::integer, m[3]::integer
          INTO s.esp_category, s.esp_done, s.esp_total
          FROM regexp_match(b.esp_message,
                   'status:\s*([A-Za-z]+)\D*?(\d{1,6})\s+of\s+(\d{1,6})',
                   'i') AS m;
    END IF;

    IF s.status NOT IN ('Succeeded', 'Failed') THEN
        -- Stalled, or healed, by the last word on it in this batch.
        IF b.last_stall_word = 'session_stalled'
           AND s.status IN ('InProgress', 'Unknown', 'Stalled')
        THEN
            s.status := 'Stalled';
            s.status_reason := left(coalesce(nullif(b.stall_message, ''),
                                    'The agent reported no progress'), 500);
        ELSIF b.last_stall_word IS NOT NULL AND s.status = 'Stalled' THEN
            s.status := 'InProgress';
            s.status_reason := NULL;
        END IF;

        -- The per-batch rules, first match wins.
        SELECT e.event_type, e.event_time, e.message, e.data INTO rule
          FROM jsonb_to_recordset(p_rows) AS e(sequence bigint,
               event_time timestamptz, event_type text, message text,
               data jsonb)
         WHERE e.event_type IN ('enrollment_complete', 'enrollment_failed',
                                'esp_failure',
                                'gather_rules_collection_completed',
                                'whiteglove_complete')
            OR (e.event_type = 'whiteglove_resumed'
                AND old_status = 'Pending')
            OR (e.event_type = 'agent_shutting_down'
                AND e.data ->> 'reason' = 'max_lifetime')
         ORDER BY array_position(ARRAY['enrollment_complete',
                  'enrollment_failed', 'esp_failure',
                  'gather_rules_collection_completed', 'whiteglove_complete',
                  'whiteglove_resumed', 'agent_shutting_down'],
                  e.event_type), e.sequence
         LIMIT 1;

        IF FOUND THEN
            done_at := NULL;
            IF rule.event_type IN ('enrollment_complete',
                                   'gather_rules_collection_completed')
            THEN
                s.status := 'Succeeded';
                s.status_reason := CASE
                    WHEN rule.data ->> 'espSoftFailure' = 'true'
                        THEN 'Enrollment completed (ESP soft failure)'
                    ELSE 'Enrollment completed' END;
                done_at := rule.event_time;
            ELSIF (rule.event_type = 'enrollment_failed'
                   AND rule.data ->> 'failureType' = 'agent_timeout')
               OR rule.event_type = 'agent_shutting_down'
            THEN
                SELECT * INTO verdict
                  FROM cc_session_classify(s.esp_category, s.esp_done,
                           s.esp_total,
                           CASE rule.event_type
                               WHEN 'agent_shutting_down'
                               THEN 'The agent reached its maximum lifetime'
                               ELSE 'The agent timed out' END);
                s.status := verdict.status;
                s.status_reason := verdict.reason;
                done_at := rule.event_time;
            ELSIF rule.event_type IN ('enrollment_failed', 'esp_failure') THEN
                s.status := 'Failed';
                s.status_reason := cc_event_failure_reason(rule.message,
                                                           rule.data);
                done_at := rule.event_time;
            ELSIF rule.event_type = 'whiteglove_complete' THEN
                s.status := 'Pending';
                s.status_reason := 'Pre-provisioning sealed; waiting for '
                                   'the user';
            ELSE    -- whiteglove_resumed
                s.status := 'InProgress';
                s.status_reason := NULL;
            END IF;
            IF done_at IS NOT NULL THEN
                s.completed_at := done_at;
                s.outcome := CASE s.status WHEN 'Succeeded' THEN s.status
                                           ELSE s.status_reason END;
            END IF;
        END IF;
    END IF;

    UPDATE enrollment_sessions u SET
        last_item_id = s.last_item_id,
        updated_at = now(),
        phase = s.phase,
        phase_times = s.phase_times,
        last_progress_at = s.last_progress_at,
        esp_category = s.esp_category,
        esp_done = s.esp_done,
        esp_total = s.esp_total,
        status = s.status,
        status_reason = s.status_reason,
        completed_at = s.completed_at,
        outcome = s.outcome
     WHERE u.tenant_id = s.tenant_id AND u.session_id = s.session_id;

    status := s.status;
    phase := s.phase;
    reason := s.status_reason;
END
$$;


-- The sweep (cc-worker's sessions.sweep job): sessions silent for their
-- tenant's stall_after_minutes become Stalled; open sessions older than
-- session_timeout_hours are classified (cc_session_classify).  It crosses
-- tenants, so it is SECURITY DEFINER; p_tenant limits it to one tenant
-- (NULL: every tenant).  Pending sessions are left alone: a sealed
-- pre-provisioned device is expected to be silent until its user starts.
-- Returns the sessions it changed.
CREATE FUNCTION cc_sessions_sweep(p_tenant uuid DEFAULT NULL,
                                  p_now timestamptz DEFAULT now())
    RETURNS TABLE (tenant_id uuid, session_id uuid, old_status text,
                   status text, reason text)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT s.tenant_id, s.session_id, s.status AS old_status,
               CASE WHEN s.started_at
                         <= p_now - make_interval(hours => m.session_timeout_hours)
                    THEN 'timeout' ELSE 'stall' END AS why,
               m.session_timeout_hours, m.stall_after_minutes
          FROM enrollment_sessions s
          CROSS JOIN LATERAL cc_monitor_settings(s.tenant_id) m
         WHERE s.status IN ('InProgress', 'Unknown', 'Stalled')
           AND (p_tenant IS NULL OR s.tenant_id = p_tenant)
           AND (s.started_at
                    <= p_now - make_interval(hours => m.session_timeout_hours)
                OR (s.status <> 'Stalled'
                    AND s.last_progress_at
                        <= p_now - make_interval(mins => m.stall_after_minutes)))
         FOR UPDATE OF s SKIP LOCKED),
    verdict AS (
        SELECT d.tenant_id, d.session_id, d.old_status,
               CASE d.why WHEN 'timeout' THEN c.status
                          ELSE 'Stalled' END AS status,
               CASE d.why WHEN 'timeout' THEN c.reason
                    ELSE format('No progress reported for %s minutes',
                                d.stall_after_minutes) END AS reason,
               d.why
          FROM due d
          JOIN enrollment_sessions s USING (tenant_id, session_id)
          CROSS JOIN LATERAL cc_session_classify(s.esp_category, s.esp_done,
              s.esp_total,
              format('Timed out after %s h', d.session_timeout_hours)) c)
    UPDATE enrollment_sessions s SET
        status = v.status,
        status_reason = v.reason,
        updated_at = p_now,
        completed_at = CASE v.why WHEN 'timeout' THEN p_now
                                  ELSE s.completed_at END,
        outcome = CASE v.why WHEN 'timeout'
                      THEN CASE v.status WHEN 'Succeeded' THEN v.status
                                         ELSE v.reason END
                      ELSE s.outcome END
      FROM verdict v
     WHERE s.tenant_id = v.tenant_id AND s.session_id = v.session_id
    RETURNING s.tenant_id, s.session_id, v.old_status, s.status,
              s.status_reason;
END
$$;

REVOKE ALL ON FUNCTION cc_sessions_sweep(uuid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_sessions_sweep(uuid, timestamptz) TO cc_app;
