-- What the tenant staff API (workers/cc-api/api_monitor_*.c) needs beyond
-- the Monitor tables: the right to delete a session, the indexes its
-- newest-first pages read, and the offboarding of a tenant.

-- A session deleted by staff goes with its events, trace and sequence
-- numbers, under row-level security (sql/011 grants the same to the
-- retention purge; GRANT is idempotent).
GRANT DELETE ON enrollment_sessions, events, event_sequences, session_trace
    TO cc_app;

-- Pages are newest first with a (time, id) cursor.
CREATE INDEX enrollment_sessions_started
    ON enrollment_sessions (tenant_id, started_at DESC, session_id DESC);
CREATE INDEX devices_last_seen
    ON devices (tenant_id, last_seen DESC, device_id DESC);
CREATE INDEX audit_log_tenant_id ON audit_log (tenant_id, id DESC);


-- Offboards the current tenant in one transaction: an audit record first
-- (audit_log has no foreign key, so it stays), then the events (which have
-- no foreign key either), then the tenants row, whose deletion cascades to
-- everything else the tenant owns: devices, enrollment sessions with their
-- trace and sequences, settings, allow-list, blocks, users, memberships,
-- the SPA's sessions, jobs, pattern overrides, agent reports.  The
-- tenant's row going away is what tells the registry sync to drop it.
--
-- SECURITY DEFINER because cc_app may not delete tenants; the function
-- acts only on cc_current_tenant(), which the caller's transaction set
-- for the tenant it was allowed to act on.  Returns what went, as counts.
CREATE FUNCTION cc_tenant_offboard(p_actor text) RETURNS jsonb
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    tenant   uuid := cc_current_tenant();
    counts   jsonb;
    nevents  bigint;
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'cc_tenant_offboard needs a tenant'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM 1 FROM tenants WHERE id = tenant FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    DELETE FROM events WHERE tenant_id = tenant;
    GET DIAGNOSTICS nevents = ROW_COUNT;
    counts := jsonb_build_object(
        'devices', (SELECT count(*) FROM devices WHERE tenant_id = tenant),
        'sessions', (SELECT count(*) FROM enrollment_sessions
                      WHERE tenant_id = tenant),
        'events', nevents,
        'users', (SELECT count(*) FROM users WHERE tenant_id = tenant));

    INSERT INTO audit_log (tenant_id, actor, action, target, detail)
    VALUES (tenant, p_actor, 'tenant.offboarded', 'tenant:' || tenant,
            counts);
    DELETE FROM tenants WHERE id = tenant;
    RETURN counts;
END
$$;

REVOKE ALL ON FUNCTION cc_tenant_offboard(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_tenant_offboard(text) TO cc_app;
