--
-- outbox: events are written with the change, fetched by relays with
-- SKIP LOCKED, acknowledged once, announced by NOTIFY, and purged after the
-- tenant's retention.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;

-- events exist only if the change commits (NOTIFY is shown by the isolation suite)
BEGIN;
SELECT fieldops.upsert_worker(:acme, 'E105', '陈静 Chen Jing') AS chen \gset
ROLLBACK;
SELECT count(*) AS rolled_back_events FROM fieldops.outbox WHERE payload ->> 'external_ref' = 'E105';
SELECT fieldops.upsert_worker(:acme, 'E105', '陈静 Chen Jing') IS NOT NULL AS created;

SELECT count(*) AS pending FROM fieldops.outbox WHERE published_at IS NULL \gset
SELECT :pending > 10 AS has_pending;

-- fetch in order, filtered by topic
SELECT count(*) AS device_events, bool_and(topic LIKE 'device.%') AS only_devices
  FROM fieldops.outbox_fetch(:acme, 100, ARRAY['device.bound', 'device.rebound', 'device.retired', 'device.retired_seen']);
SELECT array_agg(event_id ORDER BY event_id) = array_agg(event_id) AS in_order
  FROM fieldops.outbox_fetch(:acme, 5);

-- a relay acknowledges what it published; a second ack counts nothing
SELECT array_agg(event_id) AS first5 FROM fieldops.outbox_fetch(:acme, 5) \gset
SELECT fieldops.outbox_ack(:acme, :'first5') AS acked, fieldops.outbox_ack(:acme, :'first5') AS acked_again;
SELECT count(*) = :pending - 5 AS five_fewer_pending FROM fieldops.outbox WHERE published_at IS NULL;
SELECT count(*) FROM fieldops.outbox_fetch(:acme, 1000) WHERE event_id = ANY (:'first5');

-- bad arguments
SELECT fieldops.outbox_fetch(:acme, 0);
SELECT fieldops.outbox_fetch(:acme, 10001);
SELECT fieldops.outbox_fetch(:acme, NULL);
SELECT fieldops.outbox_ack(:acme, NULL);
SELECT fieldops.outbox_fetch(:beta, 10);
SELECT fieldops.outbox_ack(:beta, ARRAY[1]);
-- topics are checked by the table
\set VERBOSITY terse
SELECT fieldops.emit_event(:acme, 'NotATopic', 'worker', 1);
\set VERBOSITY default

-- purge: only published events older than the retention (Acme keeps 7 days)
UPDATE fieldops.outbox SET published_at = now() - interval '8 days' WHERE event_id = ANY (:'first5'::bigint[]) AND event_id <> (:'first5'::bigint[])[1];
UPDATE fieldops.outbox SET created_at = now() - interval '400 days' WHERE published_at IS NULL;  -- old but unpublished
SELECT fieldops.job_outbox_purge(:acme, '{}');
SELECT fieldops.job_outbox_purge(:acme, '{}');
SELECT count(*) = :pending - 4 AS kept, count(*) FILTER (WHERE published_at IS NULL) = :pending - 5 AS unpublished_kept FROM fieldops.outbox;
-- in batches: "more" tells the scheduler to run again at once
UPDATE fieldops.outbox SET published_at = now() - interval '30 days';
SELECT fieldops.job_outbox_purge(:acme, '{"batch": 3}');
SELECT count(*) = :pending - 7 AS three_fewer FROM fieldops.outbox;
RESET ALL;
