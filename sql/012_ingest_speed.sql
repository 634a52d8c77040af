-- What agent ingest needs to be fast: event_sequences loses its foreign key
-- to enrollment_sessions, whose per-row check cost more than half of
-- storing a batch's events (100 trigger calls, each a row lock on the
-- same session).
--
-- What the key gave, and what gives it now:
--   an existing session   cc-ingest locks the session row FOR KEY SHARE
--                         (the lock the key's check took) once per batch,
--                         after creating it if needed, before it stores
--                         anything (workers/cc-ingest/ingest_agent.c); a
--                         purge that has deleted the session makes the
--                         batch fail and be retried, as before.
--   ON DELETE CASCADE     the trigger below deletes the sequence numbers
--                         of deleted sessions, whoever deletes them (staff,
--                         retention, a cascade from devices or tenants).

ALTER TABLE event_sequences
    DROP CONSTRAINT event_sequences_tenant_id_session_id_fkey;

-- Runs as its owner: a cascade from tenants runs in the platform's context,
-- where row-level security would hide every row from cc_app.  It deletes
-- only the sequence numbers of the sessions the statement deleted.
CREATE FUNCTION cc_event_sequences_cascade() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
BEGIN
    DELETE FROM event_sequences es
     USING gone g
     WHERE es.tenant_id = g.tenant_id AND es.session_id = g.session_id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION cc_event_sequences_cascade() FROM PUBLIC;

CREATE TRIGGER enrollment_sessions_sequences_cascade
    AFTER DELETE ON enrollment_sessions
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION cc_event_sequences_cascade();
