--
-- test/calib/export.sql -- after load.sql: every check-in fix with the
-- score, band and reasons ingest_fixes() stored, joined with its label, as
-- a CSV file for fit.py and metrics.py.
--
--   psql -v out=FILE -f test/calib/export.sql DB
--
-- Besides the stored score it exports, for the reader of the report:
--   visit_max_score, visit_codes   the highest score and every reason code
--       of the device's fixes for the same worker from the check-in to 30
--       minutes after it (a teleport's return leg comes after the check-in,
--       and a fix is never scored again);
--   and candidate evidence the scorecard does not use (yet), each computed
--   from what the tables hold, never from the generator's truth:
--   diag_ip_offhours   the check-in's client IP was also the address of
--       this worker's uploads before 08:00 or after 19:00 on two or more
--       days (a fixed home line, not a carrier's shared address);
--   diag_scan_seen     a scan with the same access points and RSSIs (as
--       fieldops.fix_scan_digest() or, without it, the same rule) was
--       reported with another fix whose scan time (recorded_at - age_s)
--       differs by more than 60 s: a replayed scan, not the OS's cache;
--   diag_two_places    another device bound to the same worker reported a
--       fix more than 1 km away within 10 minutes;
--   diag_bound_s       seconds since the binding in force at the check-in
--       began (a buddy logs in minutes before);
--   pin_distance_m     the fix to the customer's stored pin.
--
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT value AS tenant FROM calib.info WHERE key = 'tenant' \gset
SELECT fieldops.set_tenant(:tenant, false);

CREATE TEMP TABLE ck AS
SELECT c.*, f.fix_id, f.device_id, f.worker_id, f.recorded_at, f.received_at, f.geom, f.client_ip, f.wifi,
       f.score, f.band, f.reasons, f.model_version, f.provider, f.accuracy_m, f.is_mock
  FROM calib.checkin c
  JOIN fieldops.device d ON d.tenant_id = :tenant AND d.device_uid = c.device_uid
  LEFT JOIN fieldops.fix f ON f.tenant_id = :tenant AND f.device_id = d.device_id
        AND f.recorded_at = to_timestamp(0) + c.recorded_at_ms * interval '1 millisecond';
CREATE INDEX ON ck (device_id, recorded_at);

-- scan digests of every fix that reported 3+ access points, with the scan time
CREATE TEMP TABLE scan AS
SELECT f.fix_id, f.device_id, f.recorded_at,
       f.recorded_at - make_interval(secs => COALESCE((SELECT max((e ->> 'age_s')::float8) FROM jsonb_array_elements(f.wifi) e), 0)) AS scan_at,
       (SELECT md5(string_agg((e ->> 'bssid') || '/' || (e ->> 'rssi_dbm'), ',' ORDER BY e ->> 'bssid'))
          FROM jsonb_array_elements(f.wifi) e) AS digest
  FROM fieldops.fix f
 WHERE f.tenant_id = :tenant AND f.wifi IS NOT NULL AND jsonb_array_length(f.wifi) >= 3;
CREATE INDEX ON scan (digest);


COPY (
SELECT ck.device_uid, ck.recorded_at_ms, ck.worker_ref, ck.site_ref, ck.label, ck.is_attack, ck.day, ck.split, ck.variant,
       ck.platform, ck.received_ms, ck.fold,
       ck.fix_id IS NOT NULL AS stored, ck.score, ck.band, ck.reasons, ck.model_version, ck.provider, ck.accuracy_m, ck.is_mock,
       round(extract(epoch FROM ck.received_at - ck.recorded_at)::numeric, 1) AS delay_s,
       v.visit_max_score, v.visit_codes,
       (SELECT count(DISTINCT (y.recorded_at AT TIME ZONE 'Asia/Shanghai')::date) >= 2 FROM fieldops.fix y
         WHERE y.tenant_id = :tenant AND y.worker_id = ck.worker_id AND y.client_ip = ck.client_ip
           AND (extract(hour FROM y.recorded_at AT TIME ZONE 'Asia/Shanghai') >= 19
                OR extract(hour FROM y.recorded_at AT TIME ZONE 'Asia/Shanghai') < 8)) AS diag_ip_offhours,
       EXISTS (SELECT 1 FROM scan s0 JOIN scan s1 ON s1.digest = s0.digest AND s1.fix_id <> s0.fix_id
                WHERE s0.fix_id = ck.fix_id AND abs(extract(epoch FROM s1.scan_at - s0.scan_at)) > 60) AS diag_scan_seen,
       EXISTS (SELECT 1 FROM fieldops.fix z
                WHERE z.tenant_id = :tenant AND z.worker_id = ck.worker_id AND z.device_id <> ck.device_id
                  AND z.recorded_at BETWEEN ck.recorded_at - interval '10 min' AND ck.recorded_at + interval '10 min'
                  AND ST_DistanceSphere(z.geom, ck.geom) > 1000) AS diag_two_places,
       (SELECT round(extract(epoch FROM ck.recorded_at - b.bound_at)) FROM fieldops.device_binding b
         WHERE b.tenant_id = :tenant AND b.device_id = ck.device_id AND b.bound_at <= ck.recorded_at
           AND (b.unbound_at IS NULL OR b.unbound_at > ck.recorded_at)
         ORDER BY b.bound_at DESC LIMIT 1) AS diag_bound_s,
       (SELECT round(ST_DistanceSphere(cu.geom, ck.geom)::numeric, 1) FROM fieldops.customer cu
         WHERE cu.tenant_id = :tenant AND cu.external_ref = ck.site_ref) AS pin_distance_m
  FROM ck
  LEFT JOIN LATERAL (
        SELECT max(x.score) AS visit_max_score,
               (SELECT jsonb_agg(DISTINCT r ->> 'code') FROM fieldops.fix y, jsonb_array_elements(y.reasons) r
                 WHERE y.tenant_id = :tenant AND y.device_id = ck.device_id AND y.worker_id = ck.worker_id
                   AND y.recorded_at BETWEEN ck.recorded_at AND ck.recorded_at + interval '30 min') AS visit_codes
          FROM fieldops.fix x
         WHERE x.tenant_id = :tenant AND x.device_id = ck.device_id AND x.worker_id = ck.worker_id
           AND x.recorded_at BETWEEN ck.recorded_at AND ck.recorded_at + interval '30 min') v ON true
 ORDER BY ck.recorded_at_ms, ck.device_uid
) TO :'out' WITH (FORMAT csv, HEADER);
