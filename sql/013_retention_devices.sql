-- Devices go with their data: once a device has no session left, and was
-- last seen before its tenant's retention, its row (manufacturer, model,
-- serial number) is purged in the same batches as the sessions.  A device
-- that is blocked keeps its row, so staff can still see and lift the block.

GRANT DELETE ON devices TO cc_app;

-- Tenants with expired sessions, or with expired devices that have none.
CREATE OR REPLACE FUNCTION cc_retention_due_tenants()
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

-- As in 011, plus the tenant's expired devices left without a session
-- once this batch's sessions are gone (at most p_limit of them).
DROP FUNCTION cc_retention_purge_batch(integer);
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
