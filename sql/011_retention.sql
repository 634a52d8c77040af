-- Retention: what cc-worker's retention jobs call (workers/cc-worker/
-- retention_*.c).  A tenant's enrollment sessions are deleted, with their
-- events, trace and sequence numbers, once their last activity is older
-- than the tenant's retention_days (cc_monitor_settings), and so are its
-- devices once none of their sessions is left; whole months of
-- events are dropped as partitions once they are older than the longest
-- retention of any tenant; and partitions are created ahead of time, so
-- that no event lands in events_default.
--
-- Why batches: the purge deletes at most p_limit sessions per call, each
-- call in its own short transaction, and skips sessions another
-- transaction holds (ingest updating a session), so ingest never waits on
-- a purge for long and a purge never waits on ingest.
--
-- Why partition work holds a lock_timeout: creating or dropping a
-- partition takes an ACCESS EXCLUSIVE lock on events, and ingest's
-- inserts queue behind a waiting lock request; a short timeout bounds
-- that stall, and the job simply runs again later.

-- The purge finds a tenant's expired sessions by last activity.
CREATE INDEX enrollment_sessions_activity
    ON enrollment_sessions (tenant_id, updated_at);

-- The purge deletes as the workers' role, under row-level security: the
-- tenant is the transaction's, so a purge can only ever touch one tenant.
GRANT DELETE ON enrollment_sessions, events, event_sequences, session_trace,
    devices TO cc_app;


-- When a session of p_tenant becomes expired: its last activity (or its
-- completion, if that came later) before this instant.
CREATE FUNCTION cc_retention_cutoff(p_tenant uuid) RETURNS timestamptz
    LANGUAGE sql STABLE
    AS $$
    SELECT now() - make_interval(days => s.retention_days)
      FROM cc_monitor_settings(p_tenant) s
$$;


-- The tenants that have at least one expired session, or an expired
-- device left without any session, with their retention.  The platform
-- cannot see tenants under RLS, so this reads as the owner and returns ids
-- and numbers only.
CREATE FUNCTION cc_retention_due_tenants()
    RETURNS TABLE (tenant_id uuid, retention_days integer)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT t.id, s.retention_days
      FROM tenants t
     CROSS JOIN LATERAL cc_monitor_settings(t.id) s
     CROSS JOIN LATERAL (SELECT now() - make_interval(days => s.retention_days)
                                AS cutoff) c
     WHERE EXISTS (SELECT 1 FROM enrollment_sessions e
                    WHERE e.tenant_id = t.id
                      AND e.updated_at < c.cutoff
                      AND (e.completed_at IS NULL
                           OR e.completed_at < c.cutoff))
        OR EXISTS (SELECT 1 FROM devices d
                    WHERE d.tenant_id = t.id
                      AND d.last_seen < c.cutoff
                      AND NOT EXISTS (SELECT 1 FROM enrollment_sessions e
                                       WHERE e.tenant_id = d.tenant_id
                                         AND e.device_id = d.device_id)
                      AND NOT EXISTS (SELECT 1 FROM device_blocks b
                                       WHERE b.tenant_id = d.tenant_id
                                         AND b.device_id = d.device_id))
     ORDER BY t.id
$$;


-- Tables that other migrations add about agents' reports (sql/007:
-- agent_errors, distress_reports) are purged when they exist, found by
-- name at run time so that this file does not depend on their order.
CREATE FUNCTION cc_retention_table_has(p_table text, p_column text)
    RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT EXISTS (SELECT 1 FROM pg_attribute
                    WHERE attrelid = to_regclass(p_table)
                      AND attname = p_column AND NOT attisdropped)
$$;


-- The agent_errors rows of the current tenant's sessions p_ids (a purge
-- batch calls it before deleting the sessions, in case a foreign key
-- there does not cascade).  Returns how many went.
CREATE FUNCTION cc_retention_purge_session_errors(p_ids uuid[])
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    n  bigint := 0;
BEGIN
    IF cc_current_tenant() IS NULL THEN
        RAISE EXCEPTION 'cc_retention_purge_session_errors needs a tenant';
    END IF;
    IF cc_retention_table_has('agent_errors', 'session_id') THEN
        EXECUTE 'DELETE FROM agent_errors'
                ' WHERE tenant_id = $1 AND session_id = ANY ($2)'
            USING cc_current_tenant(), p_ids;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION cc_retention_purge_session_errors(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_retention_purge_session_errors(uuid[]) TO cc_app;


-- Reports (agent_errors, distress_reports) received before their
-- tenant's retention, whatever session they name: distress reports have
-- none, and an error may outlive a session that ingest never registered.
-- Their volume is bounded where they are stored (sql/007), so one
-- statement per table does.  Returns how many rows went.
CREATE FUNCTION cc_retention_purge_reports() RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    tab    text;
    n      bigint;
    total  bigint := 0;
BEGIN
    FOREACH tab IN ARRAY ARRAY['agent_errors', 'distress_reports'] LOOP
        IF cc_retention_table_has(tab, 'tenant_id')
           AND cc_retention_table_has(tab, 'received_at')
        THEN
            EXECUTE format('DELETE FROM %I r USING tenants t'
                           ' CROSS JOIN LATERAL cc_monitor_settings(t.id) s'
                           ' WHERE r.tenant_id = t.id'
                           '   AND r.received_at'
                           '       < now() - make_interval(days =>'
                           '                               s.retention_days)',
                           tab);
            GET DIAGNOSTICS n = ROW_COUNT;
            total := total + n;
        END IF;
    END LOOP;
    RETURN total;
END
$$;
REVOKE ALL ON FUNCTION cc_retention_purge_reports() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_retention_purge_reports() TO cc_app;


-- Finished periodic jobs older than p_keep_days: each bucket leaves a row
-- (a 10-minute job, 52,560 a year), and an old bucket is never asked for
-- again, so its row has no idempotency left to give.  Other jobs stay:
-- their rows are the record of what someone asked for.
CREATE FUNCTION cc_retention_purge_periodic_jobs(p_keep_days integer)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    n  bigint;
BEGIN
    DELETE FROM jobs
     WHERE tenant_id IS NULL
       AND idempotency_key LIKE 'periodic:%'
       AND state IN ('succeeded', 'failed', 'dead')
       AND finished_at < now() - make_interval(days => p_keep_days);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION cc_retention_purge_periodic_jobs(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_retention_purge_periodic_jobs(integer) TO cc_app;


-- Deletes up to p_limit expired sessions of the current tenant with their
-- events, trace and sequence numbers, then up to p_limit of its expired
-- devices that have no session left (a blocked device keeps its row, so
-- staff can still see and lift the block), and says how many rows went.
-- Rows locked by another transaction are skipped: the next batch or the
-- next run takes them.  more is true when the batch was full.
CREATE FUNCTION cc_retention_purge_batch(p_limit integer,
                                         OUT sessions integer,
                                         OUT events bigint,
                                         OUT trace bigint,
                                         OUT sequences bigint,
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
    DELETE FROM event_sequences es
     WHERE es.tenant_id = tenant AND es.session_id = ANY (ids);
    GET DIAGNOSTICS sequences = ROW_COUNT;
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


-- The month partitions of events (named events_YYYYMM by
-- cc_events_create_partition), with the first instant after each.
CREATE FUNCTION cc_events_partitions()
    RETURNS TABLE (name text, ends timestamptz)
    LANGUAGE sql STABLE
    AS $$
    SELECT c.relname::text,
           (to_date(substr(c.relname, 8), 'YYYYMM')
            + interval '1 month')::timestamptz
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'events'::regclass
       AND c.relname ~ '^events_[0-9]{6}$'
     ORDER BY 1
$$;


-- Creates the partition for p_month if it is missing.  Rows that arrived
-- in events_default while it was missing move into it (PostgreSQL refuses
-- to create a partition whose rows sit in the default one).  Returns the
-- partition's name when it was created, NULL when it existed.
CREATE FUNCTION cc_retention_ensure_partition(p_month date) RETURNS text
    LANGUAGE plpgsql
    AS $$
DECLARE
    first_day date := date_trunc('month', p_month)::date;
    name      text := format('events_%s', to_char(first_day, 'YYYYMM'));
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN NULL;
    END IF;

    CREATE TEMP TABLE cc_retention_moving (LIKE events) ON COMMIT DROP;
    INSERT INTO cc_retention_moving
    SELECT * FROM events_default
     WHERE received_at >= first_day::timestamptz
       AND received_at < (first_day + interval '1 month')::timestamptz;
    DELETE FROM events_default
     WHERE received_at >= first_day::timestamptz
       AND received_at < (first_day + interval '1 month')::timestamptz;

    PERFORM cc_events_create_partition(first_day);

    INSERT INTO events SELECT * FROM cc_retention_moving;
    DROP TABLE cc_retention_moving;
    RETURN name;
END
$$;
REVOKE ALL ON FUNCTION cc_retention_ensure_partition(date) FROM PUBLIC;


-- The partition work of one run: partitions for this month and the next
-- p_ahead months exist afterwards, and every partition that ends before
-- the longest retention of any tenant (the default 90 days for a tenant
-- without settings; 365 when there are no tenants, the most any may keep)
-- is dropped whole.
CREATE FUNCTION cc_retention_maintain_partitions(p_ahead integer,
                                                 OUT created text[],
                                                 OUT dropped text[],
                                                 OUT keep_days integer)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    SET lock_timeout = '1s'
    AS $$
DECLARE
    m     integer;
    made  text;
    p     record;
BEGIN
    created := '{}';
    dropped := '{}';

    FOR m IN 0 .. greatest(p_ahead, 0) LOOP
        made := cc_retention_ensure_partition(
                    (now() + make_interval(months => m))::date);
        IF made IS NOT NULL THEN
            created := created || made;
        END IF;
    END LOOP;

    SELECT coalesce(max(s.retention_days), 365) INTO keep_days
      FROM tenants t
     CROSS JOIN LATERAL cc_monitor_settings(t.id) s;

    FOR p IN SELECT * FROM cc_events_partitions()
              WHERE ends <= now() - make_interval(days => keep_days)
    LOOP
        EXECUTE format('DROP TABLE %I', p.name);
        dropped := dropped || p.name;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION cc_retention_maintain_partitions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_retention_maintain_partitions(integer) TO cc_app;
REVOKE ALL ON FUNCTION cc_retention_due_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_retention_due_tenants() TO cc_app;


-- Enqueues the periodic job p_kind for the time bucket now falls in
-- (buckets of p_interval seconds since the epoch, by the database's
-- clock so that every worker agrees), as a platform job whose idempotency
-- key names kind and bucket: however many workers ask, one job per
-- bucket.  Returns the job and whether this call created it.
CREATE FUNCTION cc_periodic_enqueue(p_kind text, p_interval integer,
                                    OUT job_id bigint, OUT created boolean,
                                    OUT bucket bigint)
    LANGUAGE plpgsql
    AS $$
DECLARE
    job jobs;
BEGIN
    IF cc_current_tenant() IS NOT NULL THEN
        RAISE EXCEPTION 'periodic jobs are platform jobs';
    END IF;
    bucket := floor(extract(epoch FROM now()) / greatest(p_interval, 1));
    job := cc_job_enqueue(p_kind, jsonb_build_object('bucket', bucket),
                          format('periodic:%s:%s', p_kind, bucket));
    job_id := job.id;
    created := (job.payload->>'bucket')::bigint = bucket
               AND job.attempts = 0 AND job.created_at = now();
END
$$;
GRANT EXECUTE ON FUNCTION cc_periodic_enqueue(text, integer) TO cc_app;
