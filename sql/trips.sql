--
-- trips: a worker's stored fixes split into trips, stops and gaps; vehicle
-- rates, the day's vehicle claim built from the trips inside working hours,
-- and its reproduction by an auditor.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SET extra_float_digits = 0;
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;

-- the Friday of last week (always in the past, always a working day of the
-- default schedule), and the Saturday after it
SELECT (date_trunc('week', current_date - 7)::date + 4) AS day,
       (date_trunc('week', current_date - 7)::date + 5) AS saturday \gset

-- a driver with a phone bound since well before that day
SELECT fieldops.upsert_worker(:acme, 'D200', '赵强 Zhao Qiang') AS zhao \gset
SELECT device_id AS zphone FROM fieldops.register_device(:acme, 'trips-device-0001', :zhao, 'android') \gset
RESET ROLE;
UPDATE fieldops.device_binding SET bound_at = bound_at - interval '60 days' WHERE tenant_id = :acme AND device_id = :zphone;
UPDATE fieldops.device SET bound_at = bound_at - interval '60 days' WHERE tenant_id = :acme AND device_id = :zphone;

--
-- The day, in Shanghai time (UTC+8), one fix every 5 s:
--   08:40-09:00  drive 12 km before work (off duty: not stored)
--   09:00-09:20  parked at the office
--   09:20-09:40  drive 12 km east
--   09:40-10:40  at a customer, with Wi-Fi fixes indoors
--   10:40-11:00  drive 12 km north, with an outlier 5 km away and a (0, 0) fix
--   11:00-11:20  phone off while driving 9 km further north
--   11:20-11:30  drive 6 km north
--   11:30-12:00  parked
--
CREATE TEMP TABLE day_plan (n int, t0 time, dur int, kind text, az float8, v float8);
INSERT INTO day_plan VALUES
    (1, '08:40', 1200, 'drive', 90, 10), (2, '09:00', 1200, 'park', 0, 0), (3, '09:20', 1200, 'drive', 90, 10),
    (4, '09:40', 3600, 'park', 0, 0), (5, '10:40', 1200, 'drive', 0, 10), (6, '11:00', 1200, 'off', 0, 7.5),
    (7, '11:20', 600, 'drive', 0, 10), (8, '11:30', 1800, 'park', 0, 0);
CREATE TEMP TABLE day_fixes AS
WITH RECURSIVE start(n, g) AS (
    SELECT 1, 'SRID=4326;POINT(121.40 31.20)'::geography
    UNION ALL
    SELECT s.n + 1, CASE WHEN p.kind = 'park' THEN s.g ELSE ST_Project(s.g, p.v * p.dur, radians(p.az)) END
      FROM start s JOIN day_plan p ON p.n = s.n WHERE s.n < 8)
SELECT ((:'day'::date + p.t0) AT TIME ZONE 'Asia/Shanghai') + make_interval(secs => k) AS recorded_at,
       CASE WHEN p.kind = 'drive' THEN ST_Project(s.g, p.v * k, radians(p.az))
            ELSE ST_Project(s.g, 2 + k % 3, radians(k * 7 % 360)) END::geometry AS geom,
       CASE WHEN p.kind = 'drive' THEN 5 ELSE 8 END AS accuracy_m,
       p.v AS speed_mps, 'gps' AS provider
  FROM day_plan p JOIN start s ON s.n = p.n, generate_series(0, p.dur - 5, 5) k
 WHERE p.kind <> 'off';
-- faults: Wi-Fi fixes at the customer, an outlier and a (0, 0) fix while driving
INSERT INTO day_fixes
SELECT recorded_at + interval '2 s', ST_Translate(geom, 0.0004, 0.0003), 40, NULL, 'wifi'
  FROM day_fixes WHERE recorded_at BETWEEN ((:'day'::date + time '09:50') AT TIME ZONE 'Asia/Shanghai')
                                        AND ((:'day'::date + time '10:00') AT TIME ZONE 'Asia/Shanghai');
INSERT INTO day_fixes
SELECT recorded_at + interval '1 s', ST_Translate(geom, 0.05, 0), 5, 10, 'gps'
  FROM day_fixes WHERE recorded_at = (:'day'::date + time '10:45') AT TIME ZONE 'Asia/Shanghai'
UNION ALL
SELECT recorded_at + interval '3 s', 'SRID=4326;POINT(0 0)'::geometry, 5, 10, 'gps'
  FROM day_fixes WHERE recorded_at = (:'day'::date + time '10:50') AT TIME ZONE 'Asia/Shanghai';
SELECT count(*) AS planned_fixes FROM day_fixes;

-- roles of an application and an analyst allowed to act for Acme
CREATE ROLE trips_app IN ROLE fieldops_app;
CREATE ROLE trips_analyst IN ROLE fieldops_analyst;
SELECT fieldops.grant_tenant_access('trips_app', :acme), fieldops.grant_tenant_access('trips_analyst', :acme);
-- the SQLSTATE of a statement whose message would show today's date
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

SELECT status, count(*)
  FROM fieldops.ingest_fixes(:acme, (SELECT jsonb_agg(jsonb_build_object(
           'device_uid', 'trips-device-0001',
           'recorded_at', to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'lat', ST_Y(geom), 'lon', ST_X(geom), 'accuracy_m', accuracy_m,
           'speed_mps', speed_mps, 'provider', provider) - CASE WHEN speed_mps IS NULL THEN 'speed_mps' ELSE '' END)
         FROM day_fixes))
 GROUP BY status ORDER BY status;

--
-- trips(): bad input
--
SELECT * FROM fieldops.trips(:acme, NULL, '2026-11-01', '2026-11-02');
SELECT * FROM fieldops.trips(:acme, -1, '2026-11-01', '2026-11-02');
SELECT * FROM fieldops.trips(:acme, :zhao, '2026-11-02', '2026-11-01');
SELECT * FROM fieldops.trips(:acme, :zhao, '2026-10-01', '2026-11-02');
SELECT * FROM fieldops.trips(:acme, :zhao, NULL, '2026-11-02');
SELECT * FROM fieldops.trips(:acme, :zhao, '-infinity', '2026-11-02');

-- the day: stop, trip, stop, trip, gap, trip, stop
SELECT seq, kind, to_char(started_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI:SS') AS from_local,
       to_char(ended_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI:SS') AS to_local,
       round(distance_m::numeric / 1000, 1) AS km, (mileage).flags, (mileage).n_fixes
  FROM fieldops.trips(:acme, :zhao, (:'day'::date + time '00:00') AT TIME ZONE 'Asia/Shanghai',
                      (:'day'::date + 1 + time '00:00') AT TIME ZONE 'Asia/Shanghai')
 ORDER BY seq;
-- the segments account for every fix and every metre of the day's mileage
WITH s AS (
    SELECT * FROM fieldops.trips(:acme, :zhao, (:'day'::date + time '00:00') AT TIME ZONE 'Asia/Shanghai',
                                 (:'day'::date + 1 + time '00:00') AT TIME ZONE 'Asia/Shanghai')),
d AS (
    SELECT fieldops.mileage_agg(f.recorded_at, f.geom, f.accuracy_m, f.speed_mps, f.provider) AS m
      FROM fieldops.fix f WHERE f.tenant_id = :acme AND f.worker_id = :zhao)
SELECT (SELECT sum((mileage).n_fixes) FROM s) = (d.m).n_fixes AS fixes_add_up,
       abs((SELECT sum(distance_m) FROM s) - (d.m).distance_m) <= 0.001 * (SELECT count(*) FROM s) AS metres_add_up,
       abs((SELECT sum((mileage).raw_length_m) FROM s) - (d.m).raw_length_m) <= 0.001 * (SELECT count(*) FROM s) AS raw_adds_up,
       (SELECT bool_and(a.ended_at = b.started_at) FROM s a JOIN s b ON b.seq = a.seq + 1) AS contiguous
  FROM d;
-- the drops are where they happened: the outlier and (0, 0) in the second trip, Wi-Fi at the customer
SELECT seq, kind, (mileage).drops - 'hold' - 'moved' - 'stationary' - 'first' AS drops
  FROM fieldops.trips(:acme, :zhao, (:'day'::date + time '00:00') AT TIME ZONE 'Asia/Shanghai',
                      (:'day'::date + 1 + time '00:00') AT TIME ZONE 'Asia/Shanghai')
 WHERE (mileage).drops - 'hold' - 'moved' - 'stationary' - 'first' <> '{}'
 ORDER BY seq;
-- fix by fix: what the filter did with each and why; the running total
-- ends at the day's distance and the statuses are the drops
SELECT status, reason, count(*) AS fixes, round(sum(step_m)::numeric / 1000, 1) AS km
  FROM fieldops.mileage_detail(:acme, :zhao, (:'day'::date + time '00:00') AT TIME ZONE 'Asia/Shanghai',
                               (:'day'::date + 1 + time '00:00') AT TIME ZONE 'Asia/Shanghai')
 GROUP BY 1, 2 ORDER BY 1;
WITH d AS (
    SELECT * FROM fieldops.mileage_detail(:acme, :zhao, (:'day'::date + time '00:00') AT TIME ZONE 'Asia/Shanghai',
                                          (:'day'::date + 1 + time '00:00') AT TIME ZONE 'Asia/Shanghai')),
m AS (
    SELECT fieldops.mileage_agg(f.recorded_at, f.geom, f.accuracy_m, f.speed_mps, f.provider) AS m
      FROM fieldops.fix f WHERE f.tenant_id = :acme AND f.worker_id = :zhao)
SELECT (SELECT cum_m FROM d ORDER BY seq DESC LIMIT 1) = (m.m).distance_m AS ends_at_distance,
       (SELECT bool_and(a.recorded_at <= b.recorded_at AND b.cum_m >= a.cum_m) FROM d a JOIN d b ON b.seq = a.seq + 1) AS in_time_order,
       (SELECT jsonb_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM d GROUP BY 1) x)
       = (SELECT jsonb_object_agg(key, (value ->> 'count')::bigint) FROM jsonb_each((m.m).drops)) AS statuses_are_the_drops
  FROM m;
SELECT * FROM fieldops.mileage_detail(:acme, :zhao, '2026-11-02', '2026-11-01');

-- tenant settings change the split: with 15 km minimum trips, the short
-- drives are part of stops
RESET ROLE;
SELECT (fieldops.alter_tenant(:acme, p_settings => '{"trip_min_distance_m": 15000}')).settings ->> 'trip_min_distance_m' AS min_trip;
SET ROLE trips_app;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT string_agg(kind, ',' ORDER BY seq) AS kinds
  FROM fieldops.trips(:acme, :zhao, (:'day'::date + time '00:00') AT TIME ZONE 'Asia/Shanghai',
                      (:'day'::date + 1 + time '00:00') AT TIME ZONE 'Asia/Shanghai');
RESET ROLE;
SELECT (fieldops.alter_tenant(:acme, p_settings => '{"trip_min_distance_m": null}')).settings ? 'trip_min_distance_m' AS still_set;
-- the C defaults are the settings' defaults
SELECT fieldops.trip_params() - 'stay_speed_mps'
       = (SELECT jsonb_build_object('min_trip_m', (SELECT default_value FROM fieldops.setting_def WHERE key = 'trip_min_distance_m'),
                                    'min_trip_s', (SELECT default_value FROM fieldops.setting_def WHERE key = 'trip_min_duration_s'),
                                    'min_stop_s', (SELECT default_value FROM fieldops.setting_def WHERE key = 'stop_min_duration_s'),
                                    'stop_radius_m', (SELECT default_value FROM fieldops.setting_def WHERE key = 'stop_radius_m'),
                                    'long_gap_s', (SELECT default_value FROM fieldops.setting_def WHERE key = 'trip_long_gap_s')))
       AS defaults_agree;
SELECT fieldops.trip_params('{"stop_radius_m": 0}');
SELECT fieldops.trip_params('{"min_stop": 60}');
SELECT fieldops.trip_params('{"min_stop_s": "60"}');

--
-- Vehicles and rates, as the application
--
SET ROLE trips_app;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT fieldops.set_vehicle_rate(:acme, 'Car', :'day', 0.8);
SELECT fieldops.set_vehicle_rate(:acme, 'car', NULL, 0.8);
SELECT fieldops.set_vehicle_rate(:acme, 'car', :'day', -1);
SELECT fieldops.set_vehicle_rate(:acme, 'car', :'day', 0.12345);
SELECT fieldops.set_vehicle_rate(:acme, 'car', :'day', 0.8, 'rmb');
SELECT fieldops.set_worker_vehicle(:acme, :zhao, :'day', 'Car');
SELECT fieldops.set_worker_vehicle(:acme, -1, :'day', 'car');
SELECT fieldops.set_worker_vehicle(:acme, :zhao, :'day', NULL, '沪A12345');

-- no vehicle yet, then no rate yet: 55000, and nothing is written
SELECT fieldops.vehicle_claim(:acme, :zhao, '2026-01-02');
SELECT fieldops.set_worker_vehicle(:acme, :zhao, '2025-12-01', 'car', '沪A12345');
SELECT fieldops.vehicle_claim(:acme, :zhao, '2026-01-02');
SELECT count(*) AS claims FROM fieldops.vehicle_claim;
-- an old rate, and the one in effect on the day; a later one does not apply
SELECT fieldops.set_vehicle_rate(:acme, 'car', :'day'::date - 100, 0.6) AS old_rate \gset
SELECT fieldops.set_vehicle_rate(:acme, 'car', :'day'::date - 10, 0.8) AS rate \gset
SELECT fieldops.set_vehicle_rate(:acme, 'car', :'day'::date + 1, 1.0) AS new_rate \gset
SELECT fieldops.set_vehicle_rate(:acme, 'car', :'day'::date - 10, 0.8) = :rate AS same_call_same_rate;

-- bad claims
SELECT fieldops.vehicle_claim(:acme, :zhao, NULL);
SELECT pg_temp.sqlstate_of(format('SELECT fieldops.vehicle_claim(%s, %s, current_date + 2)', :acme, :zhao)) AS future_day;
SELECT fieldops.vehicle_claim(:acme, :zhao, :'day', -5);
SELECT fieldops.vehicle_claim(:acme, :zhao, :'day', 6000);
SELECT fieldops.vehicle_claim(:acme, -1, :'day');

-- the claim: trips inside 09:00-18:00 only (the drive before work is not
-- even stored), gap chord counted and flagged, stated 45 km > 39 km + tolerance
SELECT claim_id AS claim, revision, vehicle_type, plate, rate_id = :rate AS rate_in_effect, rate_per_km, currency,
       measured_km, trip_km, gap_km, claimed_km, difference_km, tolerance_km, payable_km, amount, flags
  FROM fieldops.vehicle_claim(:acme, :zhao, :'day', 45) \gset
SELECT revision, vehicle_type, plate, rate_per_km, currency, round(measured_km) AS measured_km, round(trip_km) AS trip_km,
       round(gap_km) AS gap_km, claimed_km, tolerance_km > 3 AS tolerance_10pct, payable_km = measured_km AS pays_measured,
       amount = round(measured_km * 0.8, 2) AS amount_ok, flags
  FROM fieldops.vehicle_claim WHERE claim_id = :claim;
-- its evidence: the working range, the fixes' digest, the trips it counted
SELECT jsonb_array_length(evidence -> 'windows') AS ranges,
       (evidence -> 'windows' -> 0 ->> 'fixes')::int > 1000 AS fixes_counted,
       length(evidence -> 'windows' -> 0 ->> 'fix_digest') AS digest_len,
       evidence ->> 'algo_version' AS algo, evidence -> 'trip_params' AS trip_params,
       jsonb_array_length(evidence -> 'trip_ids') AS counted_segments
  FROM fieldops.vehicle_claim WHERE claim_id = :claim;
SELECT range_no, seq, kind, counted, round(distance_m::numeric / 1000, 1) AS km
  FROM fieldops.trip WHERE claim_id = :claim ORDER BY range_no, seq;
SELECT (SELECT jsonb_agg(trip_id ORDER BY trip_id) FROM fieldops.trip WHERE claim_id = :claim AND counted)
       = (SELECT evidence -> 'trip_ids' FROM fieldops.vehicle_claim WHERE claim_id = :claim) AS evidence_lists_counted_trips,
       (SELECT round(sum(distance_m)::numeric / 1000, 3) FROM fieldops.trip WHERE claim_id = :claim AND counted)
       = (SELECT measured_km FROM fieldops.vehicle_claim WHERE claim_id = :claim) AS measured_is_their_sum;

-- rebuilt with a lower stated figure: one claim, revision 2, payable is the
-- stated figure, the trips replaced (not duplicated)
SELECT revision, claimed_km, payable_km, amount, flags
  FROM fieldops.vehicle_claim(:acme, :zhao, :'day', 20);
SELECT count(*) AS claims, (SELECT count(*) FROM fieldops.trip WHERE claim_id = :claim) AS segments
  FROM fieldops.vehicle_claim WHERE worker_id = :zhao;
-- within the tolerance: no flag about the stated figure
SELECT flags FROM fieldops.vehicle_claim(:acme, :zhao, :'day', (SELECT measured_km + 1 FROM fieldops.vehicle_claim WHERE claim_id = :claim));
-- the rate used by a claim cannot change any more
SELECT pg_temp.sqlstate_of(format('SELECT fieldops.set_vehicle_rate(%s, %L, %L::date - 10, 0.9)', :acme, 'car', :'day')) AS change_used_rate;
SELECT fieldops.set_vehicle_rate(:acme, 'car', :'day'::date + 1, 1.1) = :new_rate AS unused_rate_can_change;

-- a Saturday is not a working day: an empty claim, flagged
SELECT measured_km, payable_km, amount, flags FROM fieldops.vehicle_claim(:acme, :zhao, :'saturday', 12);

-- an auditor reproduces the claim from the stored fixes and its evidence
SELECT reproduced, fixes_unchanged, stored_km = recomputed_km AS same_km, details -> 'changed_ranges' AS changed
  FROM fieldops.verify_vehicle_claim(:acme, :claim);
-- a fix arriving later inside the working hours is noticed
SELECT status FROM fieldops.ingest_fixes(:acme, jsonb_build_array(jsonb_build_object(
    'device_uid', 'trips-device-0001',
    'recorded_at', to_char(((:'day'::date + time '15:00') AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'lat', 31.3, 'lon', 121.5, 'accuracy_m', 30, 'provider', 'cell')));
SELECT reproduced, fixes_unchanged, details -> 'changed_ranges' -> 0 ->> 'fixes_now' IS NOT NULL AS names_the_range
  FROM fieldops.verify_vehicle_claim(:acme, :claim);
SELECT fieldops.verify_vehicle_claim(:acme, -1);

-- events for the finance system
SELECT topic, payload ->> 'revision' AS revision, payload -> 'flags' AS flags
  FROM fieldops.outbox WHERE aggregate_type = 'vehicle_claim' AND aggregate_id = :claim ORDER BY event_id;

-- privileges: analysts read and verify, they do not build claims or set rates
SET ROLE trips_analyst;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT count(*) > 0 AS analyst_sees_claims FROM fieldops.vehicle_claim;
SELECT reproduced FROM fieldops.verify_vehicle_claim(:acme, :claim);
SELECT fieldops.vehicle_claim(:acme, :zhao, :'day');
SELECT fieldops.set_vehicle_rate(:acme, 'car', current_date, 2);
-- applications go through the API: no direct writes
SET ROLE trips_app;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
UPDATE fieldops.vehicle_claim SET amount = 0 WHERE claim_id = :claim;
DELETE FROM fieldops.trip WHERE claim_id = :claim;
INSERT INTO fieldops.vehicle_rate (tenant_id, vehicle_type, valid_from, rate_per_km, currency) VALUES (:acme, 'car', current_date, 9, 'CNY');
RESET ROLE;
SELECT fieldops.revoke_tenant_access('trips_app', :acme), fieldops.revoke_tenant_access('trips_analyst', :acme);
DROP ROLE trips_app;
DROP ROLE trips_analyst;
