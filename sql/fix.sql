--
-- fix: location fixes.  ingest_fixes() validates every element (each
-- mistake is a 22023 naming p_fixes[i] and the field), stores each fix once
-- (retransmissions and repeats are duplicates), attributes it to the worker
-- the device was bound to at recorded_at, keeps off-duty positions private
-- unless the tenant opts in, refuses fixes older than the retention; the
-- daily partitions, their jobs, row-level security and privileges.
--
-- Fixes use fixed dates in the week of Monday 2026-11-09 (Shanghai); the
-- tenants keep fixes for 3650 days so those dates stay valid.  Bindings are
-- stamped with the current time by the API, so the set-up moves them to
-- fixed dates.  Checks relative to now() print booleans.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT current_user AS superuser, now() AS t0 \gset
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset

-- the table: partitioned by day, a default partition (a member of the
-- extension, registered for pg_dump); key and track index on each partition
SELECT c.oid::regclass AS relation, c.relkind, pg_get_expr(c.relpartbound, c.oid) AS bound,
       c.relrowsecurity AS rls,
       (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY pg_get_indexdef(i.indexrelid)) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes,
       c.oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'fieldops')::oid[]) AS dumped_as_config
  FROM pg_class c WHERE c.oid IN ('fieldops.fix'::regclass, 'fieldops.fix_default'::regclass) ORDER BY 1;
SELECT pg_get_partkeydef('fieldops.fix'::regclass) AS partition_key;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'fieldops.fix'::regclass ORDER BY 1;
-- the settings it adds
SELECT key, kind, default_value, min_value, max_value FROM fieldops.setting_def
 WHERE key IN ('fix_retention_days', 'store_off_duty_fixes') ORDER BY key;
SELECT fieldops.create_tenant('x', 'UTC', '{"fix_retention_days": 0}');
SELECT fieldops.create_tenant('x', 'UTC', '{"fix_retention_days": 3651}');
SELECT fieldops.create_tenant('x', 'UTC', '{"store_off_duty_fixes": "yes"}');

--
-- Set-up: a tenant of our own (Shanghai; default hours Mon-Fri 09:00-18:00)
--
SELECT fieldops.create_tenant('Fix Test Co', 'Asia/Shanghai', '{"fix_retention_days": 3650}') AS fx \gset
SELECT fieldops.set_tenant(:fx, false) IS NOT NULL AS fx_chosen;
SELECT fieldops.upsert_worker(:fx, 'F1', '赵一 Zhao Yi', p_hired_on => '2026-01-05') AS f1 \gset
SELECT fieldops.upsert_worker(:fx, 'F2', '钱二 Qian Er', p_hired_on => '2026-01-05') AS f2 \gset
-- F3 starts on Thursday 2026-11-12 and also works Saturday mornings
SELECT fieldops.upsert_worker(:fx, 'F3', '孙三 Sun San', p_hired_on => '2026-11-12',
    p_work_schedule => '{"mon": ["09:00-18:00"], "tue": ["09:00-18:00"], "wed": ["09:00-18:00"], "thu": ["09:00-18:00"],
                         "fri": ["09:00-18:00"], "sat": ["09:00-12:00"]}') AS f3 \gset
SELECT fieldops.upsert_worker(:fx, 'F4', '李四 Li Si', p_hired_on => '2026-01-05') AS f4 \gset
SELECT device_id AS p1 FROM fieldops.register_device(:fx, 'fx-phone-0001', :f1, 'android') \gset
SELECT device_id AS p2 FROM fieldops.register_device(:fx, 'fx-phone-0002', :f1, 'ios') \gset
SELECT status FROM fieldops.register_device(:fx, 'fx-phone-0002', :f2, 'ios');
SELECT device_id AS p3 FROM fieldops.register_device(:fx, 'fx-phone-0003', :f3, 'harmonyos') \gset
SELECT device_id AS p4 FROM fieldops.register_device(:fx, 'fx-phone-0004', :f4, 'android') \gset
SELECT device_id AS p5 FROM fieldops.register_device(:fx, 'fx-phone-0005', :f1, 'android') \gset
SELECT device_id AS p6 FROM fieldops.register_device(:fx, 'fx-phone-0006', :f1, 'android') \gset
SELECT device_id AS p7 FROM fieldops.register_device(:fx, 'fx-phone-0007', :f1, 'android') \gset
-- binding history, moved to fixed dates:
--   phone 1 F1, phone 3 F3, phone 4 F4: since 2026-01-01
--   phone 2: F1 until Wednesday 2026-11-11 12:00 Shanghai, F2 from then on
--   phone 6: F1 since 2026-11-11 00:00 UTC only
--   phone 7: bound now (for the checks relative to now())
UPDATE fieldops.device_binding SET bound_at = '2026-01-01 00:00+00'
 WHERE tenant_id = :fx AND device_id IN (:p1, :p3, :p4, :p5);
UPDATE fieldops.device_binding SET bound_at = '2026-01-01 00:00+00', unbound_at = '2026-11-11 12:00+08'
 WHERE tenant_id = :fx AND device_id = :p2 AND worker_id = :f1;
UPDATE fieldops.device_binding SET bound_at = '2026-11-11 12:00+08'
 WHERE tenant_id = :fx AND device_id = :p2 AND worker_id = :f2;
UPDATE fieldops.device_binding SET bound_at = '2026-11-11 00:00+00' WHERE tenant_id = :fx AND device_id = :p6;
UPDATE fieldops.device d SET bound_at = b.bound_at, last_seen_at = NULL
  FROM fieldops.device_binding b
 WHERE b.tenant_id = d.tenant_id AND b.device_id = d.device_id AND b.unbound_at IS NULL AND d.tenant_id = :fx;
-- phone 5 is retired; F4 leaves on Friday 2026-11-13 (phone 4 is unbound now)
SELECT fieldops.retire_device(:fx, :p5, 'broken screen') AS p5_retired;
SELECT fieldops.worker_leave(:fx, :f4, '2026-11-13') ->> 'status' AS f4;
SELECT d.device_uid, w.external_ref AS worker,
       CASE WHEN b.bound_at >= :'t0' THEN 'now' ELSE b.bound_at::text END AS bound_at, b.unbound_at IS NOT NULL AS closed, d.status
  FROM fieldops.device_binding b
  JOIN fieldops.device d ON d.tenant_id = b.tenant_id AND d.device_id = b.device_id
  JOIN fieldops.worker w ON w.tenant_id = b.tenant_id AND w.worker_id = b.worker_id
 WHERE b.tenant_id = :fx ORDER BY d.device_uid, b.bound_at;

-- helpers: ingest into the chosen tenant and show what each element became
-- (the stored fix as device, instant and worker; ids in reasons as names),
-- and the SQLSTATE and message of a call that fails
CREATE SCHEMA fix_test;
GRANT USAGE ON SCHEMA fix_test TO PUBLIC;
CREATE FUNCTION fix_test.ingest(p_fixes jsonb, p_options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, status text, fix text, reason text) LANGUAGE plpgsql AS $$
DECLARE
    a_idx integer[];
    a_fix bigint[];
    a_status text[];
    a_reason text[];
BEGIN
    SELECT array_agg(r.idx ORDER BY r.idx), array_agg(r.fix_id ORDER BY r.idx),
           array_agg(r.status ORDER BY r.idx), array_agg(r.reason ORDER BY r.idx)
      INTO a_idx, a_fix, a_status, a_reason
      FROM fieldops.ingest_fixes(fieldops.current_tenant_id(), p_fixes, p_options) r;
    -- a new statement: it sees the fixes just stored
    RETURN QUERY
    SELECT u.i, u.st,
           (SELECT format('%s %s %s', d.device_uid, to_char(f.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), w.external_ref)
              FROM fieldops.fix f
              JOIN fieldops.device d ON d.tenant_id = f.tenant_id AND d.device_id = f.device_id
              JOIN fieldops.worker w ON w.tenant_id = f.tenant_id AND w.worker_id = f.worker_id
             WHERE f.tenant_id = fieldops.current_tenant_id() AND f.fix_id = u.id),
           COALESCE((SELECT replace(u.why, 'worker ' || w.worker_id || ' ', 'worker ' || w.external_ref || ' ')
                       FROM fieldops.worker w
                      WHERE w.tenant_id = fieldops.current_tenant_id() AND u.why LIKE '%worker ' || w.worker_id || ' %'),
                    u.why)
      FROM unnest(a_idx, a_fix, a_status, a_reason) AS u(i, id, st, why)
     ORDER BY u.i;
END
$$;
CREATE FUNCTION fix_test.try(p_fixes jsonb, p_options jsonb DEFAULT '{}') RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fieldops.ingest_fixes(fieldops.current_tenant_id(), p_fixes, p_options);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA fix_test TO PUBLIC;
-- one valid fix: Monday 2026-11-09 10:00 in Shanghai, phone 1 (F1)
\set base '{"device_uid": "fx-phone-0001", "recorded_at": "2026-11-09T10:00:00+08:00", "lat": 31.2304, "lon": 121.4737, "provider": "gps"}'

--
-- Bad input: every validation, with its SQLSTATE and message
--
-- the arguments
SELECT fieldops.ingest_fixes(:fx, NULL);
SELECT fieldops.ingest_fixes(:fx, '{"device_uid": "fx-phone-0001"}');
SELECT fieldops.ingest_fixes(:fx, 'null');
SELECT fieldops.ingest_fixes(:fx, (SELECT jsonb_agg(:'base'::jsonb) FROM generate_series(1, 10001)));
SELECT fieldops.ingest_fixes(:fx, '[]', '[]');
SELECT fieldops.ingest_fixes(:fx, '[]', '{"on_eror": "skip"}');
SELECT fieldops.ingest_fixes(:fx, '[]', '{"on_error": "ignore"}');
SELECT count(*) AS empty_batch FROM fieldops.ingest_fixes(:fx, '[]', NULL);
-- a bad element fails the whole call: the message names the element
-- (0-based) and the field, nothing is stored
SELECT * FROM fieldops.ingest_fixes(:fx, jsonb_build_array(:'base'::jsonb, :'base'::jsonb || '{"lat": 91}', :'base'::jsonb - 'provider'));
SELECT count(*) AS stored FROM fieldops.fix WHERE tenant_id = :fx;
-- each element check (as the only element of a batch)
SELECT c.label, fix_test.try(jsonb_build_array(c.elem)) AS result
  FROM (VALUES
    ('number',                  '42'::jsonb),
    ('array',                   '[1, 2]'),
    ('null element',            'null'),
    ('typo lng',                :'base'::jsonb - 'lon' || '{"lng": 121.4737}'),
    ('key case',                :'base'::jsonb || '{"Lat": 31.2}'),
    ('no device_uid',           :'base'::jsonb - 'device_uid'),
    ('null device_uid',         :'base'::jsonb || '{"device_uid": null}'),
    ('numeric device_uid',      :'base'::jsonb || '{"device_uid": 860000000000001}'),
    ('unknown device',          :'base'::jsonb || '{"device_uid": "no-such-phone"}'),
    ('empty device_uid',        :'base'::jsonb || '{"device_uid": ""}'),
    ('retired device',          :'base'::jsonb || '{"device_uid": "fx-phone-0005"}'),
    ('not bound then',          :'base'::jsonb || '{"device_uid": "fx-phone-0006"}'),
    ('no recorded_at',          :'base'::jsonb - 'recorded_at'),
    ('null recorded_at',        :'base'::jsonb || '{"recorded_at": null}'),
    ('no offset',               :'base'::jsonb || '{"recorded_at": "2026-11-09T10:00:00"}'),
    ('date only',               :'base'::jsonb || '{"recorded_at": "2026-11-09"}'),
    ('words',                   :'base'::jsonb || '{"recorded_at": "yesterday"}'),
    ('30 February',             :'base'::jsonb || '{"recorded_at": "2026-02-30T10:00:00Z"}'),
    ('29 February, no leap',    :'base'::jsonb || '{"recorded_at": "2026-02-29T10:00:00Z"}'),
    ('month 13',                :'base'::jsonb || '{"recorded_at": "2026-13-01T10:00:00Z"}'),
    ('hour 24',                 :'base'::jsonb || '{"recorded_at": "2026-11-09T24:00:00Z"}'),
    ('second 60',               :'base'::jsonb || '{"recorded_at": "2026-11-09T10:00:60Z"}'),
    ('offset +15',              :'base'::jsonb || '{"recorded_at": "2026-11-09T10:00:00+15:00"}'),
    ('year 1969',               :'base'::jsonb || '{"recorded_at": "1969-12-31T23:59:59Z"}'),
    ('fractional ms',           :'base'::jsonb || '{"recorded_at": 1794189600000.5}'),
    ('negative ms',             :'base'::jsonb || '{"recorded_at": -1}'),
    ('boolean time',            :'base'::jsonb || '{"recorded_at": true}'),
    ('no lat',                  :'base'::jsonb - 'lat'),
    ('lat as string',           :'base'::jsonb || '{"lat": "31.2304"}'),
    ('lat 90.0001',             :'base'::jsonb || '{"lat": 90.0001}'),
    ('lat -91',                 :'base'::jsonb || '{"lat": -91}'),
    ('lat a hair above 90',     :'base'::jsonb || '{"lat": 90.0000000000000000000001}'),
    ('huge lat',                :'base'::jsonb || '{"lat": 1e400}'),
    ('no lon',                  :'base'::jsonb - 'lon'),
    ('lon 180.5',               :'base'::jsonb || '{"lon": 180.5}'),
    ('lon a hair below -180',   :'base'::jsonb || '{"lon": -180.00000000000000000001}'),
    ('accuracy -1',             :'base'::jsonb || '{"accuracy_m": -1}'),
    ('accuracy 100001',         :'base'::jsonb || '{"accuracy_m": 100001}'),
    ('accuracy as string',      :'base'::jsonb || '{"accuracy_m": "5"}'),
    ('altitude -1001',          :'base'::jsonb || '{"altitude_m": -1001}'),
    ('speed -0.1',              :'base'::jsonb || '{"speed_mps": -0.1}'),
    ('speed 501',               :'base'::jsonb || '{"speed_mps": 501}'),
    ('bearing 360',             :'base'::jsonb || '{"bearing_deg": 360}'),
    ('bearing -1',              :'base'::jsonb || '{"bearing_deg": -1}'),
    ('bearing 360.0000001',     :'base'::jsonb || '{"bearing_deg": 360.0000001}'),
    ('bearing N',               :'base'::jsonb || '{"bearing_deg": "N"}'),
    ('no provider',             :'base'::jsonb - 'provider'),
    ('provider GPS',            :'base'::jsonb || '{"provider": "GPS"}'),
    ('provider bluetooth',      :'base'::jsonb || '{"provider": "bluetooth"}'),
    ('provider number',         :'base'::jsonb || '{"provider": 1}'),
    ('mock yes',                :'base'::jsonb || '{"mock": "yes"}'),
    ('mock 1',                  :'base'::jsonb || '{"mock": 1}'),
    ('satellites -1',           :'base'::jsonb || '{"satellites": -1}'),
    ('satellites 7.5',          :'base'::jsonb || '{"satellites": 7.5}'),
    ('cn0 mean 71',             :'base'::jsonb || '{"cn0_mean_dbhz": 71}'),
    ('cn0 sd as string',        :'base'::jsonb || '{"cn0_sd_dbhz": "2"}'),
    ('wifi object',             :'base'::jsonb || '{"wifi": {"bssid": "a4:5e:60:12:34:56"}}'),
    ('wifi 201 APs',            :'base'::jsonb || jsonb_build_object('wifi', (SELECT jsonb_agg(jsonb_build_object('bssid', 'a4:5e:60:12:34:56')) FROM generate_series(1, 201)))),
    ('wifi AP a string',        :'base'::jsonb || '{"wifi": ["a4:5e:60:12:34:56"]}'),
    ('wifi unknown key',        :'base'::jsonb || '{"wifi": [{"bssid": "a4:5e:60:12:34:56", "ssid": "shop"}]}'),
    ('wifi no bssid',           :'base'::jsonb || '{"wifi": [{"rssi_dbm": -60}]}'),
    ('bssid 5 bytes',           :'base'::jsonb || '{"wifi": [{"bssid": "a4:5e:60:12:34"}]}'),
    ('bssid mixed separators',  :'base'::jsonb || '{"wifi": [{"bssid": "a4:5e-60:12:34:56"}]}'),
    ('bssid not hex',           :'base'::jsonb || '{"wifi": [{"bssid": "g4:5e:60:12:34:56"}]}'),
    ('bssid twice',             :'base'::jsonb || '{"wifi": [{"bssid": "a4:5e:60:12:34:56"}, {"bssid": "A4-5E-60-12-34-56"}]}'),
    ('rssi +3',                 :'base'::jsonb || '{"wifi": [{"bssid": "a4:5e:60:12:34:56", "rssi_dbm": 3}]}'),
    ('scan age -1',             :'base'::jsonb || '{"wifi": [{"bssid": "a4:5e:60:12:34:56", "age_s": -1}]}'),
    ('cells not array',         :'base'::jsonb || '{"cells": "460-00"}'),
    ('cell no cid',             :'base'::jsonb || '{"cells": [{"mcc": 460, "mnc": 0, "lac": 6209}]}'),
    ('mcc 0',                   :'base'::jsonb || '{"cells": [{"mcc": 0, "mnc": 0, "lac": 6209, "cid": 1}]}'),
    ('cid 2^36',                :'base'::jsonb || '{"cells": [{"mcc": 460, "mnc": 0, "lac": 6209, "cid": 68719476736}]}'),
    ('cell signal +1',          :'base'::jsonb || '{"cells": [{"mcc": 460, "mnc": 0, "lac": 6209, "cid": 1, "signal_dbm": 1}]}'),
    ('cell radio 6g',           :'base'::jsonb || '{"cells": [{"mcc": 460, "mnc": 0, "lac": 6209, "cid": 1, "radio": "6g"}]}'),
    ('serving yes',             :'base'::jsonb || '{"cells": [{"mcc": 460, "mnc": 0, "lac": 6209, "cid": 1, "serving": "yes"}]}'),
    ('client_ip word',          :'base'::jsonb || '{"client_ip": "localhost"}'),
    ('client_ip 256.1.1.1',     :'base'::jsonb || '{"client_ip": "256.1.1.1"}'),
    ('client_ip number',        :'base'::jsonb || '{"client_ip": 167772161}'),
    ('integrity array',         :'base'::jsonb || '{"integrity": ["MEETS_DEVICE_INTEGRITY"]}'),
    ('customer_id 1.5',         :'base'::jsonb || '{"customer_id": 1.5}'),
    ('customer_id 0',           :'base'::jsonb || '{"customer_id": 0}'),
    ('customer_id as string',   :'base'::jsonb || '{"customer_id": "7"}'),
    ('customer_id 1e30',        :'base'::jsonb || '{"customer_id": 1e30}')
  ) AS c(label, elem);
-- what a phone reports besides its position is stored, BSSIDs normalised
SELECT fix_test.ingest(jsonb_build_array(:'base'::jsonb || '{"recorded_at": "2026-11-09T10:00:00.500+08:00",
    "satellites": 14, "cn0_mean_dbhz": 31.5, "cn0_sd_dbhz": 4.2,
    "wifi": [{"bssid": "A4-5E-60-12-34-56", "rssi_dbm": -61, "age_s": 2}, {"bssid": "0a:1b:2c:3d:4e:5f", "rssi_dbm": -80}],
    "cells": [{"mcc": 460, "mnc": 0, "lac": 6209, "cid": 123456789, "signal_dbm": -85, "serving": true, "radio": "lte"}],
    "client_ip": "2001:db8::7",
    "integrity": {"device_recognition": ["MEETS_BASIC_INTEGRITY", "MEETS_DEVICE_INTEGRITY"], "app": "PLAY_RECOGNIZED"}}')) AS observed;
SELECT satellites, cn0_mean_dbhz, cn0_sd_dbhz, wifi, cells, client_ip, integrity
  FROM fieldops.fix WHERE tenant_id = :fx AND recorded_at = '2026-11-09T10:00:00.500+08:00';
-- ... and scored: integrity passed, but it reached the server weeks after it was taken (the
-- test's fixed dates), which the scorecard counts a little (the spoof test explains it)
SELECT score, band, jsonb_path_query_array(reasons, '$[*].code') AS codes, model_version
  FROM fieldops.fix WHERE tenant_id = :fx AND recorded_at = '2026-11-09T10:00:00.500+08:00';
DELETE FROM fieldops.fix WHERE tenant_id = :fx AND recorded_at = '2026-11-09T10:00:00.500+08:00';
-- the first problem of an element is the one reported
SELECT fix_test.try(jsonb_build_array(:'base'::jsonb || '{"lat": 91, "lon": 181, "provider": "x"}')) AS first_problem;
-- in the future: more than 10 minutes after now() is refused, less is not
SELECT fix_test.try(jsonb_build_array(:'base'::jsonb || jsonb_build_object('device_uid', 'fx-phone-0007',
         'recorded_at', to_char(now() + interval '11 minutes', 'YYYY-MM-DD"T"HH24:MI:SS.USOF'))))
       ~ '^22023: p_fixes\[0\]\.recorded_at is in the future \(more than 10 minutes after the server''s clock\), got "' AS future_refused;
BEGIN;
SELECT status <> 'rejected' AS five_minutes_ahead_accepted
  FROM fieldops.ingest_fixes(:fx, jsonb_build_array(:'base'::jsonb || jsonb_build_object('device_uid', 'fx-phone-0007',
         'recorded_at', to_char(now() + interval '5 minutes', 'YYYY-MM-DD"T"HH24:MI:SS.USOF'))), '{"on_error": "skip"}');
ROLLBACK;
-- what is accepted: every format of recorded_at, edge values, every
-- provider, optional fields absent or null (all at distinct instants)
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-09T02:00:00Z"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09t10:00:01+08:00", "provider": "network"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09 10:00:02+0800", "provider": "fused"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T10:00:03+08", "provider": "wifi"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T02:00:04.123456789z", "provider": "cell"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T10:01+08:00", "provider": "passive"}',
    :'base'::jsonb || '{"recorded_at": 1794189605000}',
    :'base'::jsonb || '{"recorded_at": "2026-11-08T21:00:06-05:00", "lat": 90, "lon": -180, "accuracy_m": 0, "altitude_m": -1000,
                        "speed_mps": 0, "bearing_deg": 0, "mock": true}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T02:00:07Z", "lat": -90, "lon": 180, "accuracy_m": 100000, "altitude_m": 100000,
                        "speed_mps": 500, "bearing_deg": 359.999, "mock": false}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T02:00:08Z", "accuracy_m": null, "altitude_m": null, "speed_mps": null,
                        "bearing_deg": null, "mock": null}',
    -- numbers at the edges of what a float keeps: a latitude of 1e-400 is 0,
    -- a bearing a hair below 360 is north, epoch milliseconds in exponent form
    :'base'::jsonb || '{"recorded_at": 1.794189609e12, "lat": 1e-400, "lon": 121.4737000000001, "speed_mps": 1e-9,
                        "bearing_deg": 359.99999999999}'));
-- stored as given: WGS-84 points, the optional values, the provider
SELECT to_char(recorded_at, 'HH24:MI:SS.US') AS at, ST_AsText(geom) AS geom, ST_SRID(geom) AS srid,
       accuracy_m, altitude_m, speed_mps, bearing_deg, provider, is_mock,
       worker_id = :f1 AS by_f1, received_at BETWEEN :'t0' AND now() AS received_during_test
  FROM fieldops.fix WHERE tenant_id = :fx AND device_id = :p1 ORDER BY recorded_at;

--
-- Idempotence: a retransmitted batch is reported as duplicates of the
-- fixes stored the first time, and stores nothing new
--
SELECT count(*) AS before FROM fieldops.fix WHERE tenant_id = :fx \gset
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-09T02:00:00Z"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T10:00:08+08:00", "lat": 0, "lon": 0}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T10:30:00+08:00"}'));
SELECT count(*) - :before AS new_rows FROM fieldops.fix WHERE tenant_id = :fx;
-- the first version stays: the retransmission with other coordinates changed nothing
SELECT ST_AsText(geom) FROM fieldops.fix WHERE tenant_id = :fx AND device_id = :p1 AND recorded_at = '2026-11-09 02:00:08+00';

-- repeats within one batch: the same instant written three ways; the first
-- valid occurrence wins, the others point at it (another phone at that
-- instant is another fix)
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-09T11:00:00+08:00", "lat": 91}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T03:00:00Z", "lat": 31.3}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T11:00:00+08:00", "lat": 31.4}',
    :'base'::jsonb || '{"recorded_at": 1794193200000, "lat": 31.5}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T11:00:00+08:00", "device_uid": "fx-phone-0002"}'),
  '{"on_error": "skip"}');
SELECT ST_Y(geom) AS lat_kept FROM fieldops.fix WHERE tenant_id = :fx AND device_id = :p1 AND recorded_at = '2026-11-09 03:00+00';

--
-- The worker of a fix is the worker the device was bound to at recorded_at
-- (phone 2: F1 until Wednesday 12:00, F2 from then on; half-open)
--
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"device_uid": "fx-phone-0002", "recorded_at": "2026-11-11T11:59:59.999+08:00"}',
    :'base'::jsonb || '{"device_uid": "fx-phone-0002", "recorded_at": "2026-11-11T12:00:00+08:00"}',
    :'base'::jsonb || '{"device_uid": "fx-phone-0002", "recorded_at": "2026-11-11T14:00:00+08:00"}',
    :'base'::jsonb || '{"device_uid": "fx-phone-0002", "recorded_at": "2026-11-10T10:00:00+08:00"}'));

--
-- Working hours: fixes outside them are off_duty and not stored (privacy),
-- in the tenant's time zone, with the worker's own schedule, hire and
-- leave dates
--
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-09T08:59:59+08:00"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T09:00:00+08:00"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T17:59:59+08:00"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T18:00:00+08:00"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T20:00:00Z"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-14T10:00:00+08:00"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-14T10:00:00+08:00", "device_uid": "fx-phone-0003"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-11T10:00:00+08:00", "device_uid": "fx-phone-0003"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-12T10:00:00+08:00", "device_uid": "fx-phone-0003"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-12T17:00:00+08:00", "device_uid": "fx-phone-0004"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-13T10:00:00+08:00", "device_uid": "fx-phone-0004"}'));
-- the decisions agree with is_working_time(), hour by hour over a week, for
-- a worker on the tenant's hours, one with their own and a hire date, and a leaver
BEGIN;
CREATE TEMP TABLE week AS
SELECT p.uid, p.worker, t AS at
  FROM (VALUES ('fx-phone-0001', :f1), ('fx-phone-0003', :f3), ('fx-phone-0004', :f4)) AS p(uid, worker),
       generate_series('2026-11-08 00:20+08'::timestamptz, '2026-11-15 00:00+08', interval '1 hour') AS t;
CREATE TEMP TABLE week_result AS
SELECT r.*, w.*
  FROM (SELECT jsonb_agg(:'base'::jsonb || jsonb_build_object('device_uid', uid, 'recorded_at', to_char(at, 'YYYY-MM-DD"T"HH24:MI:SSOF'))
                         ORDER BY uid, at) AS batch FROM week) b,
       fieldops.ingest_fixes(:fx, b.batch) r
  JOIN (SELECT row_number() OVER (ORDER BY uid, at) - 1 AS n, * FROM week) w ON w.n = r.idx;
SELECT uid, count(*) AS fixes, count(*) FILTER (WHERE status = 'stored') AS stored, count(*) FILTER (WHERE status = 'off_duty') AS off_duty,
       count(*) FILTER (WHERE (status = 'stored') IS DISTINCT FROM fieldops.is_working_time(:fx, worker, at)) AS disagreements
  FROM week_result GROUP BY uid ORDER BY uid;
ROLLBACK;

-- a tenant may choose to store off-duty fixes: still reported off_duty, now with the stored fix
SELECT (fieldops.alter_tenant(:fx, p_settings => '{"store_off_duty_fixes": true}')).settings -> 'store_off_duty_fixes' AS store_off_duty;
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-09T20:00:00Z"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T12:00:00+08:00"}'));
SELECT * FROM fix_test.ingest(jsonb_build_array(:'base'::jsonb || '{"recorded_at": "2026-11-09T20:00:00Z"}'));
SELECT (fieldops.alter_tenant(:fx, p_settings => '{"store_off_duty_fixes": null}')).settings ? 'store_off_duty_fixes' AS still_set;

--
-- Retention: fixes older than fix_retention_days are expired and not
-- stored (even when the device was bound to nobody then)
--
SELECT status, reason, fix_id IS NULL AS not_stored
  FROM fieldops.ingest_fixes(:fx, jsonb_build_array(:'base'::jsonb || jsonb_build_object('device_uid', 'fx-phone-0007',
         'recorded_at', to_char(now() - interval '3651 days', 'YYYY-MM-DD"T"HH24:MI:SSOF'))));

--
-- Skip mode: the bad elements come back as rejected (reason = the error
-- message), the others are stored
--
SELECT count(*) AS before FROM fieldops.fix WHERE tenant_id = :fx \gset
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-10T10:00:00+08:00"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-10T10:01:00+08:00", "bearing_deg": 400}',
    '"not a fix"'::jsonb,
    :'base'::jsonb || '{"recorded_at": "2026-11-10T10:02:00+08:00", "device_uid": "fx-phone-0006"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-10T10:03:00+08:00"}'),
  '{"on_error": "skip"}');
SELECT count(*) - :before AS new_rows FROM fieldops.fix WHERE tenant_id = :fx;
-- the same batch without skip: an error, nothing stored
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-10T11:00:00+08:00"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-10T11:01:00+08:00", "bearing_deg": 400}',
    '"not a fix"'::jsonb));
SELECT count(*) - :before AS new_rows FROM fieldops.fix WHERE tenant_id = :fx;

--
-- Derived state: device.last_seen_at is the latest recorded_at stored
--
SELECT device_uid, last_seen_at FROM fieldops.device WHERE tenant_id = :fx AND device_id IN (:p1, :p2, :p3) ORDER BY 1;
-- an older fix, or a duplicate of a newer one, does not move it back
SELECT status FROM fieldops.ingest_fixes(:fx, jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-09T15:00:00+08:00"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-10T10:03:00+08:00"}'));
SELECT last_seen_at FROM fieldops.device WHERE tenant_id = :fx AND device_id = :p1;

--
-- Partitions
--
-- so far everything is in the default partition (the jobs test made the
-- partitions of the days around today only)
SELECT tableoid::regclass AS partition, count(*) FROM fieldops.fix WHERE tenant_id = :fx GROUP BY 1 ORDER BY 1;
-- creating the partitions of Monday and Tuesday moves their rows out of the default partition
SELECT * FROM fieldops.ensure_fix_partitions('2026-11-08', '2026-11-10');
SELECT tableoid::regclass AS partition, count(*) FROM fieldops.fix WHERE tenant_id = :fx GROUP BY 1 ORDER BY 1;
SELECT count(*) AS monday_left_in_default FROM fieldops.fix_default
 WHERE recorded_at >= '2026-11-09 00:00+00' AND recorded_at < '2026-11-11 00:00+00';
-- again: nothing to do
SELECT count(*) AS created_again FROM fieldops.ensure_fix_partitions('2026-11-08', '2026-11-10');
-- a daily partition: its bounds, the key and index, row-level security with
-- both policies, no privilege for applications, the owner of the parent, a
-- comment; not a member of the extension (pg_dump dumps it with its rows)
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound,
       (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY pg_get_indexdef(i.indexrelid)) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes,
       c.relrowsecurity AS rls,
       (SELECT string_agg(polname, ', ' ORDER BY polname) FROM pg_policy WHERE polrelid = c.oid) AS policies,
       c.relowner = (SELECT relowner FROM pg_class WHERE oid = 'fieldops.fix'::regclass) AS owner_of_parent,
       obj_description(c.oid, 'pg_class') LIKE 'Daily partition of fieldops.fix: fixes recorded on 2026-11-09 (UTC).%' AS commented,
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') AS extension_member
  FROM pg_class c WHERE c.oid = 'fieldops.fix_p20261109'::regclass;
-- new fixes go straight to their partition; duplicates are found there
SELECT * FROM fix_test.ingest(jsonb_build_array(
    :'base'::jsonb || '{"recorded_at": "2026-11-09T02:00:00Z"}',
    :'base'::jsonb || '{"recorded_at": "2026-11-09T16:00:00+08:00"}'));
SELECT tableoid::regclass AS partition FROM fieldops.fix WHERE tenant_id = :fx AND recorded_at = '2026-11-09 16:00+08';
-- bad arguments
SELECT fieldops.ensure_fix_partitions(NULL, '2026-11-10');
SELECT fieldops.ensure_fix_partitions('2026-11-10', '2026-11-09');
SELECT fieldops.ensure_fix_partitions('2026-01-01', '2027-01-02');
SELECT fieldops.ensure_fix_partitions('2026-01-01', 'infinity');
-- a table in the way is not taken over
CREATE TABLE fieldops.fix_p20261101 (x int);
SELECT fieldops.ensure_fix_partitions('2026-11-01', '2026-11-01');
DROP TABLE fieldops.fix_p20261101;
-- administrators who do not own fieldops.fix cannot create partitions (the launcher, a superuser, can)
SET ROLE ops_admin;
SELECT replace(regress.sqlerr($$SELECT fieldops.ensure_fix_partitions('2026-11-12', '2026-11-12')$$), :'superuser', '<superuser>') AS ops_admin;
RESET ROLE;

-- the job: partitions from yesterday to days_ahead (UTC), and whole days
-- older than every tenant's retention (+1 day) dropped.  Two old
-- partitions, one with a fix in it:
SELECT partition_name FROM fieldops.ensure_fix_partitions('2015-06-01', '2015-06-02');
INSERT INTO fieldops.fix (tenant_id, device_id, worker_id, recorded_at, geom, provider)
VALUES (:fx, :p1, :f1, '2015-06-01 12:00+00', ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326), 'gps');
SELECT fieldops.job_fix_partitions('{"days_ahead": 7}') - 'created' - 'rows_moved' - 'from' - 'to' AS job;
SELECT bool_and(to_regclass('fieldops.fix_p' || to_char(d, 'YYYYMMDD')) IS NOT NULL) AS yesterday_to_a_week_ahead
  FROM generate_series((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 7, interval '1 day') AS d;
SELECT to_regclass('fieldops.fix_p20261109') IS NOT NULL AS kept, count(*) AS fixes_of_2015 FROM fieldops.fix WHERE recorded_at < '2016-01-01';
SELECT fieldops.job_fix_partitions('{"days_ahead": -1}');
SELECT fieldops.job_fix_partitions('{"days_ahead": "7"}');
SELECT fieldops.job_fix_partitions('{"days_ahead": 1.5}');
-- it runs under the scheduler, as built-in job with a lock timeout
SELECT job_name, function_name, scope, schedule, args FROM fieldops.builtin_jobs() WHERE job_name LIKE 'fix\_%' ORDER BY 1;
SELECT proconfig FROM pg_proc WHERE oid = 'fieldops.job_fix_partitions(jsonb)'::regprocedure;

-- the tenant job: fixes older than the tenant's retention, in batches
SELECT fieldops.create_tenant('Fix Purge Co', 'Asia/Shanghai', '{"fix_retention_days": 30}') AS fp \gset
SELECT fieldops.set_tenant(:fp, false) IS NOT NULL AS fp_chosen;
SELECT fieldops.upsert_worker(:fp, 'P1', 'Purge One') AS pw \gset
SELECT device_id AS pd FROM fieldops.register_device(:fp, 'fp-phone-0001', :pw, 'android') \gset
INSERT INTO fieldops.fix (tenant_id, device_id, worker_id, recorded_at, geom, provider)
SELECT :fp, :pd, :pw, now() - make_interval(days => d), ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326), 'gps'
  FROM unnest(ARRAY[40, 35, 31, 29, 1]) AS d;
SELECT fieldops.job_fix_purge(:fp, '{"batch": 2}');
SELECT fieldops.job_fix_purge(:fp, '{"batch": 2}');
SELECT fieldops.job_fix_purge(:fp, '{}');
SELECT count(*) AS kept, max(now() - recorded_at) < interval '30 days' AS all_younger_than_30_days FROM fieldops.fix WHERE tenant_id = :fp;
SELECT count(*) > 0 AS other_tenant_untouched FROM fieldops.fix WHERE tenant_id = :fx;
SELECT fieldops.job_fix_purge(:fp, '{"batch": 0}');
SELECT fieldops.job_fix_purge(:fp, '{"batch": "10"}');
-- through the scheduler, once per active tenant
SELECT fieldops.set_tenant(:fx, false) IS NOT NULL AS fx_chosen;
SELECT coalesce(max(run_id), 0) AS last_run FROM fieldops.job_run \gset
SELECT fieldops.run_job_now('fix_purge') IS NOT NULL AS asked;
CALL fieldops.run_due_jobs();
SELECT r.status, count(*) = (SELECT count(*) FROM fieldops.tenant WHERE status = 'active') AS once_per_active_tenant,
       bool_and(r.result ? 'deleted') AS results
  FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
 WHERE j.job_name = 'fix_purge' AND r.run_id > :last_run
 GROUP BY 1;

--
-- Tenant isolation and privileges, seen from the applications' sessions
--
-- Acme and Beta each get a phone bound since 2026-01-01, and keep 10 years of fixes
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT (fieldops.alter_tenant(:acme, p_settings => '{"fix_retention_days": 3650}')).settings -> 'fix_retention_days' AS acme_retention;
SELECT device_id AS acme_phone FROM fieldops.register_device(:acme, 'fix-acme-0001',
    (SELECT worker_id FROM fieldops.worker WHERE tenant_id = :acme AND external_ref = 'E100'), 'android') \gset
UPDATE fieldops.device_binding SET bound_at = '2026-01-01 00:00+00' WHERE tenant_id = :acme AND device_id = :acme_phone;
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
SELECT (fieldops.alter_tenant(:beta, p_settings => '{"fix_retention_days": 3650}')).settings -> 'fix_retention_days' AS beta_retention;
SELECT device_id AS beta_phone FROM fieldops.register_device(:beta, 'fix-beta-0001',
    (SELECT worker_id FROM fieldops.worker WHERE tenant_id = :beta AND external_ref = 'NY1'), 'ios') \gset
UPDATE fieldops.device_binding SET bound_at = '2026-01-01 00:00+00' WHERE tenant_id = :beta AND device_id = :beta_phone;
RESET ALL;

\c - acme_app
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
-- no tenant chosen: no fix visible, none can be written
SELECT count(*) AS fixes_without_tenant FROM fieldops.fix;
SELECT * FROM fieldops.ingest_fixes(:acme, '[]');
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
-- Wednesday 2026-11-11 10:00 in Shanghai
SELECT status, reason FROM fieldops.ingest_fixes(:acme, '[
    {"device_uid": "fix-acme-0001", "recorded_at": "2026-11-11T10:00:00+08:00", "lat": 31.2304, "lon": 121.4737, "provider": "gps"},
    {"device_uid": "fix-acme-0001", "recorded_at": "2026-11-11T10:05:00+08:00", "lat": 31.2310, "lon": 121.4740, "provider": "fused", "accuracy_m": 12.5}]');
SELECT count(*) AS acme_fixes, count(*) FILTER (WHERE tenant_id <> :acme) AS others FROM fieldops.fix;
-- Beta's phone is not Acme's, Beta's tenant id is refused
SELECT * FROM fieldops.ingest_fixes(:acme, '[{"device_uid": "fix-beta-0001", "recorded_at": "2026-11-13T10:00:00-05:00", "lat": 40.75, "lon": -73.98, "provider": "gps"}]');
SELECT * FROM fieldops.ingest_fixes(:beta, '[{"device_uid": "fix-beta-0001", "recorded_at": "2026-11-13T10:00:00-05:00", "lat": 40.75, "lon": -73.98, "provider": "gps"}]');
-- no direct writes, not through the parent and not into a partition; partitions cannot be read directly either
INSERT INTO fieldops.fix (tenant_id, device_id, worker_id, recorded_at, geom, provider)
SELECT tenant_id, device_id, worker_id, recorded_at + interval '1 second', geom, provider FROM fieldops.fix LIMIT 1;
INSERT INTO fieldops.fix_default (tenant_id, device_id, worker_id, recorded_at, geom, provider)
SELECT tenant_id, device_id, worker_id, recorded_at + interval '1 second', geom, provider FROM fieldops.fix LIMIT 1;
INSERT INTO fieldops.fix_p20261109 (tenant_id, device_id, worker_id, recorded_at, geom, provider)
SELECT tenant_id, device_id, worker_id, recorded_at + interval '1 second', geom, provider FROM fieldops.fix LIMIT 1;
UPDATE fieldops.fix SET provider = 'gps';
DELETE FROM fieldops.fix;
SELECT count(*) FROM fieldops.fix_default;
-- nor the administrative functions
SELECT fieldops.ensure_fix_partitions('2026-11-12', '2026-11-12');
SELECT fieldops.job_fix_purge(:acme, '{}');
SELECT fieldops.job_fix_partitions('{}');

\c - beta_app
\set SHOW_CONTEXT never
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
-- Friday 2026-11-13 10:00 in New York (Pat works Fridays 09:00-18:00)
SELECT status, reason FROM fieldops.ingest_fixes(:beta, '[{"device_uid": "fix-beta-0001", "recorded_at": "2026-11-13T10:00:00-05:00", "lat": 40.75, "lon": -73.98, "provider": "gps"}]');
SELECT count(*) AS beta_fixes, count(*) FILTER (WHERE tenant_id <> :beta) AS others FROM fieldops.fix;
-- Acme's phone does not exist here
SELECT * FROM fieldops.ingest_fixes(:beta, '[{"device_uid": "fix-acme-0001", "recorded_at": "2026-11-11T10:00:00+08:00", "lat": 31.2304, "lon": 121.4737, "provider": "gps"}]');

-- the analyst reads its tenant's fixes and writes none
\c - acme_bi
\set SHOW_CONTEXT never
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT count(*) AS acme_fixes, count(*) FILTER (WHERE tenant_id <> :acme) AS others FROM fieldops.fix;
SELECT * FROM fieldops.ingest_fixes(:acme, '[]');

-- a role without grants: nothing
\c - nobody
\set SHOW_CONTEXT never
SELECT count(*) FROM fieldops.fix;
SELECT * FROM fieldops.ingest_fixes(:acme, '[]');

\c - :superuser
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
-- privileges, from the catalogs: the application may read the parent and
-- call ingest_fixes(), nothing more; partitions are for administrators
SELECT c.oid::regclass AS relation, r.role,
       has_table_privilege(r.role, c.oid, 'SELECT') AS sel, has_table_privilege(r.role, c.oid, 'INSERT') AS ins,
       has_table_privilege(r.role, c.oid, 'UPDATE') AS upd, has_table_privilege(r.role, c.oid, 'DELETE') AS del
  FROM pg_class c, unnest(ARRAY['fieldops_app', 'fieldops_analyst', 'fieldops_api', 'fieldops_admin']) AS r(role)
 WHERE c.oid IN ('fieldops.fix'::regclass, 'fieldops.fix_default'::regclass, 'fieldops.fix_p20261109'::regclass)
 ORDER BY 1, 2;
SELECT p.oid::regprocedure AS routine,
       has_function_privilege('fieldops_app', p.oid, 'EXECUTE') AS app,
       has_function_privilege('fieldops_analyst', p.oid, 'EXECUTE') AS analyst,
       has_function_privilege('fieldops_admin', p.oid, 'EXECUTE') AS admin,
       p.prosecdef AS definer, p.proowner = 'fieldops_api'::regrole AS owned_by_api
  FROM pg_proc p
 WHERE p.oid IN ('fieldops.ingest_fixes(bigint, jsonb, jsonb)'::regprocedure,
                 'fieldops.ensure_fix_partitions(date, date)'::regprocedure,
                 'fieldops.fix_partition_prepare(regclass, text)'::regprocedure,
                 'fieldops.job_fix_partitions(jsonb)'::regprocedure,
                 'fieldops.job_fix_purge(bigint, jsonb)'::regprocedure)
 ORDER BY 1;
-- PUBLIC has nothing on the fix objects (a NULL ACL means the owner only
-- for relations, but EXECUTE for PUBLIC for routines)
SELECT count(*) FILTER (WHERE public_grant) AS public_grants
  FROM (SELECT EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0) AS public_grant FROM pg_class c
         WHERE c.relnamespace = 'fieldops'::regnamespace AND c.relname LIKE 'fix%'
        UNION ALL
        SELECT p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0) FROM pg_proc p
         WHERE p.pronamespace = 'fieldops'::regnamespace AND p.proname LIKE '%fix%') o;
-- what each tenant holds (Acme's and Beta's fixes stay in the default
-- partition for the tenancy test)
SELECT t.name, f.tableoid::regclass AS partition, count(*)
  FROM fieldops.fix f JOIN fieldops.tenant t USING (tenant_id)
 WHERE t.tenant_id IN (:acme, :beta) GROUP BY 1, 2 ORDER BY 1, 2;

-- the daily partitions go away (they would be dated differently on every
-- run of the suite, and are not extension members); their fixes with them
DO $$
DECLARE
    p regclass;
BEGIN
    FOR p IN SELECT i.inhrelid::regclass FROM pg_inherits i
              WHERE i.inhparent = 'fieldops.fix'::regclass AND i.inhrelid <> 'fieldops.fix_default'::regclass LOOP
        EXECUTE format('DROP TABLE %s', p);
    END LOOP;
END
$$;
SELECT count(*) AS partitions_left FROM pg_inherits WHERE inhparent = 'fieldops.fix'::regclass;
DROP SCHEMA fix_test CASCADE;
RESET ALL;
