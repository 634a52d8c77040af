-- The login role the workers use.  Row-level security applies to it: it owns
-- nothing, is not a superuser and cannot bypass RLS.  Its password (if any) is
-- set by the operator, never by a migration.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_app') THEN
        CREATE ROLE cc_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

-- The tenant a transaction acts for.  Workers run SET LOCAL cc.tenant_id in
-- every transaction; an unset or empty value means "the platform itself",
-- which sees platform rows (tenant_id IS NULL) and no tenant's rows.
CREATE FUNCTION cc_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('cc.tenant_id', true), '')::uuid $$;

GRANT USAGE ON SCHEMA public TO cc_app;

-- The runner's own record (created before this file runs): health checks
-- report the schema version the workers see.
GRANT SELECT ON schema_migrations TO cc_app;
