--
-- worktime: working hours (weekly pattern, night shifts, dated exceptions)
-- and whether a worker is on duty at an instant, in the tenant's time zone.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';

-- validation: every mistake is a 22023 that says where it is
SELECT fieldops.work_schedule_normalize('[]');
SELECT fieldops.work_schedule_normalize('{"mon": "09:00-18:00"}');
SELECT fieldops.work_schedule_normalize('{"mon": [900]}');
SELECT fieldops.work_schedule_normalize('{"mon": ["9:00-18:00"]}');
SELECT fieldops.work_schedule_normalize('{"mon": ["09:00-09:00"]}');
SELECT fieldops.work_schedule_normalize('{"mon": ["24:00-06:00"]}');
SELECT fieldops.work_schedule_normalize('{"mon": ["09:00-12:00", "11:30-18:00"]}');
SELECT fieldops.work_schedule_normalize('{"tues": []}');
SELECT fieldops.work_schedule_normalize('{"dates": []}');
SELECT fieldops.work_schedule_normalize('{"dates": {"2026-02-29": []}}');
SELECT fieldops.work_schedule_normalize('{"dates": {"2026-10-01": "off"}}');
SELECT fieldops.work_schedule_normalize('{"mon": ["00:00-01:00","01:00-02:00","02:00-03:00","03:00-04:00","04:00-05:00","05:00-06:00","06:00-07:00","07:00-08:00","08:00-09:00"]}');
SELECT fieldops.work_schedule_normalize(NULL) IS NULL AS strict;

-- canonical form: all days, sorted ranges, dates in order
SELECT fieldops.work_schedule_normalize(
  '{"fri": ["22:00-06:00", "13:00-17:30"], "mon": ["09:00-12:00"],
    "dates": {"2026-10-08": [], "2026-10-01": [], "2026-09-28": ["09:00-18:00"]}}');

-- contains: half-open ranges, night shifts belong to the day they start
WITH s(j) AS (SELECT '{"fri": ["09:00-12:00", "22:00-06:00"], "dates": {"2026-12-25": []}}'::jsonb)
SELECT t, fieldops.work_schedule_contains(j, t::timestamp) AS on_duty
  FROM s, unnest(ARRAY['2026-11-27 08:59:59', '2026-11-27 09:00:00', '2026-11-27 11:59:59.999',
                       '2026-11-27 12:00:00', '2026-11-27 23:30:00', '2026-11-28 05:59:59',
                       '2026-11-28 06:00:00', '2026-11-28 23:30:00', '2026-12-25 10:00:00',
                       '2026-12-26 01:00:00']) AS t ORDER BY t;
SELECT fieldops.work_schedule_contains('{"mon": ["09:00-18:00"]}', 'infinity');
SELECT fieldops.work_schedule_contains('{"mon": ["09:00-18:00"]}', '2026-11-30 10:00');

--
-- is_working_time: the worker's schedule or the tenant's, in the tenant's zone
--
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT worker_id AS boss FROM fieldops.worker WHERE external_ref = 'E100' \gset
SELECT worker_id AS liu FROM fieldops.worker WHERE external_ref = 'E103' \gset
SELECT worker_id AS lina FROM fieldops.worker WHERE external_ref = 'E101' \gset
-- Wang Lei follows the tenant default (Mon-Fri 09:00-18:00 Shanghai time)
SELECT at, fieldops.is_working_time(:acme, :boss, at) AS on_duty
  FROM unnest(ARRAY['2026-11-27 00:59:59+00'::timestamptz,   -- Fri 08:59:59 in Shanghai
                    '2026-11-27 01:00:00+00',                -- Fri 09:00 in Shanghai
                    '2026-11-27 09:59:59+00',                -- Fri 17:59:59
                    '2026-11-27 10:00:00+00',                -- Fri 18:00
                    '2026-11-28 03:00:00+00']) AS at         -- Sat 11:00
 ORDER BY at;
-- Liu Yang left (his departure was applied) and is never on duty afterwards
SELECT fieldops.is_working_time(:acme, :liu, '2026-11-30 23:00+08') AS liu_after_leaving;
-- before being hired nobody is on duty
SELECT fieldops.set_work_schedule(:acme, :lina, '{"sun": ["00:00-24:00"]}') IS NOT NULL AS lina_sundays;
SELECT fieldops.is_working_time(:acme, :lina, '2023-06-25 12:00+08') AS before_hire,
       fieldops.is_working_time(:acme, :lina, '2026-11-29 12:00+08') AS sunday;
SELECT fieldops.is_working_time(:acme, 987654, now());
SELECT fieldops.is_working_time(:acme, :lina, NULL);
SELECT fieldops.is_working_time(:beta, :lina, now());

-- a tenant with daylight saving time: New York, Friday 09:00-18:00 local.
-- The same UTC instant is on duty in summer (EDT, UTC-4) and not in winter (EST, UTC-5).
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
SELECT fieldops.upsert_worker(:beta, 'NY1', 'Pat Doe') AS pat \gset
SELECT fieldops.set_work_schedule(:beta, :pat, '{"fri": ["09:00-18:00"]}') IS NOT NULL AS pat_fridays;
SELECT fieldops.is_working_time(:beta, :pat, '2026-07-10 13:30+00') AS summer_0930_local,
       fieldops.is_working_time(:beta, :pat, '2026-11-27 13:30+00') AS winter_0830_local,
       fieldops.is_working_time(:beta, :pat, '2026-11-27 14:00+00') AS winter_0900_local;
RESET ALL;
