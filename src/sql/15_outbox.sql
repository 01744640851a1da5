--
-- Outbox: durable events written in the same transaction as the change
-- they describe.  A relay reads them with outbox_fetch() and confirms with
-- outbox_ack(); pg_notify on channel 'fieldops_outbox' is only a wake-up.
--

CREATE TABLE fieldops.outbox (
    tenant_id       bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    event_id        bigserial NOT NULL,
    topic           text NOT NULL CHECK (topic ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    aggregate_type  text NOT NULL,
    aggregate_id    bigint,
    payload         jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    published_at    timestamptz,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX outbox_pending_idx ON fieldops.outbox (tenant_id, event_id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_idx ON fieldops.outbox (tenant_id, published_at) WHERE published_at IS NOT NULL;
COMMENT ON TABLE fieldops.outbox IS
'Durable domain events (worker.left, device.rebound, ...), written by the API in the same transaction as the change.';

CREATE FUNCTION fieldops.emit_event(p_tenant_id bigint, p_topic text, p_aggregate_type text,
                                    p_aggregate_id bigint, p_payload jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO fieldops.outbox (tenant_id, topic, aggregate_type, aggregate_id, payload)
    VALUES (p_tenant_id, p_topic, p_aggregate_type, p_aggregate_id, COALESCE(p_payload, '{}'))
    RETURNING event_id INTO v_id;
    -- only ids travel through NOTIFY: payloads may be large or sensitive
    PERFORM pg_catalog.pg_notify('fieldops_outbox',
        pg_catalog.jsonb_build_object('tenant_id', p_tenant_id, 'event_id', v_id, 'topic', p_topic)::text);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.emit_event(bigint, text, text, bigint, jsonb) IS
'Internal: append an event to the outbox and NOTIFY fieldops_outbox with its id; delivered only if the transaction commits.';

CREATE FUNCTION fieldops.outbox_fetch(p_tenant_id bigint, p_limit integer DEFAULT 100, p_topics text[] DEFAULT NULL)
RETURNS SETOF fieldops.outbox
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 10000, got %', COALESCE(p_limit::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
        SELECT o.* FROM fieldops.outbox o
         WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
           AND o.published_at IS NULL
           AND (p_topics IS NULL OR o.topic OPERATOR(pg_catalog.=) ANY (p_topics))
         ORDER BY o.event_id
         LIMIT p_limit
         FOR UPDATE SKIP LOCKED;
END
$$;
COMMENT ON FUNCTION fieldops.outbox_fetch(bigint, integer, text[]) IS
'Relays: lock and return up to p_limit unpublished events in order, skipping events another relay holds; publish them, then outbox_ack() in the same transaction.';

CREATE FUNCTION fieldops.outbox_ack(p_tenant_id bigint, p_event_ids bigint[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    n integer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_event_ids IS NULL THEN
        RAISE EXCEPTION 'p_event_ids must not be null' USING ERRCODE = '22004';
    END IF;
    UPDATE fieldops.outbox
       SET published_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND event_id OPERATOR(pg_catalog.=) ANY (p_event_ids)
       AND published_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION fieldops.outbox_ack(bigint, bigint[]) IS
'Relays: mark events as published; returns how many were not published before (an event is acknowledged once).';

CREATE FUNCTION fieldops.job_outbox_purge(p_tenant_id bigint, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_days integer := (fieldops.tenant_setting(p_tenant_id, 'outbox_retention_days') #>> '{}')::integer;
    v_batch integer := COALESCE((p_args ->> 'batch')::integer, 10000);
    n integer;
BEGIN
    DELETE FROM fieldops.outbox o
     WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND o.event_id IN (SELECT x.event_id FROM fieldops.outbox x
                           WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                             AND x.published_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => v_days))
                           ORDER BY x.published_at
                           LIMIT v_batch);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN pg_catalog.jsonb_build_object('deleted', n, 'retention_days', v_days, 'more', n OPERATOR(pg_catalog.=) v_batch);
END
$$;
COMMENT ON FUNCTION fieldops.job_outbox_purge(bigint, jsonb) IS
'Job (per tenant): delete published events older than the tenant''s outbox_retention_days, at most args.batch per run; unpublished events are never deleted.';
