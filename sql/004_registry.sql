-- What nginx's registry is fed from: tenant limits, blocked devices and the
-- SPA's sessions, a notification on every change that matters to nginx, and
-- the cross-tenant reads cc-worker's registry sync makes.  Signing keys are
-- not here: they come from the issuers' JWKS.
--
-- The sync LISTENs on cc_registry.  A notification names what changed
-- (kind and id), never its content: the sync reads the current state with
-- cc_registry_entry() and pushes that, so notifications that arrive late or
-- twice do no harm.

-- Per-tenant rate limits, {"name": integer, ...}; nginx's limit module reads
-- them from the registry by name.  The registry holds at most 8 per tenant,
-- named in at most 32 characters, with values that fit 64 bits.  Plans and
-- regions become nginx variables and upstream names, so the registry takes
-- only [A-Za-z0-9._-] in them.
CREATE FUNCTION cc_tenant_limits_valid(p_limits jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT jsonb_typeof(p_limits) = 'object'
       AND (SELECT count(*) FROM jsonb_each(p_limits)) <= 8
       AND NOT EXISTS (
               SELECT 1 FROM jsonb_each(p_limits) AS l (name, value)
                WHERE l.name !~ '^[a-z][a-z0-9_]{0,31}$'
                   OR jsonb_typeof(l.value) <> 'number'
                   OR l.value::text !~ '^[0-9]{1,18}$')
$$;

ALTER TABLE tenants
    ADD COLUMN limits jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT tenants_limits_fit_registry
        CHECK (cc_tenant_limits_valid(limits)),
    ADD CONSTRAINT tenants_plan_fits_registry
        CHECK (plan ~ '^[A-Za-z0-9._-]{1,32}$'),
    ADD CONSTRAINT tenants_region_fits_registry
        CHECK (region ~ '^[A-Za-z0-9._-]{1,64}$');


-- A blocked device is refused by nginx on its next request.  reason is a
-- short code (it travels to nginx and its logs), not free text.
CREATE TABLE device_blocks (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    device_id   uuid NOT NULL,
    until       timestamptz,                -- NULL: until unblocked
    reason      text NOT NULL DEFAULT 'blocked'
                CHECK (reason ~ '^[a-z][a-z0-9_]{0,31}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (tenant_id, device_id)
);


-- The SPA's sessions.  id is the 128-bit session id inside the signed
-- cookie (lib/cc_session.h).  A cookie stays valid by its signature until
-- expires_at, so ending a session early means revoking it: the revocation
-- is what nginx holds.  Hence two rules enforced below: deleting a user
-- revokes their sessions instead of deleting them, and a session may only
-- be deleted once it has expired (or with its tenant), since a deleted row
-- could no longer tell nginx to refuse its cookie.
CREATE TABLE sessions (
    id          bytea PRIMARY KEY CHECK (octet_length(id) = 16),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX sessions_user    ON sessions (tenant_id, user_id);
CREATE INDEX sessions_revoked ON sessions (expires_at)
    WHERE revoked_at IS NOT NULL;

ALTER TABLE device_blocks ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions      ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON device_blocks
    USING (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON sessions
    USING (tenant_id = cc_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON device_blocks, sessions TO cc_app;


-- A user's deletion sets user_id to NULL (the foreign key's action); the
-- session is revoked in the same statement.
CREATE FUNCTION cc_sessions_revoke_orphan() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.user_id IS NULL AND OLD.user_id IS NOT NULL
       AND NEW.revoked_at IS NULL
    THEN
        NEW.revoked_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER sessions_revoke_orphan BEFORE UPDATE OF user_id ON sessions
    FOR EACH ROW EXECUTE FUNCTION cc_sessions_revoke_orphan();


-- Refuses to delete a session whose cookie is still valid, unless its
-- tenant is being deleted (the tenant then leaves the registry, and nginx
-- refuses every session of an unknown tenant).  SECURITY DEFINER so that
-- the tenant's existence is not judged through the caller's RLS view.
CREATE FUNCTION cc_sessions_guard_delete() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
BEGIN
    IF OLD.expires_at > now()
       AND EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id)
    THEN
        RAISE EXCEPTION 'a session is deleted only after it expires; '
                        'revoke it instead (set revoked_at)'
              USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
END
$$;

CREATE TRIGGER sessions_guard_delete BEFORE DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION cc_sessions_guard_delete();


-- Notifications.  Payloads are small JSON objects:
--   {"kind":"tenant","id":"<uuid>"}
--   {"kind":"device","tenant":"<uuid>","id":"<uuid>"}
--   {"kind":"session","id":"<32 hex digits>"}
CREATE FUNCTION cc_registry_notify_tenant() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    r tenants;
BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    PERFORM pg_notify('cc_registry',
                      json_build_object('kind', 'tenant', 'id', r.id)::text);
    IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
        PERFORM pg_notify('cc_registry',
                          json_build_object('kind', 'tenant',
                                            'id', OLD.id)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION cc_registry_notify_device() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('cc_registry',
                          json_build_object('kind', 'device',
                                            'tenant', OLD.tenant_id,
                                            'id', OLD.device_id)::text);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('cc_registry',
                          json_build_object('kind', 'device',
                                            'tenant', NEW.tenant_id,
                                            'id', NEW.device_id)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION cc_registry_notify_session() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    r sessions;
BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    PERFORM pg_notify('cc_registry',
                      json_build_object('kind', 'session',
                                        'id', encode(r.id, 'hex'))::text);
    RETURN NULL;
END
$$;

-- Only what nginx holds: a tenant's name or a session's creation is none
-- of its business, and sessions are created far more often than revoked.
CREATE TRIGGER tenants_registry_insert_delete AFTER INSERT OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION cc_registry_notify_tenant();
CREATE TRIGGER tenants_registry_update AFTER UPDATE ON tenants
    FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.plan IS DISTINCT FROM NEW.plan
          OR OLD.region IS DISTINCT FROM NEW.region
          OR OLD.limits IS DISTINCT FROM NEW.limits)
    EXECUTE FUNCTION cc_registry_notify_tenant();

CREATE TRIGGER device_blocks_registry AFTER INSERT OR UPDATE OR DELETE
    ON device_blocks
    FOR EACH ROW EXECUTE FUNCTION cc_registry_notify_device();

CREATE TRIGGER sessions_registry_insert AFTER INSERT ON sessions
    FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION cc_registry_notify_session();
CREATE TRIGGER sessions_registry_update AFTER UPDATE ON sessions
    FOR EACH ROW
    WHEN ((OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NOT NULL)
          AND (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
               OR OLD.expires_at IS DISTINCT FROM NEW.expires_at))
    EXECUTE FUNCTION cc_registry_notify_session();
CREATE TRIGGER sessions_registry_delete AFTER DELETE ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NOT NULL)
    EXECUTE FUNCTION cc_registry_notify_session();


-- One registry entry, as the sync pushes it.  kind decides which columns
-- mean something:
--   tenant   id = tenant id; status, plan, region, limits
--   device   tenant_id, id = device id; until, reason
--   session  id = session id in hex; until
-- until is in Unix seconds, 0 = indefinitely; a block's end is rounded up
-- so that it never ends early.
CREATE TYPE cc_registry_row AS (
    kind       text,
    tenant_id  uuid,
    id         text,
    status     text,
    plan       text,
    region     text,
    limits     jsonb,
    until      bigint,
    reason     text
);

-- Everything the registry should hold, across tenants, in one snapshot:
-- every tenant, the blocks in force, and the revoked sessions whose cookies
-- have not expired.  SECURITY DEFINER because cc_app under RLS sees one
-- tenant at a time; it returns nothing but what nginx is told anyway.
CREATE FUNCTION cc_registry_snapshot() RETURNS SETOF cc_registry_row
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT 'tenant', t.id, t.id::text, t.status, t.plan, t.region, t.limits,
           NULL::bigint, NULL::text
      FROM tenants t
    UNION ALL
    SELECT 'device', b.tenant_id, b.device_id::text, NULL, NULL, NULL, NULL,
           coalesce(ceil(extract(epoch FROM b.until))::bigint, 0), b.reason
      FROM device_blocks b
     WHERE b.until IS NULL OR b.until > now()
    UNION ALL
    SELECT 'session', s.tenant_id, encode(s.id, 'hex'), NULL, NULL, NULL,
           NULL, ceil(extract(epoch FROM s.expires_at))::bigint, NULL
      FROM sessions s
     WHERE s.revoked_at IS NOT NULL AND s.expires_at > now()
$$;

-- The current state of the entry a notification named: one row, or none
-- when the registry should not hold it (deleted, unblocked, expired, not
-- revoked).  p_tenant is only used for devices.
CREATE FUNCTION cc_registry_entry(p_kind text, p_tenant uuid, p_id text)
    RETURNS SETOF cc_registry_row
    LANGUAGE plpgsql STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
BEGIN
    IF p_kind = 'tenant' THEN
        RETURN QUERY
        SELECT 'tenant'::text, t.id, t.id::text, t.status, t.plan, t.region,
               t.limits, NULL::bigint, NULL::text
          FROM tenants t
         WHERE t.id = p_id::uuid;
    ELSIF p_kind = 'device' THEN
        RETURN QUERY
        SELECT 'device'::text, b.tenant_id, b.device_id::text, NULL::text,
               NULL::text, NULL::text, NULL::jsonb,
               coalesce(ceil(extract(epoch FROM b.until))::bigint, 0),
               b.reason
          FROM device_blocks b
         WHERE b.tenant_id = p_tenant AND b.device_id = p_id::uuid
           AND (b.until IS NULL OR b.until > now());
    ELSIF p_kind = 'session' THEN
        RETURN QUERY
        SELECT 'session'::text, s.tenant_id, encode(s.id, 'hex'), NULL::text,
               NULL::text, NULL::text, NULL::jsonb,
               ceil(extract(epoch FROM s.expires_at))::bigint, NULL::text
          FROM sessions s
         WHERE s.id = decode(p_id, 'hex')
           AND s.revoked_at IS NOT NULL AND s.expires_at > now();
    ELSE
        RAISE EXCEPTION 'unknown registry entry kind'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION cc_registry_snapshot() FROM PUBLIC;
REVOKE ALL ON FUNCTION cc_registry_entry(text, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_registry_snapshot() TO cc_app;
GRANT EXECUTE ON FUNCTION cc_registry_entry(text, uuid, text) TO cc_app;
