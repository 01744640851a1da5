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

-- a fixed point is frozen whatever its label, as long as each fix is a
-- fresh solution (GNSS-grade accuracy, or a changed accuracy); a cached
-- network answer repeats whole and is not; nor does an RTK receiver count
SELECT x.label, (SELECT string_agg(r ->> 'code', ',') FROM jsonb_array_elements(s.reasons) r) AS reasons
  FROM (VALUES
    ('iPhone mock: fused, same point, accuracy 10.2 then 4.5', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 4.5, "provider": "fused"}'::jsonb,
     '[{"t_ms": 1794189300000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 10.2, "provider": "fused"}]'::jsonb),
    ('fused at 5 m, the same point twice', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 5, "provider": "fused"}',
     '[{"t_ms": 1794189300000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 5, "provider": "fused"}]'),
    ('cached network answer, repeated whole', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 27.4, "provider": "network"}',
     '[{"t_ms": 1794189540000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 27.4, "provider": "network"}]'),
    ('RTK receiver, centimetre-precise', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 0.014, "provider": "gps", "external_receiver": true}',
     '[{"t_ms": 1794189540000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 0.014, "provider": "gps"}]')
  ) AS x(label, fix, prev), fieldops.spoof_score(x.fix, x.prev) s;
-- an earlier day's exact coordinates: a GNSS fix or a network fix computed
-- from 3+ access points counts; a lookup without a scan does not; the site
-- overlap needs that no heard access point is known near the fix
SELECT x.label, (SELECT string_agg(r ->> 'code', ',') FROM jsonb_array_elements(s.reasons) r) AS reasons
  FROM (VALUES
    ('network fix from 3 APs, seen on an earlier day', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 47.8, "provider": "network"}'::jsonb,
     '{"aps": [{"known": false}, {"known": false}, {"known": false}]}'::jsonb, '{"same_coords_earlier_day": true}'::jsonb),
    ('network fix without a scan, seen on an earlier day', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 47.8, "provider": "network"}',
     NULL, '{"same_coords_earlier_day": true}'),
    ('none of the site''s APs, none known near', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 9, "provider": "gps"}',
     '{"aps": [{"known": false}, {"known": false}], "site_overlap": 0, "site_stable_count": 4}', NULL),
    ('none of the site''s APs, one known 40 m away', '{"t_ms": 1794189600000, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 9, "provider": "gps"}',
     '{"aps": [{"known": false}, {"known": true, "distance_m": 40, "spread_m": 12}], "site_overlap": 0, "site_stable_count": 4}', NULL)
  ) AS x(label, fix, radio, hist), fieldops.spoof_score(x.fix, NULL, x.radio, x.hist) s;

--
-- 2. The model: built-in defaults, versions that are only ever added
--
SELECT version, created_by, model = fieldops.spoof_model_defaults() AS is_builtin,
       model ->> 'amber_score' AS amber, model ->> 'red_score' AS red
  FROM fieldops.spoof_model ORDER BY created_at, version;
-- the model in force (the latest added): the calibrated one this release ships
SELECT version FROM fieldops.spoof_model ORDER BY created_at DESC, version DESC LIMIT 1;
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
-- (working round the clock: the fixes below are taken "now", whenever the suite runs)
SELECT fieldops.create_tenant('Spoof Test Co', 'UTC', '{"store_off_duty_fixes": true, "work_schedule": {"mon": ["00:00-24:00"],
    "tue": ["00:00-24:00"], "wed": ["00:00-24:00"], "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"],
    "sun": ["00:00-24:00"]}}') AS st \gset
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
-- 4b. The context ingest gathers: the radio map learned from trusted fixes,
-- replay fingerprints, the customer's pin, device bindings, offline queues
-- and the phone's clock
--
SELECT fieldops.upsert_worker(:st, 'R1', 'Radio Learner') AS r1 \gset
SELECT fieldops.upsert_worker(:st, 'R2', 'Radio Tester') AS r2 \gset
SELECT device_id AS rd1 FROM fieldops.register_device(:st, 'radio-phone-1', :r1, 'android') \gset
SELECT device_id AS rd2 FROM fieldops.register_device(:st, 'radio-phone-2', :r2, 'android') \gset
UPDATE fieldops.device_binding SET bound_at = now() - interval '30 days' WHERE tenant_id = :st AND device_id IN (:rd1, :rd2);
SELECT fieldops.upsert_customer(:st, 'SITE-S', 'Shop S', ST_SetSRID(ST_MakePoint(121.4737, 31.2304), 4326)) AS site \gset
-- the site's radio: four access points, a phone hotspot (locally
-- administered MAC) and a cell per day
CREATE FUNCTION spoof_test.scan(p_rssi int[]) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_array(
        jsonb_build_object('bssid', '00:11:22:33:44:01', 'rssi_dbm', p_rssi[1]),
        jsonb_build_object('bssid', '00:11:22:33:44:02', 'rssi_dbm', p_rssi[2]),
        jsonb_build_object('bssid', '00:11:22:33:44:03', 'rssi_dbm', p_rssi[3]),
        jsonb_build_object('bssid', '00:11:22:33:44:04', 'rssi_dbm', p_rssi[4]),
        jsonb_build_object('bssid', '02:aa:bb:cc:dd:ee', 'rssi_dbm', -40))
$$;
-- three days of a trusted phone at the site (GNSS, 5 m), eight fixes a day
SELECT count(*) FILTER (WHERE f.band = 'green') AS green, count(*) AS fixes
  FROM generate_series(1, 3) d, LATERAL fieldops.ingest_fixes(:st, (
         SELECT jsonb_agg(jsonb_build_object('device_uid', 'radio-phone-1',
                    'recorded_at', to_char((date_trunc('day', now()) - make_interval(days => d) + make_interval(hours => 10, mins => 5 * k)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    'lat', 31.2304 + 0.00003 * ((k * 7 + d) % 5 - 2.5), 'lon', 121.4737 + 0.00003 * ((k * 3 + d) % 5 - 2.5),
                    'accuracy_m', 5 + 0.1 * k, 'altitude_m', 12 + 0.3 * k, 'provider', 'gps',
                    'wifi', spoof_test.scan(ARRAY[-50 - k - d, -60 - k, -66 - d, -71 + k]),
                    'cells', jsonb_build_array(jsonb_build_object('mcc', 460, 'mnc', 0, 'lac', 6209, 'cid', 1000 + d, 'serving', true)))
                ORDER BY k)
           FROM generate_series(1, 8) k)) f;
SELECT r ->> 'fixes' AS fixes, r ->> 'aps' AS aps, r ->> 'cells' AS cells FROM fieldops.refresh_radio_map(:st, now()) r;
-- learned: the four fixed access points, near the site, tight, seen on 3 days; not the hotspot
SELECT bssid, n_obs, n_days, round(ST_DistanceSphere(geom, ST_SetSRID(ST_MakePoint(121.4737, 31.2304), 4326))) < 10 AS at_site,
       spread_m < 10 AS tight, mobile
  FROM fieldops.radio_ap WHERE tenant_id = :st ORDER BY bssid;
SELECT cid, n_obs, radius_m FROM fieldops.radio_cell WHERE tenant_id = :st ORDER BY cid;
-- a second refresh learns nothing twice
SELECT r ->> 'fixes' AS fixes FROM fieldops.refresh_radio_map(:st, now()) r;
SELECT sum(n_obs) AS ap_observations FROM fieldops.radio_ap WHERE tenant_id = :st;

-- the tester's phone: one fix for each situation, in a fixed order (k), one minute apart
CREATE TABLE spoof_test.ctx (k int, label text, elem jsonb, opts jsonb);
INSERT INTO spoof_test.ctx VALUES
  -- 5 km east of the site, but hearing the site's access points and cell
  (1, 'far from its radio',  '{"lat": 31.2304, "lon": 121.5262, "accuracy_m": 8.4, "provider": "gps",
       "wifi": [{"bssid": "00:11:22:33:44:01", "rssi_dbm": -58}, {"bssid": "00:11:22:33:44:02", "rssi_dbm": -69}, {"bssid": "00:11:22:33:44:03", "rssi_dbm": -73}],
       "cells": [{"mcc": 460, "mnc": 0, "lac": 6209, "cid": 1001, "serving": true}]}', NULL),
  -- at the site, checking in for it, on the pin to the last decimal
  (2, 'on the pin',          '{"lat": 31.2304, "lon": 121.4737, "accuracy_m": 5.0, "provider": "gps"}', NULL),
  -- at the site, but hearing none of its stable access points
  (3, 'no site overlap',     '{"lat": 31.23043, "lon": 121.47371, "accuracy_m": 6.2, "provider": "gps",
       "wifi": [{"bssid": "00:99:88:77:66:01", "rssi_dbm": -61}, {"bssid": "00:99:88:77:66:02", "rssi_dbm": -70}, {"bssid": "00:99:88:77:66:03", "rssi_dbm": -77}]}', NULL),
  -- a cell of another country where the map knows only Chinese cells
  (4, 'foreign MCC',         '{"lat": 31.23045, "lon": 121.47368, "accuracy_m": 7.1, "provider": "gps",
       "cells": [{"mcc": 234, "mnc": 15, "lac": 120, "cid": 99887, "serving": true}]}', NULL),
  -- the learner's first scan of yesterday, replayed exactly on another phone
  (5, 'replayed scan',       '{"lat": 31.23041, "lon": 121.47372, "accuracy_m": 5.9, "provider": "gps"}', NULL),
  -- GNSS coordinates identical to one of the learner's fixes of an earlier day
  (6, 'coordinates of an earlier day', '{"provider": "gps", "accuracy_m": 4.4}', NULL),
  -- a batch sent with the phone's clock an hour behind (the previous said 0)
  (7, 'clock moved',         '{"lat": 31.23046, "lon": 121.47369, "accuracy_m": 6.6, "provider": "gps"}', '{"sent_at": "clock-1h"}');
-- (5 and 6 take their data from the learner's stored fixes)
UPDATE spoof_test.ctx c SET elem = c.elem || jsonb_build_object('wifi', f.wifi)
  FROM fieldops.fix f WHERE c.k = 5 AND f.tenant_id = :st AND f.device_id = :rd1
   AND f.recorded_at = date_trunc('day', now()) - interval '1 day' + interval '10 hours 5 minutes';
UPDATE spoof_test.ctx c SET elem = c.elem || jsonb_build_object('lat', ST_Y(f.geom), 'lon', ST_X(f.geom))
  FROM fieldops.fix f WHERE c.k = 6 AND f.tenant_id = :st AND f.device_id = :rd1
   AND f.recorded_at = date_trunc('day', now()) - interval '2 days' + interval '10 hours 20 minutes';
UPDATE spoof_test.ctx SET elem = elem || jsonb_build_object('customer_id', :site) WHERE k IN (2, 3);
-- the first upload states the phone's clock (no offset)
SELECT status FROM fieldops.ingest_fixes(:st, jsonb_build_array(jsonb_build_object('device_uid', 'radio-phone-2',
         'recorded_at', to_char((now() - interval '20 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'lat', 31.2304, 'lon', 121.4739, 'accuracy_m', 6.5, 'provider', 'gps')),
       jsonb_build_object('sent_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')));
SELECT c.k, c.label, f.status, f.band, jsonb_path_query_array(f.reasons, '$[*].code') AS codes
  FROM spoof_test.ctx c,
       LATERAL fieldops.ingest_fixes(:st, jsonb_build_array(c.elem || jsonb_build_object('device_uid', 'radio-phone-2',
                   -- (1 two hours before the others: from 5 km away, they are no teleport)
                   'recorded_at', to_char((now() - make_interval(mins => CASE WHEN c.k = 1 THEN 120 ELSE 15 - c.k END)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
                   CASE WHEN c.opts IS NULL THEN '{}'
                        ELSE jsonb_build_object('sent_at', to_char((now() - interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) END) f
 ORDER BY c.k;
-- the numbers behind two of them
SELECT r FROM fieldops.fix f, jsonb_array_elements(f.reasons) r
 WHERE f.tenant_id = :st AND f.device_id = :rd2 AND r ->> 'code' IN ('wifi_far', 'wifi_no_site_overlap', 'clock_skew_jump')
 ORDER BY f.recorded_at, r ->> 'code';
SELECT clock_skew_ms BETWEEN 3590000 AND 3610000 AS skew_an_hour FROM fieldops.device WHERE tenant_id = :st AND device_id = :rd2;

-- an offline queue: only the newest fix of an upload claims to be current
SELECT f.idx, f.status, jsonb_path_query_array(f.reasons, '$[*].code') AS codes
  FROM fieldops.ingest_fixes(:st, (
         SELECT jsonb_agg(jsonb_build_object('device_uid', 'radio-phone-2',
                    'recorded_at', to_char((now() - make_interval(hours => 3, mins => -k)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    'lat', 31.2304 + 0.00002 * k, 'lon', 121.4739, 'accuracy_m', 6 + 0.3 * k, 'provider', 'gps') ORDER BY k)
           FROM generate_series(1, 3) k)) f
 ORDER BY f.idx;

-- another worker signs in on the tester's phone today: shared_device ...
SELECT status FROM fieldops.register_device(:st, 'radio-phone-2', :r1, 'android');
SELECT f.status, jsonb_path_query_array(f.reasons, '$[*].code') AS codes
  FROM fieldops.ingest_fixes(:st, jsonb_build_array(jsonb_build_object('device_uid', 'radio-phone-2',
         'recorded_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
         'lat', 31.23042, 'lon', 121.47391, 'accuracy_m', 6.1, 'provider', 'gps'))) f;
-- ... unless it is a pool phone
SELECT shared_pool, external_gnss FROM fieldops.set_device_flags(:st, :rd2, p_shared_pool => true);
SELECT f.status, jsonb_path_query_array(f.reasons, '$[*].code') AS codes
  FROM fieldops.ingest_fixes(:st, jsonb_build_array(jsonb_build_object('device_uid', 'radio-phone-2',
         'recorded_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
         'lat', 31.23043, 'lon', 121.47392, 'accuracy_m', 6.3, 'provider', 'gps'))) f;

-- a fix deleted by hand leaves its fingerprints behind; sent again, it is
-- stored again, and its fingerprints replace the ones left behind (here
-- made stale on purpose: another position)
SELECT jsonb_build_array(jsonb_build_object('device_uid', 'radio-phone-1',
         'recorded_at', to_char(f.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'lat', ST_Y(f.geom), 'lon', ST_X(f.geom), 'accuracy_m', f.accuracy_m, 'provider', f.provider, 'wifi', f.wifi)) AS again
  FROM fieldops.fix f WHERE f.tenant_id = :st AND f.device_id = :rd1
   AND f.recorded_at = date_trunc('day', now()) - interval '1 day' + interval '10 hours 5 minutes' \gset
DELETE FROM fieldops.fix WHERE tenant_id = :st AND device_id = :rd1
   AND recorded_at = date_trunc('day', now()) - interval '1 day' + interval '10 hours 5 minutes';
UPDATE fieldops.fix_fingerprint SET point_digest = encode(fieldops.fix_point_digest(0, 0), 'hex')::uuid
 WHERE tenant_id = :st AND device_id = :rd1
   AND recorded_at = date_trunc('day', now()) - interval '1 day' + interval '10 hours 5 minutes';
SELECT count(*) AS fingerprints_left FROM fieldops.fix_fingerprint WHERE tenant_id = :st AND device_id = :rd1
   AND recorded_at = date_trunc('day', now()) - interval '1 day' + interval '10 hours 5 minutes';
SELECT f.status, f.band FROM fieldops.ingest_fixes(:st, :'again') f;
SELECT count(*) AS fingerprints_now,
       bool_and(g.scan_digest::text = encode(fieldops.fix_scan_digest(x.wifi), 'hex')::uuid::text
                AND g.scanned_at = x.recorded_at
                AND g.point_digest::text = encode(fieldops.fix_point_digest(ST_Y(x.geom), ST_X(x.geom)), 'hex')::uuid::text) AS the_fixs_own
  FROM fieldops.fix_fingerprint g
  JOIN fieldops.fix x ON x.tenant_id = g.tenant_id AND x.device_id = g.device_id AND x.recorded_at = g.recorded_at
 WHERE g.tenant_id = :st AND g.device_id = :rd1
   AND g.recorded_at = date_trunc('day', now()) - interval '1 day' + interval '10 hours 5 minutes';

-- a phone that cannot scan again reports its last scan with growing ages:
-- the learner's 10:40 scan of yesterday, 25 minutes later with ages of 25
-- minutes, is that same scan (no replay); with ages of a minute it claims
-- a new scan identical to an old one (a replay)
SELECT jsonb_agg(x.ap || jsonb_build_object('age_s', 1500) ORDER BY x.ord) AS aged,
       jsonb_agg(x.ap || jsonb_build_object('age_s', 60) ORDER BY x.ord) AS fresh
  FROM fieldops.fix f, jsonb_array_elements(f.wifi) WITH ORDINALITY AS x(ap, ord)
 WHERE f.tenant_id = :st AND f.device_id = :rd1
   AND f.recorded_at = date_trunc('day', now()) - interval '1 day' + interval '10 hours 40 minutes' \gset
SELECT c.label, f.status, jsonb_path_query_array(f.reasons, '$[*].code') AS codes
  FROM (VALUES (1, 'the cached scan', 65, 31.23041, :'aged'::jsonb), (2, 'a new scan identical to it', 66, 31.23043, :'fresh'::jsonb)) AS c(k, label, mins, lat, wifi),
       LATERAL fieldops.ingest_fixes(:st, jsonb_build_array(jsonb_build_object('device_uid', 'radio-phone-1',
         'recorded_at', to_char((date_trunc('day', now()) - interval '1 day' + make_interval(hours => 10, mins => c.mins)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'lat', c.lat, 'lon', 121.47368, 'accuracy_m', 5.2, 'altitude_m', 13, 'provider', 'gps', 'wifi', c.wifi))) f
 ORDER BY c.k;
SELECT g.recorded_at - g.scanned_at AS scan_age FROM fieldops.fix_fingerprint g
 WHERE g.tenant_id = :st AND g.device_id = :rd1
   AND g.recorded_at = date_trunc('day', now()) - interval '1 day' + interval '11 hours 5 minutes';

-- scoring a whole track at once gives what spoof_score() gives each fix
-- with the (up to 16) fixes before it: a 20-fix walk with one jump away
-- and back (fix 15) and a frozen stretch (fixes 18-20)
WITH w AS (
    SELECT CASE WHEN x.i = 15 THEN x.e || '{"lat": 31.30}'::jsonb
                WHEN x.i > 18 THEN x.e || jsonb_build_object('lat', x18.e -> 'lat', 'lon', x18.e -> 'lon')
                ELSE x.e END AS e, x.i
      FROM (SELECT e, row_number() OVER (ORDER BY (e ->> 't_ms')::bigint) AS i
              FROM jsonb_array_elements(spoof_test.walk(20, :t)) e) x
      CROSS JOIN (SELECT e FROM jsonb_array_elements(spoof_test.walk(20, :t)) e ORDER BY (e ->> 't_ms')::bigint OFFSET 17 LIMIT 1) x18
), arr AS (
    SELECT array_agg((e ->> 't_ms')::bigint ORDER BY i) AS t, array_agg((e ->> 'received_ms')::bigint ORDER BY i) AS r,
           array_agg((e ->> 'lat')::float8 ORDER BY i) AS lat, array_agg((e ->> 'lon')::float8 ORDER BY i) AS lon,
           array_agg((e ->> 'accuracy_m')::real ORDER BY i) AS acc, array_agg((e ->> 'altitude_m')::real ORDER BY i) AS alt,
           array_agg((e ->> 'speed_mps')::real ORDER BY i) AS spd, array_agg((e ->> 'bearing_deg')::real ORDER BY i) AS brg,
           array_agg(e ->> 'provider' ORDER BY i) AS prov
      FROM w
)
SELECT bool_and(t.score = s.score AND t.reasons = s.reasons AND t.band = s.band) AS same_as_spoof_score, count(*) AS scored,
       string_agg(DISTINCT rr.e ->> 'code', ', ') AS codes_seen
  FROM arr,
       LATERAL fieldops.spoof_score_track(arr.t, arr.r, arr.lat, arr.lon, arr.acc, arr.alt, arr.spd, arr.brg, arr.prov,
                                          NULL, NULL, NULL, NULL, NULL, array_fill(true, ARRAY[20]), NULL, NULL, false, NULL) t,
       LATERAL fieldops.spoof_score((SELECT e FROM w WHERE i = t.ord),
                                    (SELECT jsonb_agg(e) FROM w WHERE i < t.ord AND i >= t.ord - 16)) s
       LEFT JOIN LATERAL jsonb_array_elements(t.reasons) rr(e) ON true;

--
-- 4c. The newest fixes ingest keeps of each device (device_recent): a
-- batch newer than all of them is scored against them without reading
-- fieldops.fix.  Two phones send the same track in the same batches; the
-- second one's row is removed before each batch, so its every batch is
-- scored from the table: the results must be the same.  The track walks,
-- jumps 2.95 km in 60 s from a walk (a launch no car or train makes), stays
-- on that exact point for 5 more fixes (each inherits the arrival), walks
-- on; then a late upload goes between earlier fixes, with a re-send.
--
SELECT fieldops.upsert_worker(:st, 'K1', 'Recent One') AS k1 \gset
SELECT fieldops.upsert_worker(:st, 'K2', 'Recent Two') AS k2 \gset
SELECT device_id AS kd1 FROM fieldops.register_device(:st, 'recent-phone-1', :k1, 'android') \gset
SELECT device_id AS kd2 FROM fieldops.register_device(:st, 'recent-phone-2', :k2, 'android') \gset
UPDATE fieldops.device_binding SET bound_at = now() - interval '30 days' WHERE tenant_id = :st AND device_id IN (:kd1, :kd2);
SELECT date_trunc('minute', now()) - interval '3 hours' AS kbase \gset
CREATE FUNCTION spoof_test.stream(p_uid text, p_base timestamptz, p_ks numeric[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_agg(jsonb_build_object('device_uid', p_uid,
             'recorded_at', to_char((p_base + make_interval(secs => 60 * k)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             'lat', CASE WHEN k >= 11 AND k < 17 THEN 31.2574 WHEN k >= 17 THEN 31.2574 + 0.00005 * (k - 16)
                         ELSE 31.2304 + 0.00005 * k END,
             'lon', 121.4737,
             'accuracy_m', CASE WHEN k >= 11 AND k < 17 THEN 10 ELSE 5 + (k * 7 % 5) END,
             'speed_mps', CASE WHEN k >= 11 AND k < 17 THEN 0 ELSE 0.9 END,
             'provider', CASE WHEN k >= 11 AND k < 17 THEN 'fused' ELSE 'gps' END) ORDER BY k)
      FROM unnest(p_ks) AS k
$$;
CREATE FUNCTION spoof_test.twice(p_tenant bigint, p_base timestamptz, p_ks numeric[])
RETURNS TABLE (phone int, k numeric, status text, score int, band text, reasons jsonb) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT 1, p_ks[f.idx + 1], f.status, f.score, f.band, f.reasons
                   FROM fieldops.ingest_fixes(p_tenant, spoof_test.stream('recent-phone-1', p_base, p_ks)) f;
    DELETE FROM fieldops.device_recent r USING fieldops.device d
     WHERE r.tenant_id = p_tenant AND d.tenant_id = p_tenant AND d.device_id = r.device_id AND d.device_uid = 'recent-phone-2';
    RETURN QUERY SELECT 2, p_ks[f.idx + 1], f.status, f.score, f.band, f.reasons
                   FROM fieldops.ingest_fixes(p_tenant, spoof_test.stream('recent-phone-2', p_base, p_ks)) f;
END
$$;
CREATE TABLE spoof_test.recent_runs (batch int, phone int, k numeric, status text, score int, band text, reasons jsonb);
INSERT INTO spoof_test.recent_runs SELECT 1, t.* FROM spoof_test.twice(:st, :'kbase', ARRAY[1, 2, 3, 4, 5, 6, 7, 8]) t;
INSERT INTO spoof_test.recent_runs SELECT 2, t.* FROM spoof_test.twice(:st, :'kbase', ARRAY[9, 10, 11, 12, 13, 14, 15, 16]) t;
INSERT INTO spoof_test.recent_runs SELECT 3, t.* FROM spoof_test.twice(:st, :'kbase', ARRAY[17, 18, 19, 20, 21, 22, 23, 24]) t;
INSERT INTO spoof_test.recent_runs SELECT 4, t.* FROM spoof_test.twice(:st, :'kbase', ARRAY[25, 26, 27, 28, 29, 30, 31, 32]) t;
-- phone 1 kept no more than 16, all of them, newest last; phone 2's were read from the table
SELECT get_byte(r.fixes, 1) AS kept FROM fieldops.device_recent r WHERE r.tenant_id = :st AND r.device_id = :kd1;
-- the late upload: three fixes between earlier ones and a re-send
INSERT INTO spoof_test.recent_runs SELECT 5, t.* FROM spoof_test.twice(:st, :'kbase', ARRAY[3.5, 4.5, 12.5, 20]) t;
SELECT count(*) AS fixes,
       bool_and(a.status = b.status AND a.score = b.score AND a.band = b.band AND a.reasons = b.reasons) AS same_results,
       count(*) FILTER (WHERE a.status = 'duplicate') AS duplicates,
       count(*) FILTER (WHERE a.band = 'red') AS red
  FROM spoof_test.recent_runs a
  JOIN spoof_test.recent_runs b ON b.batch = a.batch AND b.k = a.k AND b.phone = 2
 WHERE a.phone = 1;
-- the jump, the point it reached, and the late fix put back on it
-- (a stale_fix reason's age depends on when the suite runs: codes only for the others)
SELECT a.batch, a.k, a.status, a.band, jsonb_path_query_array(a.reasons, '$[*].code') AS codes,
       jsonb_path_query_first(a.reasons, '$[*] ? (@.code == "implausible_speed")') AS implausible_speed
  FROM spoof_test.recent_runs a WHERE a.phone = 1 AND (a.k BETWEEN 10 AND 13 OR a.batch = 5) ORDER BY a.batch, a.k;
-- both phones' rows hold the same newest fixes (the times, positions and
-- what was stored of them are the same: one is the other's, from the
-- table; bytes 11 on -- the 10 before are a version, the count and the
-- time from which the row is complete, phone 2's set anew every batch)
SELECT get_byte(a.fixes, 1) AS kept, substr(a.fixes, 11) = substr(b.fixes, 11) AS same_as_read_from_the_table
  FROM fieldops.device_recent a, fieldops.device_recent b
 WHERE a.tenant_id = :st AND a.device_id = :kd1 AND b.tenant_id = :st AND b.device_id = :kd2;
-- the retention job forgets the devices whose fixes it deletes
INSERT INTO fieldops.fix (tenant_id, device_id, worker_id, recorded_at, geom, provider)
VALUES (:st, :kd1, :k1, now() - interval '500 days', ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326), 'gps');
SELECT fieldops.job_fix_purge(:st, '{}') ->> 'deleted' AS purged;
SELECT device_id = :kd1 AS phone_1, count(*) AS rows FROM fieldops.device_recent
 WHERE tenant_id = :st AND device_id IN (:kd1, :kd2) GROUP BY 1 ORDER BY 1;
-- and the next batch reads them again
INSERT INTO spoof_test.recent_runs SELECT 6, t.* FROM spoof_test.twice(:st, :'kbase', ARRAY[33, 34]) t;
SELECT bool_and(a.status = b.status AND a.reasons = b.reasons) AS same_results, min(a.status) AS status
  FROM spoof_test.recent_runs a JOIN spoof_test.recent_runs b ON b.batch = a.batch AND b.k = a.k AND b.phone = 2
 WHERE a.phone = 1 AND a.batch = 6;
SELECT substr(a.fixes, 11) = substr(b.fixes, 11) AS same_again FROM fieldops.device_recent a, fieldops.device_recent b
 WHERE a.tenant_id = :st AND a.device_id = :kd1 AND b.tenant_id = :st AND b.device_id = :kd2;

-- bad input of the new keys and options, and of the track function
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    (format($$SELECT fieldops.ingest_fixes(%s, '[{"device_uid": "radio-phone-2", "recorded_at": 0, "lat": 1, "lon": 1, "provider": "gps", "customer_id": "S"}]')$$, :st)),
    (format($$SELECT fieldops.ingest_fixes(%s, '[{"device_uid": "radio-phone-2", "recorded_at": 0, "lat": 1, "lon": 1, "provider": "gps", "customer_id": 1.5}]')$$, :st)),
    (format($$SELECT fieldops.ingest_fixes(%s, '[{"device_uid": "radio-phone-2", "recorded_at": 0, "lat": 1, "lon": 1, "provider": "gps", "customer_id": 987654321}]')$$, :st)),
    (format($$SELECT fieldops.ingest_fixes(%s, '[]', '{"sent_at": "yesterday"}')$$, :st)),
    (format($$SELECT fieldops.ingest_fixes(%s, '[]', '{"sent_at": 12}')$$, :st)),
    (format($$SELECT fieldops.ingest_fixes(%s, '[]', '{"sent_at": true}')$$, :st)),
    (format($$SELECT fieldops.set_device_flags(%s, 987654321, true)$$, :st)),
    (format($$SELECT fieldops.set_device_flags(%s, NULL, true)$$, :st)),
    ($$SELECT * FROM fieldops.spoof_score_track('{2,1}', NULL, '{0,0}', '{0,0}', NULL, NULL, NULL, NULL, '{gps,gps}', NULL, NULL, NULL, NULL, NULL, '{t,t}', NULL, NULL, false, NULL)$$),
    ($$SELECT * FROM fieldops.spoof_score_track('{1,2}', NULL, '{0}', '{0,0}', NULL, NULL, NULL, NULL, '{gps,gps}', NULL, NULL, NULL, NULL, NULL, '{t,t}', NULL, NULL, false, NULL)$$),
    ($$SELECT * FROM fieldops.spoof_score_track('{1,2}', NULL, '{0,0}', '{0,0}', NULL, NULL, NULL, NULL, '{gps,GPS}', NULL, NULL, NULL, NULL, NULL, '{t,t}', NULL, NULL, false, NULL)$$),
    ($$SELECT * FROM fieldops.spoof_score_track(NULL, NULL, '{0,0}', '{0,0}', NULL, NULL, NULL, NULL, '{gps,gps}', NULL, NULL, NULL, NULL, NULL, '{t,t}', NULL, NULL, false, NULL)$$),
    ($$SELECT * FROM fieldops.spoof_score_track('{1,2}', NULL, '{0,95}', '{0,0}', NULL, NULL, NULL, NULL, '{gps,gps}', NULL, NULL, NULL, NULL, NULL, '{t,t}', NULL, NULL, false, NULL)$$),
    ($$SELECT fieldops.refresh_radio_map(987654321)$$),
    ($$SELECT fieldops.refresh_radio_map(NULL)$$),
    ($$SELECT fieldops.fix_point_digest(91, 0)$$)
  ) AS t(q);
-- the serving cell: the one marked so, wherever it is listed; else the first
SELECT fieldops.serving_cell('[{"mcc": 460, "mnc": 0, "lac": 1, "cid": 2}, {"mcc": 460, "mnc": 0, "lac": 1, "cid": 3, "serving": true}]') ->> 'cid' AS marked,
       fieldops.serving_cell('[{"mcc": 460, "mnc": 0, "lac": 1, "cid": 2}, {"mcc": 460, "mnc": 0, "lac": 1, "cid": 3}]') ->> 'cid' AS first,
       fieldops.serving_cell('[]') IS NULL AS none;

-- numbers too small for a float (found by make fuzz) read as 0, not as an error
SELECT f.status, f.fix_id AS tiny_fix
  FROM fieldops.ingest_fixes(:st, jsonb_build_array(jsonb_build_object('device_uid', 'radio-phone-2',
         'recorded_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
         'lat', '1e-400'::jsonb, 'lon', 121.47392, 'accuracy_m', '1e-400'::jsonb, 'provider', 'network', 'cn0_mean_dbhz', '1e-400'::jsonb))) f \gset
SELECT :'status' AS status, ST_Y(geom) AS lat, accuracy_m, cn0_mean_dbhz FROM fieldops.fix WHERE tenant_id = :st AND fix_id = :tiny_fix;

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
