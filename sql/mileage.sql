--
-- mileage: the aggregate, LINESTRING M tracks, the per-fix audit, the
-- clean track, parameters, bad input, and independence from row order.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';

-- a test drive: 10 minutes at 1 Hz, 10 m/s due east from Shanghai, with a
-- parked minute of +-3 m jitter, a (0, 0) fix, an outlier 5 km away, a
-- duplicate, a Wi-Fi fix and a fix with poor accuracy
CREATE TEMP TABLE drive AS
SELECT i AS seq, timestamptz '2026-11-20 08:00+00' + i * interval '1 s' AS recorded_at,
       CASE WHEN i < 60 THEN ST_Project(ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326)::geography,
                                        3.0 * ((i * 37) % 7 - 3) / 3.0, radians((i * 53) % 360))::geometry
            ELSE ST_Project(ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326)::geography,
                            10.0 * (i - 60), radians(90))::geometry END AS geom,
       5::real AS accuracy_m,
       CASE WHEN i < 60 THEN 0.1 ELSE 10 END::real AS speed_mps,
       'gps'::text AS source
  FROM generate_series(0, 659) i;
UPDATE drive SET geom = ST_SetSRID(ST_MakePoint(0, 0), 4326) WHERE seq = 0;
UPDATE drive SET geom = ST_Project(geom::geography, 5000, radians(0))::geometry WHERE seq = 300;
UPDATE drive SET source = 'wifi', accuracy_m = 40 WHERE seq = 400;
UPDATE drive SET accuracy_m = 200 WHERE seq = 500;
INSERT INTO drive SELECT * FROM drive WHERE seq = 200;

SELECT round(distance_m) AS distance_m, round(moving_m) AS moving_m, gap_chord_m, raw_length_m > 10000000 AS raw_has_the_0_0_jump,
       n_fixes, n_used, flags, algo_version, first_at, last_at
  FROM (SELECT (fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source)).* FROM drive) m;
-- every fix has a status, and the raw metres per status add up to the raw length exactly
SELECT key AS status, (value ->> 'count')::int AS fixes
  FROM (SELECT fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source) AS m FROM drive) x,
       jsonb_each((m).drops) ORDER BY 1;
SELECT (SELECT sum((value ->> 'raw_m')::numeric) FROM jsonb_each((m).drops)) = (m).raw_length_m::numeric AS raw_metres_add_up,
       (SELECT sum((value ->> 'count')::int) FROM jsonb_each((m).drops)) = (m).n_fixes AS every_fix_counted
  FROM (SELECT fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source) AS m FROM drive) x;

-- the result does not depend on row order, and duplicated rows change nothing
SELECT (SELECT fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source) FROM drive)
     = (SELECT fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source)
          FROM (SELECT * FROM drive ORDER BY md5(seq::text || 'x')) s) AS shuffled_identical,
       (SELECT (m).distance_m FROM (SELECT fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source) m FROM drive) a)
     = (SELECT (m).distance_m FROM (SELECT fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source) m
                                      FROM (SELECT * FROM drive UNION ALL SELECT * FROM drive) d) b) AS duplicates_identical;

-- per device, grouped
SELECT source, (fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, NULL)).n_fixes
  FROM drive GROUP BY source ORDER BY 1;

-- parameters: defaults, overrides, echo, and bad values
SELECT fieldops.mileage_params() - 'ref_time' AS defaults;
SELECT (fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source, '{"hold_min_m": 20, "hold_max_m": 20}')).params ->> 'hold_min_m' AS echoed
  FROM drive;
SELECT fieldops.mileage_params('{"hold_k": 20}');
SELECT fieldops.mileage_params('{"no_such": 1}');
SELECT fieldops.mileage_params('{"gap_s": "90"}');
SELECT fieldops.mileage_params('{"hold_min_m": 40}');
SELECT fieldops.mileage_params('[1]');
-- far-future fixes are judged against ref_time (default: the transaction start)
SELECT (fieldops.mileage_agg(t, g, 5, 10, 'gps', '{"ref_time": "2026-11-20 08:00+00"}')).drops ? 'future' AS future_dropped
  FROM (VALUES (timestamptz '2026-11-20 09:00+00', ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326))) v(t, g);

-- bad rows: NULL time or geometry count as invalid; wrong SRID, non-points and unknown sources are errors
SELECT (m).n_fixes, (m).drops -> 'invalid' ->> 'count' AS invalid, (m).flags
  FROM (SELECT fieldops.mileage_agg(t, g, NULL, NULL, NULL) m
          FROM (VALUES (NULL::timestamptz, ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326)),
                       (now(), NULL::geometry),
                       (now(), ST_SetSRID(ST_MakePoint('NaN', 31), 4326)),
                       (now(), ST_SetSRID(ST_MakePoint(200, 31), 4326))) v(t, g)) x;
SELECT fieldops.mileage_agg(now(), ST_MakePoint(121.47, 31.23), 5, 1, 'gps');
SELECT fieldops.mileage_agg(now(), ST_SetSRID(ST_MakeLine(ST_MakePoint(1, 1), ST_MakePoint(2, 2)), 4326), 5, 1, 'gps');
SELECT fieldops.mileage_agg(now(), ST_SetSRID(ST_MakePoint(1, 1), 4326), 5, 1, 'glonass');
-- no rows: no data
SELECT (fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source)).flags FROM drive WHERE false;

--
-- LINESTRING M tracks (M = Unix epoch seconds)
--
CREATE TEMP TABLE track AS
SELECT ST_SetSRID(ST_MakeLine(ST_MakePointM(ST_X(geom), ST_Y(geom), extract(epoch FROM recorded_at)) ORDER BY recorded_at), 4326) AS line
  FROM drive WHERE source = 'gps' AND accuracy_m < 100 AND seq NOT IN (0, 300);
SELECT round(distance_m) AS distance_m, n_fixes, flags FROM fieldops.mileage((SELECT line FROM track));
SELECT round((fieldops.mileage(line)).distance_m) = round((fieldops.mileage(ST_Force3DM(ST_Force4D(line)))).distance_m) AS zm_same
  FROM track;
SELECT status, count(*), round(sum(step_m)) AS metres FROM fieldops.mileage_detail((SELECT line FROM track)) GROUP BY 1 ORDER BY 1;
SELECT seq, recorded_at, status, round(step_m::numeric, 3) AS step_m, round(cum_m::numeric, 3) AS cum_m
  FROM fieldops.mileage_detail((SELECT line FROM track)) WHERE seq IN (1, 2, 60, 61, 62, 63) ORDER BY seq;
SELECT max(cum_m) = (SELECT (fieldops.mileage(line)).distance_m FROM track) AS detail_ends_at_distance
  FROM fieldops.mileage_detail((SELECT line FROM track));
-- the aggregate form, from rows in any order: the same statuses and total
SELECT (SELECT count(*) FROM unnest((SELECT fieldops.mileage_detail_agg(recorded_at, geom, accuracy_m, speed_mps, source)
                                       FROM (SELECT * FROM drive ORDER BY md5(recorded_at::text)) x)) u) = (SELECT count(*) FROM drive) AS one_row_per_fix,
       (SELECT u.cum_m FROM unnest((SELECT fieldops.mileage_detail_agg(recorded_at, geom, accuracy_m, speed_mps, source)
                                       FROM (SELECT * FROM drive ORDER BY md5(recorded_at::text)) x)) u ORDER BY u.seq DESC LIMIT 1)
       = (SELECT (fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source)).distance_m FROM drive) AS ends_at_distance;
SELECT ST_GeometryType(c), ST_SRID(c), ST_NPoints(c) < ST_NPoints(line) AS fewer_points, ST_Zmflag(c) = 1 AS has_m
  FROM track, fieldops.clean_track(line) c;
-- bad tracks
SELECT fieldops.mileage(ST_SetSRID(ST_MakePoint(1, 1), 4326));
SELECT fieldops.mileage(ST_MakeLine(ST_MakePointM(1, 1, 1), ST_MakePointM(1, 2, 2)));
SELECT fieldops.mileage(ST_SetSRID(ST_MakeLine(ST_MakePoint(1, 1), ST_MakePoint(1, 2)), 4326));
SELECT fieldops.mileage(ST_SetSRID(ST_MakeLine(ST_MakePointM(1, 1, 10), ST_MakePointM(1, 2, 5)), 4326));
SELECT fieldops.mileage(ST_SetSRID(ST_MakeLine(ST_MakePointM(1, 1, 10), ST_MakePointM(1, 2, 'NaN')), 4326));
SELECT fieldops.mileage(NULL) IS NULL AS null_track, fieldops.clean_track(NULL) IS NULL AS null_clean,
       (SELECT count(*) FROM fieldops.mileage_detail(NULL)) AS null_detail;
