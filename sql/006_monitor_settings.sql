-- Each tenant's Monitor settings and its hardware allow-list.  A tenant
-- without a settings row has the defaults: cc_monitor_settings() answers
-- for every tenant, so readers never have to know whether a row exists.
--
--   retention_days           sessions older than this are purged (7-365)
--   stall_after_minutes      silence after which a session is Stalled
--   session_timeout_hours    when an open session is finally classified
--   hardware_check           the allow-list below is enforced
--   autopilot_check          devices must be registered for Autopilot
--   bootstrap_enabled        bootstrap tokens are accepted
--   diagnostics_mode         what the agent uploads: Off, Always, OnFailure

CREATE TABLE monitor_settings (
    tenant_id              uuid PRIMARY KEY
                           REFERENCES tenants (id) ON DELETE CASCADE,
    retention_days         integer NOT NULL DEFAULT 90
                           CHECK (retention_days BETWEEN 7 AND 365),
    stall_after_minutes    integer NOT NULL DEFAULT 120
                           CHECK (stall_after_minutes BETWEEN 5 AND 10080),
    session_timeout_hours  integer NOT NULL DEFAULT 5
                           CHECK (session_timeout_hours BETWEEN 1 AND 168),
    hardware_check         boolean NOT NULL DEFAULT false,
    autopilot_check        boolean NOT NULL DEFAULT true,
    bootstrap_enabled      boolean NOT NULL DEFAULT false,
    diagnostics_mode       text NOT NULL DEFAULT 'OnFailure'
                           CHECK (diagnostics_mode IN ('Off', 'Always',
                                                       'OnFailure')),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Manufacturer and model patterns with * and ? wildcards, matched without
-- regard to case; a device passes when one row matches both.
CREATE TABLE hardware_allowlist (
    id            bigserial PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    manufacturer  text NOT NULL CHECK (length(manufacturer) BETWEEN 1 AND 128),
    model         text NOT NULL CHECK (length(model) BETWEEN 1 AND 128),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, manufacturer, model)
);

-- The settings of p_tenant, defaults filled in for a tenant without a row.
CREATE FUNCTION cc_monitor_settings(p_tenant uuid)
    RETURNS monitor_settings
    LANGUAGE sql STABLE
    AS $$
    SELECT * FROM monitor_settings WHERE tenant_id = p_tenant
    UNION ALL
    SELECT p_tenant, 90, 120, 5, false, true, false, 'OnFailure', now()
     WHERE NOT EXISTS (SELECT 1 FROM monitor_settings
                        WHERE tenant_id = p_tenant)
$$;

ALTER TABLE monitor_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE hardware_allowlist ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON monitor_settings
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON hardware_allowlist
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());

GRANT SELECT, INSERT, UPDATE ON monitor_settings TO cc_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON hardware_allowlist TO cc_app;
GRANT USAGE ON SEQUENCE hardware_allowlist_id_seq TO cc_app;
