-- Bootstrap tokens (agent-protocol.md 2, 3 step 3): a device without an MDM
-- certificate yet runs the agent with --bootstrap-token and nginx admits it
-- by the token alone.  The database keeps only the token's SHA-256 (of its
-- canonical lower-case GUID text): the token itself is shown once, when it
-- is created, and never stored, logged or pushed anywhere.
--
-- nginx's registry holds every unexpired, unrevoked token with its tenant,
-- its expiry and whether the tenant has bootstrap enabled: a token of a
-- tenant that switched the feature off is still known, so that nginx can
-- answer 403 (feature off) rather than 401 (no such token), as the
-- protocol's order of checks says.

CREATE TABLE bootstrap_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    label       text NOT NULL DEFAULT ''
                CHECK (length(label) <= 128),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX bootstrap_tokens_tenant ON bootstrap_tokens (tenant_id,
                                                          created_at);

ALTER TABLE bootstrap_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bootstrap_tokens
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());

GRANT SELECT, INSERT, UPDATE ON bootstrap_tokens TO cc_app;


-- Notifications: {"kind":"bootstrap","id":"<64 hex digits of the hash>"}.
-- The hash names the entry; the token cannot be recovered from it.
CREATE FUNCTION cc_registry_notify_bootstrap() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    r bootstrap_tokens;
BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    PERFORM pg_notify('cc_registry',
                      json_build_object('kind', 'bootstrap',
                                        'id', encode(r.token_hash,
                                                     'hex'))::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER bootstrap_tokens_registry AFTER INSERT OR UPDATE OR DELETE
    ON bootstrap_tokens
    FOR EACH ROW EXECUTE FUNCTION cc_registry_notify_bootstrap();

-- Switching the feature changes what nginx says about each of the
-- tenant's tokens.  SECURITY DEFINER: the tokens are read across RLS only
-- to name them in notifications.
CREATE FUNCTION cc_registry_notify_bootstrap_setting() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    h bytea;
BEGIN
    FOR h IN SELECT token_hash FROM bootstrap_tokens
              WHERE tenant_id = NEW.tenant_id AND revoked_at IS NULL
                AND expires_at > now()
    LOOP
        PERFORM pg_notify('cc_registry',
                          json_build_object('kind', 'bootstrap',
                                            'id', encode(h, 'hex'))::text);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER monitor_settings_bootstrap_insert AFTER INSERT
    ON monitor_settings
    FOR EACH ROW WHEN (NEW.bootstrap_enabled)
    EXECUTE FUNCTION cc_registry_notify_bootstrap_setting();
CREATE TRIGGER monitor_settings_bootstrap_update AFTER UPDATE
    ON monitor_settings
    FOR EACH ROW
    WHEN (OLD.bootstrap_enabled IS DISTINCT FROM NEW.bootstrap_enabled)
    EXECUTE FUNCTION cc_registry_notify_bootstrap_setting();


-- The registry rows, now with bootstrap tokens:
--   bootstrap  tenant_id; id = the hash in hex; until = expiry;
--              status = 'enabled' or 'disabled' (the tenant's setting)
CREATE OR REPLACE FUNCTION cc_registry_bootstrap_rows(p_hash bytea)
    RETURNS SETOF cc_registry_row
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT 'bootstrap'::text, b.tenant_id, encode(b.token_hash, 'hex'),
           CASE WHEN (cc_monitor_settings(b.tenant_id)).bootstrap_enabled
                THEN 'enabled' ELSE 'disabled' END,
           NULL::text, NULL::text, NULL::jsonb,
           ceil(extract(epoch FROM b.expires_at))::bigint, NULL::text
      FROM bootstrap_tokens b
     WHERE (p_hash IS NULL OR b.token_hash = p_hash)
       AND b.revoked_at IS NULL AND b.expires_at > now()
$$;

CREATE OR REPLACE FUNCTION cc_registry_snapshot()
    RETURNS SETOF cc_registry_row
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
    UNION ALL
    SELECT * FROM cc_registry_bootstrap_rows(NULL)
$$;

CREATE OR REPLACE FUNCTION cc_registry_entry(p_kind text, p_tenant uuid,
                                             p_id text)
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
    ELSIF p_kind = 'bootstrap' THEN
        RETURN QUERY
        SELECT * FROM cc_registry_bootstrap_rows(decode(p_id, 'hex'));
    ELSE
        RAISE EXCEPTION 'unknown registry entry kind'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION cc_registry_bootstrap_rows(bytea) FROM PUBLIC;
