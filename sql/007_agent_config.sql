-- What the agent's configuration serves and what agents report back
-- (agent-protocol.md 5, 12, 13): the versioned IME log-pattern sets, each
-- tenant's overrides of them, agent error reports and distress reports.
--
-- Pattern sets are platform-wide: the newest version is what every tenant
-- gets, with the tenant's overrides merged over it by patternId.  A
-- tenant's configVersion is the set version plus its override revision,
-- so it grows whenever either changes.

CREATE TABLE agent_pattern_sets (
    version     integer PRIMARY KEY CHECK (version > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    patterns    jsonb NOT NULL CHECK (jsonb_typeof(patterns) = 'array')
);

-- An override replaces the default pattern of the same patternId, adds a
-- pattern of the tenant's own, or (pattern NULL) disables a default one.
CREATE TABLE tenant_pattern_overrides (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pattern_id  text NOT NULL
                CHECK (pattern_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    pattern     jsonb CHECK (pattern IS NULL
                             OR jsonb_typeof(pattern) = 'object'),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text,
    PRIMARY KEY (tenant_id, pattern_id)
);

-- Counts the tenant's override writes (never goes back), for configVersion.
CREATE TABLE tenant_pattern_revisions (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    revision    integer NOT NULL DEFAULT 0 CHECK (revision >= 0)
);

-- Agent error reports (ErrorType: IngestFailed 0, ConfigFetchFailed 1,
-- RegisterSessionFailed 2, IntegrityCheckFailed 3, SessionAgeEmergencyBreak
-- 4).  The session may never have registered (that can be the error), so
-- there is no foreign key to enrollment_sessions.
CREATE TABLE agent_errors (
    id             bigserial PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    device_id      uuid NOT NULL,
    session_id     uuid NOT NULL,
    error_type     integer NOT NULL CHECK (error_type BETWEEN 0 AND 999),
    http_status    integer,
    sequence_number bigint,
    message        text,
    agent_version  text,
    reported_at    timestamptz,
    received_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_errors_session ON agent_errors (tenant_id, session_id);
CREATE INDEX agent_errors_device
    ON agent_errors (tenant_id, device_id, received_at);

-- Distress reports come without a certificate: what they say is a claim.
-- serial_number is personal data: stored, never logged.
CREATE TABLE distress_reports (
    id                 bigserial PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    error_type         integer NOT NULL CHECK (error_type BETWEEN 0 AND 8),
    manufacturer       text,
    model              text,
    serial_number      text,
    agent_version      text,
    http_status        integer,
    message            text,
    is_cloud_pc        boolean,
    cert_source_state  integer,
    cert_thumbprint    text,
    cert_subject       text,
    cert_issuer        text,
    cert_not_before    timestamptz,
    cert_not_after     timestamptz,
    reported_at        timestamptz NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX distress_reports_tenant_received
    ON distress_reports (tenant_id, received_at);

ALTER TABLE tenant_pattern_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_pattern_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_errors ENABLE ROW LEVEL SECURITY;
ALTER TABLE distress_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_pattern_overrides
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON tenant_pattern_revisions
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON agent_errors
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());
CREATE POLICY tenant_isolation ON distress_reports
    USING (tenant_id = cc_current_tenant())
    WITH CHECK (tenant_id = cc_current_tenant());

GRANT SELECT ON agent_pattern_sets TO cc_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_pattern_overrides TO cc_app;
GRANT SELECT, INSERT, UPDATE ON tenant_pattern_revisions TO cc_app;
GRANT SELECT, INSERT ON agent_errors, distress_reports TO cc_app;
GRANT USAGE ON SEQUENCE agent_errors_id_seq, distress_reports_id_seq
    TO cc_app;

-- The tenant's patterns as the agent gets them: the newest default set in
-- its order, each replaced by the tenant's override of the same patternId
-- or left out when the override disables it, then the tenant's own
-- patterns by patternId; and the configVersion that goes with them.
-- Runs as the caller, so row-level security picks the tenant's overrides.
CREATE FUNCTION cc_agent_patterns(OUT config_version integer,
                                  OUT patterns jsonb)
    LANGUAGE sql STABLE
    AS $$
    WITH set AS (
        SELECT s.version, s.patterns FROM agent_pattern_sets s
         ORDER BY s.version DESC LIMIT 1),
    defaults AS (
        SELECT e.p, e.ord FROM set,
               jsonb_array_elements(set.patterns) WITH ORDINALITY e(p, ord)),
    merged AS (
        SELECT CASE WHEN o.pattern_id IS NULL THEN d.p ELSE o.pattern END
                   AS p,
               d.ord, '' AS id
          FROM defaults d
          LEFT JOIN tenant_pattern_overrides o
                 ON o.pattern_id = d.p ->> 'patternId'
        UNION ALL
        SELECT o.pattern, NULL, o.pattern_id
          FROM tenant_pattern_overrides o
         WHERE o.pattern IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM defaults d
                            WHERE d.p ->> 'patternId' = o.pattern_id))
    SELECT coalesce((SELECT version FROM set), 0)
           + coalesce((SELECT revision FROM tenant_pattern_revisions
                        WHERE tenant_id = cc_current_tenant()), 0),
           coalesce((SELECT jsonb_agg(p ORDER BY ord NULLS LAST, id)
                       FROM merged WHERE p IS NOT NULL), '[]'::jsonb)
$$;
GRANT EXECUTE ON FUNCTION cc_agent_patterns() TO cc_app;

-- The default set, version 1, written for Concierge from what the
-- Intune Management Extension writes to IntuneManagementExtension.log.
-- Patterns are .NET regular expressions the agent applies to each log
-- message; they use only syntax .NET and PCRE2 share, and the named groups
-- the agent's actions read (id, name, espPhase, bytes, ofbytes,
-- agentVersion, result, exitCode, errorCode).  t/unit/ingest_patterns.c
-- compiles each one and matches it against a sample line.
INSERT INTO agent_pattern_sets (version, patterns) VALUES (1, $patterns$
[
 {"patternId": "CC-IME-VERSION", "category": "always",
  "pattern": "Intune Management Extension.*?[Vv]ersion:?\\s*(?<agentVersion>\\d+\\.\\d+\\.\\d+\\.\\d+)",
  "action": "imeAgentVersion", "enabled": true, "isBuiltIn": true,
  "description": "The IME's own version, logged when its service starts."},
 {"patternId": "CC-IME-STARTED", "category": "always",
  "pattern": "IntuneManagementExtension service (?:is )?(?:starting|started)",
  "action": "imeStarted", "enabled": true, "isBuiltIn": true,
  "description": "The IME service (re)started: apps in flight are re-evaluated."},
 {"patternId": "CC-ESP-PHASE", "category": "always",
  "pattern": "\\[Win32App\\]\\s+(?:In|Current|The)\\s+EspPhase\\s*[:=]\\s*(?<espPhase>[A-Za-z]+)",
  "action": "espPhaseDetected", "enabled": true, "isBuiltIn": true,
  "description": "The ESP phase the IME is working in (DeviceSetup, AccountSetup)."},
 {"patternId": "CC-APP-CURRENT", "category": "currentPhase",
  "pattern": "ExecManager:\\s+processing targeted app \\(name='(?<name>[^']*)',\\s*id='(?<id>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})'\\)",
  "action": "setCurrentApp", "enabled": true, "isBuiltIn": true,
  "description": "The IME starts on an app targeted at this device or user."},
 {"patternId": "CC-APP-DOWNLOAD-START", "category": "currentPhase",
  "pattern": "\\[Win32App\\]\\s+Downloading app on session \\d+\\.?\\s*App:?\\s*(?<id>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})",
  "action": "updateStateDownloading", "enabled": true, "isBuiltIn": true,
  "description": "The content download of an app begins."},
 {"patternId": "CC-APP-DOWNLOAD-PROGRESS", "category": "currentPhase",
  "pattern": "Downloading app \\(id = (?<id>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}),.*?bytes (?<bytes>\\d+)/(?<ofbytes>\\d+)",
  "action": "updateStateDownloading", "enabled": true, "isBuiltIn": true,
  "description": "Download progress of an app, in bytes of the whole."},
 {"patternId": "CC-APP-DOWNLOAD-ERROR", "category": "currentPhase",
  "pattern": "\\[Win32App\\].*?(?:[Dd]ownload(?:ing)? (?:content )?failed|[Ff]ailed to download)(?:.*?(?<errorCode>0x[0-9A-Fa-f]{8}))?",
  "action": "updateStateError", "parameters": {"useCurrentApp": "true"},
  "enabled": true, "isBuiltIn": true,
  "description": "The download of the current app failed."},
 {"patternId": "CC-APP-INSTALL-START", "category": "currentPhase",
  "pattern": "\\[Win32App\\]\\s+(?:Launch Win32AppInstaller|Start(?:ing)? (?:the )?install(?:ation)?)",
  "action": "updateStateInstalling", "parameters": {"useCurrentApp": "true"},
  "enabled": true, "isBuiltIn": true,
  "description": "The installer of the current app is launched."},
 {"patternId": "CC-APP-INSTALL-DONE", "category": "currentPhase",
  "pattern": "\\[Win32App\\].*?applicationDetectedByCurrentRule:\\s*True",
  "action": "updateStateInstalled", "parameters": {"useCurrentApp": "true"},
  "enabled": true, "isBuiltIn": true,
  "description": "The detection rules find the current app installed."},
 {"patternId": "CC-APP-INSTALL-ERROR", "category": "currentPhase",
  "pattern": "\\[Win32App\\].*?(?:[Ii]nstall(?:ation)? failed|lpExitCode:?\\s*(?<exitCode>-?[1-9]\\d*) .*?NOT (?:set|mapped))(?:.*?(?<errorCode>0x[0-9A-Fa-f]{8}))?",
  "action": "updateStateError", "parameters": {"useCurrentApp": "true"},
  "enabled": true, "isBuiltIn": true,
  "description": "The installation of the current app failed."},
 {"patternId": "CC-SCRIPT-START", "category": "always",
  "pattern": "\\[PowerShell\\]\\s+Processing policy with id = (?<id>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})",
  "action": "scriptStarted", "enabled": true, "isBuiltIn": true,
  "description": "A platform script starts."},
 {"patternId": "CC-SCRIPT-EXIT", "category": "always",
  "pattern": "\\[PowerShell\\].*?[Ee]xit code (?:is )?(?<exitCode>-?\\d+)",
  "action": "scriptExitCode", "enabled": true, "isBuiltIn": true,
  "description": "The exit code of the running platform script."},
 {"patternId": "CC-SCRIPT-RESULT", "category": "always",
  "pattern": "\\[PowerShell\\].*?Policy id = (?<id>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}),\\s*policy result = (?<result>[A-Za-z]+)",
  "action": "scriptCompleted", "enabled": true, "isBuiltIn": true,
  "description": "A platform script ends; result Success or Failed."},
 {"patternId": "CC-ENROLLMENT-DONE", "category": "always",
  "pattern": "\\[Win32App\\].*?(?:ESP|Enrollment Status Page) (?:has )?(?:finished|completed) (?:successfully|for all phases)",
  "action": "enrollmentCompleted", "enabled": true, "isBuiltIn": true,
  "description": "The IME reports the Enrollment Status Page as finished."}
]
$patterns$::jsonb);
