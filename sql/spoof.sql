--
-- spoof: the deterministic spoof scorecard of a location fix
-- (fieldops.spoof_score()), the built-in model and its versions, and the
-- bad-input catalogue of the scoring function.  Inputs are fixed, so the
-- scores and reasons are exact (a golden test of the reasons JSON).
--
\set SHOW_CONTEXT never
SET extra_float_digits = 0;
CREATE SCHEMA spoof_test;
GRANT USAGE ON SCHEMA spoof_test TO PUBLIC;
-- a walk east at 1.2 m/s, one GNSS fix every 10 s, accuracy varying as real receivers do
CREATE FUNCTION spoof_test.walk(p_n integer, p_end_ms bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_agg(jsonb_build_object('t_ms', p_end_ms - 10000 * k, 'received_ms', p_end_ms - 10000 * k + 800,
                                        'lat', 31.2304 + 0.0000013 * k, 'lon', 121.4737 - 0.0000126 * k,
                                        'accuracy_m', 6.5 + (k * 37 % 11) / 3.0, 'speed_mps', 1.1 + (k % 3) / 10.0,
                                        'bearing_deg', 84 + k % 5, 'altitude_m', 11.0 + (k % 4) / 2.0, 'provider', 'gps')
                     ORDER BY k)
      FROM generate_series(p_n, 1, -1) AS k
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA spoof_test TO PUBLIC;
\set t 1794189600000
\set fix '{"t_ms": 1794189600000, "received_ms": 1794189600900, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 7.9, "provider": "gps", "mock": false, "speed_mps": 1.2, "bearing_deg": 86, "altitude_m": 12.5, "satellites": 14, "cn0_mean_dbhz": 31.5, "cn0_sd_dbhz": 5.1, "integrity": 3}'

--
-- 1. Scores of fixed cases (score, band, coverage, the reason codes)
--
CREATE TABLE spoof_test.cases (n int, label text, fix jsonb, prev jsonb, radio jsonb, history jsonb, model jsonb);
INSERT INTO spoof_test.cases VALUES
    (1, 'an honest walk', :'fix', spoof_test.walk(6, :t), NULL, NULL, NULL),
    (2, 'the OS says mock', :'fix'::jsonb || '{"mock": true}', spoof_test.walk(6, :t), NULL, NULL, NULL),
    (3, 'mock set by an allowlisted RTK receiver', :'fix'::jsonb || '{"mock": true, "external_receiver": true}', spoof_test.walk(6, :t), NULL, NULL, NULL),
    (4, 'integrity verdict failed', :'fix'::jsonb || '{"integrity": 0}', spoof_test.walk(6, :t), NULL, NULL, NULL),
    (5, 'teleport: 3 km north 5 s ago, back now', :'fix',
        spoof_test.walk(6, :t - 5000) || jsonb_build_array(jsonb_build_object('t_ms', :t - 5000, 'lat', 31.2574, 'lon', 121.4737,
                                                                              'accuracy_m', 8, 'provider', 'gps')), NULL, NULL, NULL),
    (6, 'frozen: the same coordinates for a minute', :'fix'::jsonb || '{"speed_mps": 0}',
        (SELECT jsonb_agg(jsonb_build_object('t_ms', :t - 10000 * k, 'lat', 31.2304, 'lon', 121.4737, 'accuracy_m', 7.9,
                                             'provider', 'gps', 'speed_mps', 0)) FROM generate_series(6, 1, -1) k), NULL, NULL, NULL),
    (7, 'hard-coded fields: accuracy 5, altitude 0, bearing 0', :'fix'::jsonb || '{"accuracy_m": 5, "altitude_m": 0, "bearing_deg": 0}',
        (SELECT jsonb_agg(x || '{"accuracy_m": 5, "altitude_m": 0, "bearing_deg": 0}') FROM jsonb_array_elements(spoof_test.walk(6, :t)) x),
        NULL, NULL, NULL),
    (8, 'GNSS with no satellites and 0.5 m accuracy', :'fix'::jsonb || '{"satellites": 0, "accuracy_m": 0.5}', spoof_test.walk(6, :t), NULL, NULL, NULL),
    (9, 'uniform C/N0 over 12 satellites', :'fix'::jsonb || '{"satellites": 12, "cn0_sd_dbhz": 0.2}', spoof_test.walk(6, :t), NULL, NULL, NULL),
    (10, 'the device clock an hour ahead', :'fix'::jsonb || jsonb_build_object('received_ms', :t - 3600000), NULL, NULL, NULL, NULL),
    (11, 'Wi-Fi APs learned 5 km away, no site AP seen', :'fix', spoof_test.walk(6, :t),
        '{"aps": [{"known": true, "distance_m": 5200, "spread_m": 30}, {"known": true, "distance_m": 4900, "spread_m": 45}, {"known": false}],
          "site_overlap": 0, "site_stable_count": 6}', NULL, NULL),
    (12, 'an exact replay of an earlier Wi-Fi scan', :'fix', spoof_test.walk(6, :t), '{"aps": [{"known": true, "distance_m": 20, "spread_m": 30}], "scan_replay": true}', NULL, NULL),
    (13, 'serving cell 40 km from its centroid, foreign MCC', :'fix', spoof_test.walk(6, :t),
        '{"has_cell": true, "cell_known": true, "cell_distance_m": 40000, "cell_radius_m": 2000, "mcc_foreign": true}', NULL, NULL),
    (14, 'on the customer''s pin, a phone of 3 workers today', :'fix', spoof_test.walk(6, :t), NULL,
        '{"at_customer_pin": true, "workers_on_device_today": 3, "same_coords_earlier_day": true}', NULL),
    (15, 'the OS says mock, in a model that ignores it', :'fix'::jsonb || '{"mock": true}', spoof_test.walk(6, :t), NULL, NULL,
        '{"version": "no-mock", "weights": {"os_mock": 0}}'),
    (16, 'a network fix, nothing else known', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 60, "provider": "network"}',
        NULL, NULL, NULL, NULL);
SELECT c.n, c.label, s.score, s.band, s.coverage, s.hard_reject,
       (SELECT string_agg(r ->> 'code', ',') FROM jsonb_array_elements(s.reasons) r) AS reasons
  FROM spoof_test.cases c, fieldops.spoof_score(c.fix, c.prev, c.radio, c.history, c.model) s
 ORDER BY c.n;

-- the golden reasons: exactly this JSON, every run, every machine
SELECT c.n, s.reasons::text AS reasons_json, s.model_version
  FROM spoof_test.cases c, fieldops.spoof_score(c.fix, c.prev, c.radio, c.history, c.model) s
 WHERE c.n IN (2, 5, 11, 14) ORDER BY c.n;
-- order of the previous fixes does not matter; nor does the number beyond 16
SELECT (SELECT s FROM fieldops.spoof_score(c.fix, c.prev) s)
       = (SELECT s FROM fieldops.spoof_score(c.fix, (SELECT jsonb_agg(x ORDER BY x ->> 'lat' DESC) FROM jsonb_array_elements(c.prev) x)) s)
       AS order_free,
       (SELECT s FROM fieldops.spoof_score(c.fix, spoof_test.walk(16, :t)) s)
       = (SELECT s FROM fieldops.spoof_score(c.fix, spoof_test.walk(40, :t)) s) AS latest_16
  FROM spoof_test.cases c WHERE c.n = 5;

--
-- 2. The model: built-in defaults, versions that are only ever added
--
SELECT version, created_by, model = fieldops.spoof_model_defaults() AS is_builtin,
       model ->> 'amber_score' AS amber, model ->> 'red_score' AS red
  FROM fieldops.spoof_model ORDER BY created_at, version;
SELECT jsonb_object_keys(fieldops.spoof_model_defaults() -> 'weights') AS signal ORDER BY 1;
SELECT fieldops.add_spoof_model('city-2027-01', '{"weights": {"os_mock": 25}, "red_score": 85}', 'calibrated on the city generator');
SELECT version, model -> 'weights' ->> 'os_mock' AS os_mock, model ->> 'red_score' AS red, note FROM fieldops.spoof_model
 WHERE version = 'city-2027-01';
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    ($$SELECT fieldops.add_spoof_model('city-2027-01', '{}')$$),
    ($$SELECT fieldops.add_spoof_model('bad version!', '{}')$$),
    ($$SELECT fieldops.add_spoof_model('v2', '[]')$$),
    ($$SELECT fieldops.add_spoof_model('v2', '{"weights": {"gps_jammer": 10}}')$$),
    ($$SELECT fieldops.add_spoof_model('v2', '{"amber_score": 90, "red_score": 50}')$$),
    ($$SELECT fieldops.add_spoof_model('v2', '{"max_speed": 70}')$$)
  ) AS t(q);

--
-- 3. Bad input
--
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    ($$SELECT fieldops.spoof_score(NULL)$$),
    ($$SELECT fieldops.spoof_score('[]')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 91, "lon": 0}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4, "latitude": 31.2}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": "31.2", "lon": 121.4}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4, "provider": "GPS"}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4, "mock": "yes"}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4, "satellites": 7.5}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4, "t_ms": 1e300}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', '{}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', '[1]')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', '[{"lat": 31.2, "lon": 121.4, "speed": 1}]')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', NULL, '{"aps": {}}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', NULL, '{"aps": [{"known": 1}]}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', NULL, '{"wifi": []}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', NULL, NULL, '{"pin": true}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', NULL, NULL, NULL, '{"weights": [1]}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', NULL, NULL, NULL, '{"hard": ["nothing"]}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', NULL, NULL, NULL, '{"version": ""}')$$),
    ($$SELECT fieldops.spoof_score('{"lat": 31.2, "lon": 121.4}', NULL, NULL, NULL, '{"red_score": 101}')$$)
  ) AS t(q);

--
-- 4. Scoring at ingest: every stored fix gets its score against the
-- device's earlier fixes; a red one raises an alert and an event
--
SELECT fieldops.create_tenant('Spoof Test Co', 'UTC', '{"store_off_duty_fixes": true}') AS st \gset
SELECT fieldops.set_tenant(:st, false) IS NOT NULL AS st_chosen;
SELECT fieldops.upsert_worker(:st, 'S1', 'Spoof Tester') AS s1 \gset
SELECT device_id AS sd FROM fieldops.register_device(:st, 'spoof-phone-1', :s1, 'android') \gset
-- the model in force is the latest version added: one that takes the OS mock flag seriously
SELECT fieldops.add_spoof_model('strict-mock', '{"weights": {"os_mock": 90}}');
-- three fixes a few seconds from now, walking; the last one with the OS mock flag
SELECT f.idx, f.status, f.score, f.band, jsonb_path_query_array(f.reasons, '$[*].code') AS codes
  FROM fieldops.ingest_fixes(:st, (
         SELECT jsonb_agg(jsonb_build_object('device_uid', 'spoof-phone-1',
                    'recorded_at', to_char((now() + make_interval(secs => 10 * k)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                    'lat', 31.2304 + 0.00001 * k, 'lon', 121.4737, 'accuracy_m', 6 + k, 'speed_mps', 1.1,
                    'provider', 'gps', 'mock', k = 3) ORDER BY k)
           FROM generate_series(1, 3) k)) f
 ORDER BY f.idx;
SELECT a.score, jsonb_path_query_array(a.reasons, '$[*].code') AS codes, a.model_version, a.acked_at IS NULL AS open
  FROM fieldops.fix_alerts(:st) a;
SELECT alert_id AS alert FROM fieldops.fix_alerts(:st) \gset
SELECT topic, payload ->> 'score' AS score, payload -> 'codes' AS codes FROM fieldops.outbox
 WHERE tenant_id = :st AND topic = 'fix.alert';
SELECT fieldops.ack_fix_alert(:st, :alert, 'called the rep: developer options were on');
SELECT fieldops.ack_fix_alert(:st, :alert);
SELECT count(*) AS open_alerts FROM fieldops.fix_alerts(:st);
SELECT count(*) AS all_alerts, bool_and(acked_by IS NOT NULL) AS acked, max(ack_note) AS note
  FROM fieldops.fix_alerts(:st, p_open_only => false);
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    (format('SELECT fieldops.ack_fix_alert(%s, 999999)', :st)),
    (format('SELECT fieldops.ack_fix_alert(%s, NULL)', :st)),
    (format('SELECT count(*) FROM fieldops.fix_alerts(%s, true, 0)', :st))
  ) AS t(q);

--
-- 5. Privileges: applications score, only administrators add models
--
CREATE ROLE spoof_app IN ROLE fieldops_app;
SET ROLE spoof_app;
SELECT band FROM fieldops.spoof_score(:'fix');
SELECT count(*) > 0 AS models_visible FROM fieldops.spoof_model;
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    ($$SELECT fieldops.add_spoof_model('app-model', '{}')$$),
    ($$UPDATE fieldops.spoof_model SET note = 'changed'$$),
    ($$DELETE FROM fieldops.spoof_model$$)
  ) AS t(q);
RESET ROLE;
DROP ROLE spoof_app;
