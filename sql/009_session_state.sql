-- The enrollment session's state machine (agent-protocol.md 9): what each
-- telemetry batch does to its session, and the sweep that marks silent
-- sessions Stalled and classifies the ones past their timeout.
--
-- Where the work is done: cc-ingest already holds the batch's events in
-- memory, so it reads them into a small summary (workers/cc-ingest/
-- ingest_state.c), and one call of cc_session_apply_batch() per batch, in
-- the batch's own transaction, decides the new state from that summary
-- with one row lock and one UPDATE; a batch that fails changes nothing.
-- (Aggregating the batch's rows here instead cost a second parse of the
-- whole batch: about as much again as storing its events.)
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
-- under the tenant's row-level security.  p_summary is what cc-ingest read
-- from the batch's events (ingest_state.c):
--
--   count         events in the batch
--   lastType      the type of the event with the highest Sequence
--   lastPhase     the phase of the last esp_phase_changed/phase_transition
--                 declaring one (absent: none)
--   declaredAt    {phase: Timestamp of the first declaration in the batch}
--   lastWord      of session_stalled and the non-periodic events, the type
--                 of the last one (periodic: snapshots, stall probes,
--                 modern_deployment_log, power_* and clock_* events)
--   stallMessage  the last session_stalled's Message
--   espMessage    the last esp_provisioning_status's Message
--   progressed    a non-periodic event other than session_stalled came
--   resumed       whiteglove_resumed came
--   rule, ruleRank  the event row of the first per-batch rule matched
--                 (1 enrollment_complete, 2 enrollment_failed,
--                 3 esp_failure, 4 gather_rules_collection_completed,
--                 5 whiteglove_complete, 7 agent_shutting_down with
--                 Data.reason max_lifetime; 100 none)
--
-- The phase moves to lastPhase and each phase keeps its first start; the
-- last word decides between Stalled and healing back to InProgress; then
-- the rule (rank 6 being whiteglove_resumed on a Pending session) wins
-- over that.  A retried batch sets the same values again.  Returns the
-- status before and after, for the live view.
CREATE FUNCTION cc_session_apply_batch(p_session uuid, p_summary jsonb,
                                       p_max_item bigint,
                                       OUT old_status text, OUT status text,
                                       OUT phase integer, OUT reason text,
                                       OUT events integer,
                                       OUT last_event_type text)
    LANGUAGE plpgsql
    AS $$
#variable_conflict use_column
DECLARE
    s         enrollment_sessions;
    rule      jsonb := p_summary -> 'rule';
    rule_type text := p_summary -> 'rule' ->> 'event_type';
    word      text := p_summary ->> 'lastWord';
    times     jsonb;
    verdict   record;
    done_at   timestamptz;
BEGIN
    SELECT * INTO s FROM enrollment_sessions
     WHERE session_id = p_session FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    old_status := s.status;
    events := (p_summary ->> 'count')::integer;
    last_event_type := p_summary ->> 'lastType';

    IF (p_summary ->> 'resumed')::boolean AND s.status = 'Pending'
       AND (p_summary ->> 'ruleRank')::integer > 6
    THEN
        rule := jsonb_build_object('event_type', 'whiteglove_resumed');
        rule_type := 'whiteglove_resumed';
    END IF;

    SELECT jsonb_object_agg(d.key,
               to_char(d.value::timestamptz AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
      INTO times
      FROM jsonb_each_text(p_summary -> 'declaredAt') AS d;

    s.last_item_id := greatest(s.last_item_id, p_max_item);
    s.phase := coalesce((p_summary ->> 'lastPhase')::integer, s.phase);
    s.phase_times := coalesce(times, '{}') || s.phase_times;   -- first wins
    IF (p_summary ->> 'progressed')::boolean THEN
        s.last_progress_at := now();
    END IF;
    IF p_summary ->> 'espMessage' IS NOT NULL THEN
        SELECT m[1], m[2]::integer, m[3]::integer
          INTO s.esp_category, s.esp_done, s.esp_total
          FROM regexp_match(p_summary ->> 'espMessage',
                   'status:\s*([A-Za-z]+)\D*?(\d{1,6})\s+of\s+(\d{1,6})',
                   'i') AS m;
    END IF;

    IF s.status NOT IN ('Succeeded', 'Failed') THEN
        IF word = 'session_stalled'
           AND s.status IN ('InProgress', 'Unknown', 'Stalled')
        THEN
            s.status := 'Stalled';
            s.status_reason := left(coalesce(
                nullif(p_summary ->> 'stallMessage', ''),
                'The agent reported no progress'), 500);
        ELSIF word IS NOT NULL AND s.status = 'Stalled' THEN
            s.status := 'InProgress';
            s.status_reason := NULL;
        END IF;

        done_at := NULL;
        IF rule_type IN ('enrollment_complete',
                         'gather_rules_collection_completed')
        THEN
            s.status := 'Succeeded';
            s.status_reason := CASE
                WHEN rule -> 'data' ->> 'espSoftFailure' = 'true'
                    THEN 'Enrollment completed (ESP soft failure)'
                ELSE 'Enrollment completed' END;
            done_at := (rule ->> 'event_time')::timestamptz;
        ELSIF (rule_type = 'enrollment_failed'
               AND rule -> 'data' ->> 'failureType' = 'agent_timeout')
           OR rule_type = 'agent_shutting_down'
        THEN
            SELECT * INTO verdict
              FROM cc_session_classify(s.esp_category, s.esp_done,
                       s.esp_total,
                       CASE rule_type
                           WHEN 'agent_shutting_down'
                           THEN 'The agent reached its maximum lifetime'
                           ELSE 'The agent timed out' END);
            s.status := verdict.status;
            s.status_reason := verdict.reason;
            done_at := (rule ->> 'event_time')::timestamptz;
        ELSIF rule_type IN ('enrollment_failed', 'esp_failure') THEN
            s.status := 'Failed';
            s.status_reason := cc_event_failure_reason(rule ->> 'message',
                                                       rule -> 'data');
            done_at := (rule ->> 'event_time')::timestamptz;
        ELSIF rule_type = 'whiteglove_complete' THEN
            s.status := 'Pending';
            s.status_reason := 'Pre-provisioning sealed; waiting for the user';
        ELSIF rule_type = 'whiteglove_resumed' THEN
            s.status := 'InProgress';
            s.status_reason := NULL;
        END IF;
        IF done_at IS NOT NULL THEN
            s.completed_at := done_at;
            s.outcome := CASE s.status WHEN 'Succeeded' THEN s.status
                                       ELSE s.status_reason END;
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
