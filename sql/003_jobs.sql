-- The job queue.  A job is a row; workers claim rows with FOR UPDATE SKIP
-- LOCKED under a lease, and finish them with the lease token they were given,
-- so a worker whose lease ran out (it died, or stalled) can no longer finish a
-- job that another worker has taken over.  Claiming, finishing and failing
-- cross tenants, so they are SECURITY DEFINER functions; enqueueing and
-- reading run as the caller, under row-level security.
--
-- States: queued -> running -> succeeded
--                           -> queued again (retry, after a backoff)
--                           -> failed (an error that must not be retried)
--                           -> dead   (attempts exhausted)

CREATE TABLE jobs (
    id               bigserial PRIMARY KEY,
    tenant_id        uuid REFERENCES tenants (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]*$'),
    payload          jsonb NOT NULL DEFAULT '{}',
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    state            text NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    run_at           timestamptz NOT NULL DEFAULT now(),
    lease_token      uuid,
    lease_until      timestamptz,
    locked_by        text,
    result           jsonb,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);

-- One job per (tenant, idempotency key); the platform's own jobs share the
-- nil tenant.
CREATE UNIQUE INDEX jobs_idempotency
    ON jobs ((coalesce(tenant_id, '00000000-0000-0000-0000-000000000000')), idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_ready  ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_tenant ON jobs (tenant_id, id);

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON jobs
    USING (tenant_id IS NOT DISTINCT FROM cc_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM cc_current_tenant());

GRANT SELECT, INSERT ON jobs TO cc_app;
GRANT USAGE ON SEQUENCE jobs_id_seq TO cc_app;


-- Wake idle workers: a job became ready (new, or queued again for a retry).
CREATE FUNCTION cc_jobs_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('cc_jobs', NEW.kind);
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION cc_jobs_notify();
CREATE TRIGGER jobs_notify_requeue AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued' AND OLD.state <> 'queued')
    EXECUTE FUNCTION cc_jobs_notify();


-- Enqueue for the current tenant (or the platform).  With an idempotency key
-- a repeated call returns the job the first call created, whatever its state.
CREATE FUNCTION cc_job_enqueue(p_kind text, p_payload jsonb,
                               p_idempotency_key text DEFAULT NULL,
                               p_max_attempts integer DEFAULT 5,
                               p_run_at timestamptz DEFAULT now())
    RETURNS jobs
    LANGUAGE plpgsql
    AS $$
DECLARE
    job jobs;
BEGIN
    INSERT INTO jobs (tenant_id, kind, payload, idempotency_key, max_attempts, run_at)
    VALUES (cc_current_tenant(), p_kind, coalesce(p_payload, '{}'),
            p_idempotency_key, p_max_attempts, p_run_at)
    ON CONFLICT ((coalesce(tenant_id, '00000000-0000-0000-0000-000000000000')), idempotency_key)
        WHERE idempotency_key IS NOT NULL
        DO NOTHING
    RETURNING * INTO job;

    IF job.id IS NULL THEN
        SELECT * INTO job FROM jobs
         WHERE tenant_id IS NOT DISTINCT FROM cc_current_tenant()
           AND idempotency_key = p_idempotency_key;
    END IF;

    RETURN job;
END
$$;


-- Claim up to p_limit ready jobs (optionally of some kinds) for p_worker.
-- A running job whose lease has expired is ready again: its worker died.
-- One whose lease expired on its last attempt is dead instead.
CREATE FUNCTION cc_job_claim(p_worker text, p_lease_seconds integer,
                             p_kinds text[] DEFAULT NULL,
                             p_limit integer DEFAULT 1)
    RETURNS SETOF jobs
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
BEGIN
    UPDATE jobs
       SET state = 'dead', lease_token = NULL, finished_at = now(),
           updated_at = now(),
           last_error = 'lease expired on the last attempt (worker died?)'
     WHERE state = 'running' AND lease_until < now()
       AND attempts >= max_attempts;

    RETURN QUERY
    WITH ready AS (
        SELECT id FROM jobs
         WHERE ((state = 'queued' AND run_at <= now())
                OR (state = 'running' AND lease_until < now()))
           AND (p_kinds IS NULL OR kind = ANY (p_kinds))
         ORDER BY run_at, id
         LIMIT p_limit
         FOR UPDATE SKIP LOCKED
    )
    UPDATE jobs j
       SET state = 'running', attempts = j.attempts + 1,
           lease_token = gen_random_uuid(),
           lease_until = now() + make_interval(secs => p_lease_seconds),
           locked_by = p_worker, updated_at = now()
      FROM ready
     WHERE j.id = ready.id
    RETURNING j.*;
END
$$;


-- Extend a lease still held (a heartbeat for long jobs).
CREATE FUNCTION cc_job_extend(p_id bigint, p_token uuid, p_lease_seconds integer)
    RETURNS boolean
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    WITH held AS (
        UPDATE jobs
           SET lease_until = now() + make_interval(secs => p_lease_seconds),
               updated_at = now()
         WHERE id = p_id AND lease_token = p_token AND state = 'running'
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM held)
$$;


-- Finish a job held under p_token.  False when the lease was lost: the
-- caller must then roll back whatever the job did in this transaction.
CREATE FUNCTION cc_job_complete(p_id bigint, p_token uuid, p_result jsonb)
    RETURNS boolean
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    WITH done AS (
        UPDATE jobs
           SET state = 'succeeded', result = coalesce(p_result, '{}'),
               lease_token = NULL, lease_until = NULL, last_error = NULL,
               finished_at = now(), updated_at = now()
         WHERE id = p_id AND lease_token = p_token AND state = 'running'
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM done)
$$;


-- Record a failed attempt.  Retryable errors go back to the queue after an
-- exponential backoff (base * 2^(attempt-1), capped), or later if the remote
-- side asked for it (Retry-After); the last attempt, and any error that must
-- not be retried, ends the job.  Returns the new state, or NULL when the lease
-- was lost.
CREATE FUNCTION cc_job_fail(p_id bigint, p_token uuid, p_error text,
                            p_retryable boolean,
                            p_backoff_base_ms integer,
                            p_backoff_max_ms integer,
                            p_retry_after_ms integer DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    job       jobs;
    delay_ms  double precision;
    new_state text;
BEGIN
    SELECT * INTO job FROM jobs
     WHERE id = p_id AND lease_token = p_token AND state = 'running'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF NOT p_retryable THEN
        new_state := 'failed';
    ELSIF job.attempts >= job.max_attempts THEN
        new_state := 'dead';
    ELSE
        new_state := 'queued';
    END IF;

    delay_ms := least(p_backoff_base_ms * power(2, job.attempts - 1),
                      p_backoff_max_ms);
    delay_ms := greatest(delay_ms, coalesce(p_retry_after_ms, 0));

    UPDATE jobs
       SET state = new_state, last_error = left(p_error, 2000),
           lease_token = NULL, lease_until = NULL, updated_at = now(),
           run_at = CASE WHEN new_state = 'queued'
                         THEN now() + make_interval(secs => delay_ms / 1000.0)
                         ELSE run_at END,
           finished_at = CASE WHEN new_state = 'queued' THEN NULL ELSE now() END
     WHERE id = p_id;

    RETURN new_state;
END
$$;


-- When the next queued job becomes ready, so an idle worker knows how long it
-- may sleep when no notification comes.
CREATE FUNCTION cc_job_next_ready() RETURNS timestamptz
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT least((SELECT min(run_at) FROM jobs WHERE state = 'queued'),
                 (SELECT min(lease_until) FROM jobs WHERE state = 'running'))
$$;

REVOKE ALL ON FUNCTION cc_job_claim(text, integer, text[], integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION cc_job_extend(bigint, uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION cc_job_complete(bigint, uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION cc_job_fail(bigint, uuid, text, boolean, integer, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION cc_job_next_ready() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc_job_claim(text, integer, text[], integer) TO cc_app;
GRANT EXECUTE ON FUNCTION cc_job_extend(bigint, uuid, integer) TO cc_app;
GRANT EXECUTE ON FUNCTION cc_job_complete(bigint, uuid, jsonb) TO cc_app;
GRANT EXECUTE ON FUNCTION cc_job_fail(bigint, uuid, text, boolean, integer, integer, integer) TO cc_app;
GRANT EXECUTE ON FUNCTION cc_job_next_ready() TO cc_app;
