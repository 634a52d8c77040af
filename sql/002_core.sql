-- Tenants, users, memberships and the audit log: the shared core.
-- Every tenant-owned table carries tenant_id and a row-level-security policy
-- that limits it to cc_current_tenant().

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'suspended', 'offboarding', 'offboarded')),
    plan        text NOT NULL DEFAULT 'standard',
    region      text NOT NULL DEFAULT 'default',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    oid           uuid NOT NULL,
    display_name  text,
    email         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, oid)
);

CREATE TABLE memberships (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL
                CHECK (role IN ('global_admin', 'tenant_admin', 'operator', 'user')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, role)
);

-- The audit log outlives the tenant it describes (an offboarding leaves a
-- record), so it has no foreign key to tenants.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    target      text,
    detail      jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at);

ALTER TABLE tenants     ENABLE ROW LEVEL SECURITY;
ALTER TABLE users       ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log   ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON tenants
    USING (id = cc_current_tenant());
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON memberships
    USING (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON audit_log
    USING (tenant_id IS NOT DISTINCT FROM cc_current_tenant());

GRANT SELECT, UPDATE ON tenants TO cc_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, memberships TO cc_app;
GRANT SELECT, INSERT ON audit_log TO cc_app;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO cc_app;
