--
-- Built-in jobs are listed here, not inserted by the install script: they
-- are created in fieldops.job on first use, so job rows are all user data
-- (pg_dump keeps them, including an administrator's changes).  This file
-- is part of every upgrade script (CREATE OR REPLACE): a release that adds
-- a job lists it here, and ensure_builtin_jobs() creates it the next time
-- jobs run.
--
CREATE OR REPLACE FUNCTION fieldops.builtin_jobs()
RETURNS TABLE (job_name text, function_name text, scope text, schedule interval, args jsonb, description text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    VALUES
    ('apply_departures', 'fieldops.job_apply_departures', 'tenant', interval '15 minutes', '{"batch": 500}'::jsonb,
     'Apply scheduled departures of workers whose leaving date has come (tenant-local).'),
    ('outbox_purge', 'fieldops.job_outbox_purge', 'tenant', interval '1 hour', '{"batch": 10000}'::jsonb,
     'Delete published outbox events older than the tenant''s outbox_retention_days.'),
    ('job_run_purge', 'fieldops.job_run_purge', 'global', interval '1 day', '{"keep_days": 30, "batch": 10000}'::jsonb,
     'Delete finished job runs older than args.keep_days.'),
    ('fix_partitions', 'fieldops.job_fix_partitions', 'global', interval '1 hour', '{"days_ahead": 7}'::jsonb,
     'Create the daily partitions of fieldops.fix from yesterday to args.days_ahead days ahead (UTC) and drop those older than every tenant''s fix_retention_days.'),
    ('fix_purge', 'fieldops.job_fix_purge', 'tenant', interval '1 hour', '{"batch": 10000}'::jsonb,
     'Delete the tenant''s location fixes older than its fix_retention_days.'),
    ('radio_map', 'fieldops.job_radio_map', 'tenant', interval '15 minutes', '{}'::jsonb,
     'Learn the Wi-Fi access points and cells heard by the tenant''s trusted fixes since the last run (refresh_radio_map()).'),
    ('pool_release', 'fieldops.job_pool_release', 'tenant', interval '10 minutes', '{"batch": 1000}'::jsonb,
     'Warn and release customers nobody followed up (or without a deal) back to their pool, per each pool''s rules and inside its release window (tenant-local).'),
    ('photo_nonce_purge', 'fieldops.job_photo_nonce_purge', 'tenant', interval '1 hour', '{"keep_days": 7, "batch": 10000}'::jsonb,
     'Delete photo nonces that expired more than args.keep_days ago.'),
    ('work_order_sla', 'fieldops.job_work_order_sla', 'tenant', interval '1 minute', '{"batch": 1000}'::jsonb,
     'Record work orders whose respond-by or resolve-by deadline has passed, each breach once (outbox event work_order.sla_breached).'),
    ('kpi_rollup', 'fieldops.job_kpi_rollup', 'tenant', interval '5 minutes', '{"max_days": 31}'::jsonb,
     'Recompute the KPI rollups of the tenant-local days that changed since the last run, and today (kpi_refresh()).')
$$;
COMMENT ON FUNCTION fieldops.builtin_jobs() IS 'The jobs fieldops itself needs; ensure_builtin_jobs() creates the missing ones.';
