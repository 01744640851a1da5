--
-- photo: signed watermark photos.  The signature primitives (ES256 and
-- Ed25519), the manifest codec, device keys (register, rotate, revoke),
-- nonces, submit_photo() with every verdict and reason, replays, reuse and
-- near-duplicates, server receipts and the tamper-evident chain; and the
-- catalogue of bad input with its SQLSTATEs.
--
-- Phones are simulated with two functions of the module that the
-- extension does not declare (see src/photo_devsign.c): a key pair from a
-- seed, and a signature.  Nonces and receive times are random or current,
-- so the output shows verdicts, reason codes and booleans, not bytes.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SET extra_float_digits = 0;

CREATE SCHEMA photo_test;
GRANT USAGE ON SCHEMA photo_test TO PUBLIC;
CREATE FUNCTION photo_test.public_key(text, bytea) RETURNS bytea
    AS 'fieldops', 'fieldops_dev_public_key' LANGUAGE C STRICT;
CREATE FUNCTION photo_test.sign(text, bytea, bytea) RETURNS bytea
    AS 'fieldops', 'fieldops_dev_sign' LANGUAGE C STRICT;
-- the reason codes of a verdict, in order
CREATE FUNCTION photo_test.codes(p_reasons jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(r ->> 'code', ',' ORDER BY o) FROM jsonb_array_elements(p_reasons) WITH ORDINALITY AS x(r, o)
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA photo_test TO PUBLIC;

--
-- 1. Signature primitives
--

-- Ed25519: RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2
\set ed1_seed '\\x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
\set ed1_pub '\\xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
\set ed1_sig '\\xe5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
\set ed2_pub '\\x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'
\set ed2_sig '\\x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'
SELECT fieldops.ed25519_verify('', :'ed1_sig', :'ed1_pub') AS rfc_test1,
       fieldops.ed25519_verify('\x72', :'ed2_sig', :'ed2_pub') AS rfc_test2,
       fieldops.ed25519_verify('\x73', :'ed2_sig', :'ed2_pub') AS other_message,
       fieldops.ed25519_verify('\x72', :'ed1_sig', :'ed2_pub') AS other_signature,
       fieldops.ed25519_verify('\x72', substring(:'ed2_sig'::bytea FROM 1 FOR 63), :'ed2_pub') AS short_signature,
       fieldops.ed25519_verify('\x72', :'ed2_sig'::bytea || '\x00', :'ed2_pub') AS long_signature,
       photo_test.public_key('ed25519', :'ed1_seed') = :'ed1_pub'::bytea AS seed_gives_rfc_key,
       photo_test.sign('ed25519', :'ed1_seed', '') = :'ed1_sig'::bytea AS signing_gives_rfc_signature;
-- malformed Ed25519 keys are errors: wrong length, not a curve point, small order
SELECT regress.sqlerr($$SELECT fieldops.ed25519_verify('\x72', '$$ || :'ed2_sig' || $$', '\x0102')$$) AS short_key;
SELECT regress.sqlerr($$SELECT fieldops.ed25519_verify('\x72', '$$ || :'ed2_sig' || $$', '\x0100000000000000000000000000000000000000000000000000000000000000')$$) AS identity_point;
SELECT regress.sqlerr($$SELECT fieldops.ed25519_verify('\x72', '$$ || :'ed2_sig' || $$', '\xecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')$$) AS not_canonical;

-- ES256 with a key from a seed; signatures are DER with a random k
SELECT sha256('fieldops photo test: es256 key one') AS es1_seed, sha256('fieldops photo test: es256 key two') AS es2_seed \gset
SELECT photo_test.public_key('es256', :'es1_seed') AS es1_pub, photo_test.public_key('es256', :'es2_seed') AS es2_pub \gset
SELECT photo_test.sign('es256', :'es1_seed', 'hello') AS es1_sig \gset
SELECT length(:'es1_pub'::bytea) AS sec1_length, get_byte(:'es1_pub'::bytea, 0) AS sec1_prefix,
       get_byte(:'es1_sig'::bytea, 0) = 48 AS der_sequence,
       fieldops.es256_verify('hello', :'es1_sig', :'es1_pub') AS valid,
       fieldops.es256_verify('hellO', :'es1_sig', :'es1_pub') AS other_message,
       fieldops.es256_verify('hello', :'es1_sig', :'es2_pub') AS other_key,
       fieldops.es256_verify('hello', :'es1_sig'::bytea || '\x00', :'es1_pub') AS trailing_byte,
       fieldops.es256_verify('hello', substring(:'es1_sig'::bytea FROM 1 FOR length(:'es1_sig'::bytea) - 1), :'es1_pub') AS truncated,
       fieldops.es256_verify('hello', '\x', :'es1_pub') AS empty,
       fieldops.es256_verify('hello', decode(repeat('00', 64), 'hex'), :'es1_pub') AS raw_zero;
-- the same signature as raw r||s (the JWS/COSE form): strip DER, left-pad to 32 bytes each
CREATE FUNCTION photo_test.der_to_raw(d bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    WITH r AS (SELECT get_byte(d, 3) AS rlen),
         parts AS (SELECT substring(d FROM 5 FOR rlen) AS rr,
                          substring(d FROM 5 + rlen + 2 FOR get_byte(d, 5 + rlen)) AS ss FROM r)
    SELECT decode(lpad(right(encode(rr, 'hex'), 64), 64, '0') || lpad(right(encode(ss, 'hex'), 64), 64, '0'), 'hex') FROM parts
$$;
SELECT fieldops.es256_verify('hello', photo_test.der_to_raw(:'es1_sig'), :'es1_pub') AS raw_form,
       fieldops.es256_verify('hellO', photo_test.der_to_raw(:'es1_sig'), :'es1_pub') AS raw_other_message;
-- the key as a DER SubjectPublicKeyInfo: same key, same canonical bytes
SELECT '\x3059301306072a8648ce3d020106082a8648ce3d030107034200'::bytea || :'es1_pub'::bytea AS es1_spki \gset
SELECT fieldops.es256_verify('hello', :'es1_sig', :'es1_spki') AS spki_form,
       fieldops.canonical_public_key('es256', :'es1_spki') = :'es1_pub'::bytea AS same_canonical_key,
       fieldops.canonical_public_key('ed25519', :'ed1_pub') = :'ed1_pub'::bytea AS ed25519_canonical;
-- malformed ES256 keys are errors
SELECT regress.sqlerr(format('SELECT fieldops.es256_verify(%L, %L, %L)', 'hello', :'es1_sig', k)) AS result, what
  FROM (VALUES ('\x02'::bytea || substring(:'es1_pub'::bytea FROM 2 FOR 32), 'compressed point'),
               (substring(:'es1_pub'::bytea FROM 2), '64 bytes without prefix'),
               (overlay(:'es1_pub'::bytea PLACING '\x00' FROM 65), 'point not on the curve'),
               (:'es1_spki'::bytea || '\x00', 'SPKI with a trailing byte'),
               ('\x'::bytea, 'empty')) AS t(k, what);
SELECT regress.sqlerr($$SELECT fieldops.canonical_public_key('rsa', '\x00')$$) AS unknown_algorithm;

-- perceptual hashes: distance and the 8 band keys
SELECT fieldops.hamming64(0, 0) AS same, fieldops.hamming64(0, -1) AS all_bits,
       fieldops.hamming64(x'0f0f0f0f0f0f0f0f'::bigint, x'0f0f0f0f0f0f0f0e'::bigint) AS one_bit,
       fieldops.phash_bands(x'0102030405060708'::bigint) AS bands;

--
-- 2. The manifest: the README's worked example, round trip, strict decoding
--
SELECT fieldops.photo_manifest('ed25519', decode(repeat('5c', 32), 'hex'), 1, 42, 7, 1001,
           '2026-11-27 09:30:00+00', 31.2304, 121.4737, 8.5, 17,
           decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'), p_stamped => true) AS example \gset
SELECT length(:'example'::bytea) AS bytes, encode(:'example'::bytea, 'hex') AS example_hex;
SELECT version, algorithm, offline_nonce, os_mock, stamped, tenant_id, worker_id, device_id, visit_id, captured_at,
       latitude, longitude, accuracy_m, counter, raw_sha256 IS NULL AS no_raw_hash,
       nonce = decode(repeat('a5', 32), 'hex') AS nonce_ok
  FROM fieldops.parse_photo_manifest(:'example');
-- decoding refuses what the encoder would never produce
SELECT regress.sqlerr(format('SELECT fieldops.parse_photo_manifest(%L)', m)) AS result, what
  FROM (VALUES (substring(:'example'::bytea FROM 1 FOR 195), 'one byte short'),
               (:'example'::bytea || '\x00', 'one byte long'),
               (overlay(:'example'::bytea PLACING 'X' FROM 1), 'magic'),
               (overlay(:'example'::bytea PLACING '\x02' FROM 5), 'version 2'),
               (overlay(:'example'::bytea PLACING '\x03' FROM 6), 'algorithm 3'),
               (overlay(:'example'::bytea PLACING '\x0008' FROM 7), 'reserved flag'),
               (overlay(:'example'::bytea PLACING '\x0000000000000000' FROM 41), 'tenant 0'),
               (overlay(:'example'::bytea PLACING '\x40000000' FROM 81), 'latitude'),
               (overlay(:'example'::bytea PLACING decode(repeat('00', 32), 'hex') FROM 101), 'zero photo hash'),
               (overlay(:'example'::bytea PLACING decode(repeat('00', 32), 'hex') FROM 165), 'zero nonce')) AS t(m, what);
-- the encoder's argument checks
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    ($$SELECT fieldops.photo_manifest('rsa', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, now(), 0, 0, NULL, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', '\x01', 1, 1, 1, 0, now(), 0, 0, NULL, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), NULL, 1, 1, 0, now(), 0, 0, NULL, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, -1, now(), 0, 0, NULL, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, 'infinity', 0, 0, NULL, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, now(), 91, 0, NULL, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, now(), 0, 'NaN', NULL, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, now(), 0, 0, -1, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, now(), 0, 0, NULL, 0, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, now(), 0, 0, NULL, 1, decode(repeat('00', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, now(), 0, 0, NULL, 1, decode(repeat('11', 32), 'hex'), '\x00', decode(repeat('a5', 32), 'hex'))$$),
    ($$SELECT fieldops.photo_manifest('es256', decode(repeat('5c', 32), 'hex'), 1, 1, 1, 0, '1969-12-31 23:59:59+00', 0, 0, NULL, 1, decode(repeat('11', 32), 'hex'), NULL, decode(repeat('a5', 32), 'hex'))$$)
  ) AS t(q);

--
-- 3. Set-up: a tenant, two workers with a phone each, a customer, visits
--
SELECT fieldops.create_tenant('Photo Test Co', 'Asia/Shanghai') AS pt \gset
CREATE ROLE photo_app IN ROLE fieldops_app;
SELECT fieldops.grant_tenant_access('photo_app', :pt);
SET ROLE photo_app;
SELECT fieldops.set_tenant(:pt, false) IS NOT NULL AS pt_chosen;
SELECT fieldops.upsert_worker(:pt, 'W1', '王芳 Wang Fang') AS w1 \gset
SELECT fieldops.upsert_worker(:pt, 'W2', '刘洋 Liu Yang') AS w2 \gset
SELECT device_id AS d1 FROM fieldops.register_device(:pt, 'photo-phone-1', :w1, 'android') \gset
SELECT device_id AS d2 FROM fieldops.register_device(:pt, 'photo-phone-2', :w2, 'ios') \gset
SELECT device_id AS d3 FROM fieldops.register_device(:pt, 'photo-phone-3', :w1, 'android') \gset
SELECT fieldops.upsert_customer(:pt, 'SHOP-1', '联华超市 Lianhua', 'SRID=4326;POINT(121.4737 31.2304)') AS shop \gset
SELECT fieldops.upsert_customer(:pt, 'SHOP-2', '无坐标 No position') AS nowhere \gset
RESET ROLE;
-- visits come from the visit API; here they are written directly: W1 on
-- site at SHOP-1 since 10 minutes ago, a visit of W1 that ended an hour
-- ago, one at the customer without a position, and W2 at SHOP-1
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at) VALUES (:pt, :w1, :shop, now() - interval '10 min')
RETURNING visit_id AS v1 \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at)
VALUES (:pt, :w1, :shop, now() - interval '2 h', now() - interval '1 h') RETURNING visit_id AS v_past \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at) VALUES (:pt, :w1, :nowhere, now() - interval '5 min')
RETURNING visit_id AS v_nowhere \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at) VALUES (:pt, :w2, :shop, now() - interval '5 min')
RETURNING visit_id AS v2 \gset

--
-- 4. Device keys
--
SET ROLE photo_app;
SELECT fieldops.set_tenant(:pt, false) IS NOT NULL AS pt_chosen;
SELECT fieldops.register_device_key(:pt, :d1, 'es256', :'es1_spki', '{"level": "strongbox", "verified_boot": true}') AS k1 \gset
SELECT :'k1'::bytea = sha256(:'es1_pub'::bytea) AS key_id_is_sha256_of_canonical_key,
       fieldops.register_device_key(:pt, :d1, 'es256', :'es1_pub') = :'k1'::bytea AS same_key_again_is_idempotent;
SELECT fieldops.register_device_key(:pt, :d2, 'ed25519', :'ed1_pub') AS k2 \gset
SELECT algorithm, status, length(public_key) AS key_bytes, attestation, last_counter
  FROM fieldops.device_key WHERE tenant_id = :pt ORDER BY device_key_id;
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    (format('SELECT fieldops.register_device_key(%s, %s, %L, %L)', :pt, :d1, 'es256', :'es2_pub')),
    (format('SELECT fieldops.register_device_key(%s, %s, %L, %L)', :pt, :d3, 'es256', :'es1_pub')),
    (format('SELECT fieldops.register_device_key(%s, %s, %L, %L)', :pt, :d3, 'rsa', :'es2_pub')),
    (format('SELECT fieldops.register_device_key(%s, %s, %L, %L)', :pt, :d3, 'es256', '\x0102')),
    (format('SELECT fieldops.register_device_key(%s, %s, %L, %L)', :pt, :d3, 'ed25519', :'es2_pub')),
    (format('SELECT fieldops.register_device_key(%s, %s, %L, NULL)', :pt, :d3, 'es256')),
    (format('SELECT fieldops.register_device_key(%s, %s, %L, %L, %L)', :pt, :d3, 'es256', :'es2_pub', '[1]')),
    (format('SELECT fieldops.register_device_key(%s, %s, %L, %L)', :pt, 999999, 'es256', :'es2_pub')),
    (format('SELECT fieldops.register_device_key(%s, NULL, %L, %L)', :pt, 'es256', :'es2_pub')),
    (format('SELECT fieldops.rotate_device_key(%s, %s, %L, %L)', :pt, :d3, 'es256', :'es2_pub')),
    (format('SELECT fieldops.rotate_device_key(%s, %s, %L, %L)', :pt, :d1, 'es256', :'es1_pub')),
    (format('SELECT fieldops.revoke_device_key(%s, %L, %L)', :pt, '\x01', 'lost')),
    (format('SELECT fieldops.revoke_device_key(%s, %L, %L)', :pt, sha256('nothing'), 'lost')),
    (format('SELECT fieldops.revoke_device_key(%s, %L, %L)', :pt, :'k1', ' '))
  ) AS t(q);

--
-- 5. Nonces
--
SELECT fieldops.issue_photo_nonce(:pt, :d1, :v1) AS n1 \gset
SELECT length(:'n1'::bytea) AS nonce_bytes;
SELECT count(*) AS batch, count(DISTINCT n) AS distinct_nonces, bool_and(length(n) = 32) AS all_32_bytes
  FROM fieldops.issue_photo_nonces(:pt, :d1, 5) AS n;
SELECT offline, count(*), bool_and(expires_at - issued_at = CASE WHEN offline THEN interval '1 day' ELSE interval '15 min' END) AS ttl
  FROM fieldops.photo_nonce WHERE tenant_id = :pt GROUP BY offline ORDER BY offline;
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    (format('SELECT fieldops.issue_photo_nonce(%s, %s, %s)', :pt, :d1, :v2)),
    (format('SELECT fieldops.issue_photo_nonce(%s, %s, %s)', :pt, :d1, 999999)),
    (format('SELECT fieldops.issue_photo_nonce(%s, %s)', :pt, 999999)),
    (format('SELECT fieldops.issue_photo_nonces(%s, %s, %s)', :pt, :d1, 0)),
    (format('SELECT fieldops.issue_photo_nonces(%s, %s, %s)', :pt, :d1, 51)),
    (format('SELECT fieldops.issue_photo_nonces(%s, %s, NULL)', :pt, :d1))
  ) AS t(q);

--
-- 6. Submissions.  photo_test.shoot() plays the phone: it builds the
-- manifest (capture now, at SHOP-1 unless told otherwise), signs it with
-- the seed's key and submits it; photo_test.last holds what it sent.
--
RESET ROLE;
CREATE TABLE photo_test.last (manifest bytea, signature bytea, photo_id bigint, receipt bytea);
GRANT ALL ON photo_test.last TO PUBLIC;
CREATE FUNCTION photo_test.shoot(p_alg text, p_seed bytea, p_key_id bytea, p_worker bigint, p_device bigint,
                                 p_visit bigint, p_nonce bytea, p_counter bigint, p_image text,
                                 p_lat float8 DEFAULT 31.2304, p_lon float8 DEFAULT 121.4737,
                                 p_captured_at timestamptz DEFAULT clock_timestamp(), p_phash bigint DEFAULT NULL,
                                 p_offline boolean DEFAULT false, p_mock boolean DEFAULT false,
                                 p_tenant bigint DEFAULT NULL, p_bad_signature boolean DEFAULT false,
                                 p_raw_image text DEFAULT NULL)
RETURNS TABLE (verdict text, reasons text, replay boolean, has_receipt boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_m bytea;
    v_s bytea;
    r record;
BEGIN
    v_m := fieldops.photo_manifest(p_alg, p_key_id, COALESCE(p_tenant, fieldops.current_tenant_id()), p_worker, p_device,
                                   p_visit, p_captured_at, p_lat, p_lon, 8, p_counter,
                                   sha256(convert_to(p_image, 'UTF8')), sha256(convert_to(p_raw_image, 'UTF8')),
                                   p_nonce, p_offline, p_mock, true);
    v_s := photo_test.sign(p_alg, p_seed, CASE WHEN p_bad_signature THEN v_m || '\x00' ELSE v_m END);
    SELECT * INTO r FROM fieldops.submit_photo(fieldops.current_tenant_id(), v_m, v_s, p_phash);
    DELETE FROM photo_test.last;
    INSERT INTO photo_test.last VALUES (v_m, v_s, r.photo_id, r.receipt);
    RETURN QUERY SELECT r.verdict, photo_test.codes(r.reasons), r.replay, r.receipt IS NOT NULL;
END
$$;
-- resend what was sent last, unchanged
CREATE FUNCTION photo_test.resend()
RETURNS TABLE (verdict text, reasons text, replay boolean, same_photo boolean, same_receipt boolean)
LANGUAGE sql AS $$
    SELECT s.verdict, photo_test.codes(s.reasons), s.replay, s.photo_id = l.photo_id, s.receipt = l.receipt
      FROM photo_test.last l, fieldops.submit_photo(fieldops.current_tenant_id(), l.manifest, l.signature) s
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA photo_test TO PUBLIC;
SET ROLE photo_app;
SELECT fieldops.set_tenant(:pt, false) IS NOT NULL AS pt_chosen;

-- W1 at SHOP-1 during the visit, nonce issued for the visit: accepted
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n1', 1, 'shelf, aisle 3', p_phash => x'00ff00ff00ff00ff'::bigint);
SELECT photo_id AS p_first FROM photo_test.last \gset
-- the same manifest and signature again: a replay, reported with the first verdict and receipt, not recorded twice
SELECT * FROM photo_test.resend();
SELECT count(*) AS photos FROM fieldops.photo WHERE tenant_id = :pt;
-- a fresh nonce, reused: the second photo is refused
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n2 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n2', 2, 'shelf, aisle 4');
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n2', 3, 'shelf, aisle 5');
-- a bad signature is rejected and does not consume the nonce or the counter
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n3 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n3', 4, 'fridge', p_bad_signature => true);
SELECT * FROM photo_test.shoot('es256', :'es2_seed', :'k1', :w1, :d1, :v1, :'n3', 4, 'fridge');
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n3', 4, 'fridge');
-- the counter must increase
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n4 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n4', 4, 'door');
-- the same image under a new manifest: reused (also through the raw capture's hash)
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n5 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n5', 10, 'shelf, aisle 3');
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n5b \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n5b', 11, 'till', p_raw_image => 'raw capture 1');
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n5c \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n5c', 12, 'till, stamped again', p_raw_image => 'raw capture 1');
-- a near-duplicate (3 bits from the first photo's perceptual hash): review; 16 bits (though 4 of the
-- 8 bands agree) and 64 bits: different
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n6 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n6', 20, 'shelf, aisle 3, again', p_phash => x'00ff00ff00ff00f8'::bigint);
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n7 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n7', 21, 'other shelf', p_phash => x'00ff00ff0f0f0f0f'::bigint);
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n8 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n8', 22, 'far shelf', p_phash => x'ff00ff00ff00ff00'::bigint);
-- place and time: 3 km away and 250 m away (beyond the 200 m radius plus 8 m accuracy:
-- rejected), 150 m away (accepted), outside the visit window, customer without position, no visit
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n9 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n9', 30, 'café', p_lat => 31.2574);
SELECT distance_m, allowed_m FROM fieldops.photo p, jsonb_to_recordset(p.reasons) AS r(code text, distance_m numeric, allowed_m numeric)
 WHERE p.tenant_id = :pt AND p.photo_id = (SELECT photo_id FROM photo_test.last) AND r.code = 'off_site';
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n10 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n10', 31, 'street', p_lat => 31.2304 + 250 / 111000.0);
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n11 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n11', 32, 'entrance', p_lat => 31.2304 + 150 / 111000.0);
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n12 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v_past, :'n12', 33, 'late photo');
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n13 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v_nowhere, :'n13', 34, 'somewhere');
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n14 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, 0, :'n14', 35, 'no visit');
-- the nonce was issued for visit v1, the manifest names another
SELECT fieldops.issue_photo_nonce(:pt, :d1, :v1) AS n15 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v_past, :'n15', 36, 'wrong visit');
-- clocks: taken an hour before the nonce was issued, or an hour after receipt
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n16 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n16', 40, 'old photo', p_captured_at => now() - interval '1 h');
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n17 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, 0, :'n17', 41, 'future photo', p_captured_at => now() + interval '1 h');
-- the OS flagged a mock location
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n18 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n18', 42, 'mocked', p_mock => true);
-- nonces: never issued, another device's, expired, offline with and without the flag
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, sha256('made up'), 50, 'invented nonce');
SELECT fieldops.issue_photo_nonce(:pt, :d2) AS n_d2 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n_d2', 51, 'borrowed nonce');
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n19 \gset
RESET ROLE;
UPDATE fieldops.photo_nonce SET issued_at = issued_at - interval '1 h', expires_at = now() - interval '1 min'
 WHERE tenant_id = :pt AND nonce = :'n19';
SET ROLE photo_app;
SELECT fieldops.set_tenant(:pt, false) IS NOT NULL AS pt_chosen;
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n19', 52, 'slow upload');
SELECT n AS off1 FROM fieldops.issue_photo_nonces(:pt, :d1, 2) n LIMIT 1 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'off1', 53, 'offline photo', p_offline => true);
SELECT nonce AS off2 FROM fieldops.photo_nonce WHERE tenant_id = :pt AND offline AND used_at IS NULL LIMIT 1 \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'off2', 54, 'offline photo, flag missing');
-- identity: unknown key, a key of another device, a worker the device is not bound to, the visit of another worker, another tenant
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n20 \gset
SELECT * FROM photo_test.shoot('es256', :'es2_seed', sha256(:'es2_pub'::bytea), :w1, :d1, :v1, :'n20', 60, 'unknown key');
SELECT * FROM photo_test.shoot('ed25519', :'ed1_seed', :'k2', :w1, :d1, :v1, :'n20', 61, 'key of phone 2');
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'n20', 64, 'other tenant', p_tenant => :pt + 1000);
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w2, :d1, :v2, :'n20', 62, 'not bound');
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n20b \gset
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v2, :'n20b', 65, 'W2''s visit');
-- a malformed manifest is recorded as rejected too
SELECT verdict, photo_test.codes(reasons) AS reasons, reasons -> 0 ->> 'problem' AS problem, replay
  FROM fieldops.submit_photo(:pt, '\x464f504d01', '\x00');
-- Ed25519 from phone 2: accepted
SELECT fieldops.issue_photo_nonce(:pt, :d2, :v2) AS n21 \gset
SELECT * FROM photo_test.shoot('ed25519', :'ed1_seed', :'k2', :w2, :d2, :v2, :'n21', 1, 'group photo');

--
-- 7. Rotation and revocation
--
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS before_rotation \gset
SELECT fieldops.rotate_device_key(:pt, :d1, 'es256', :'es2_pub') AS k1b \gset
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS after_rotation \gset
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS after_rotation2 \gset
SELECT status, grace_until - superseded_at AS grace FROM fieldops.device_key WHERE tenant_id = :pt AND key_id = :'k1';
-- the old key: still good for the nonce issued before the rotation, not for a later one
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'before_rotation', 70, 'signed before rotation');
SELECT * FROM photo_test.shoot('es256', :'es1_seed', :'k1', :w1, :d1, :v1, :'after_rotation', 71, 'old key, new nonce');
-- the new key (its own counter starts at 0)
SELECT * FROM photo_test.shoot('es256', :'es2_seed', :'k1b', :w1, :d1, :v1, :'after_rotation2', 1, 'new key');
-- parsed keys are cached per backend, keyed by their bytes; a revocation
-- empties the cache of every backend (here: this one, at once)
SELECT entries > 0 AS keys_cached, hits > 0 AS cache_used, capacity FROM fieldops.signature_cache_stats();
SELECT resets AS resets_before FROM fieldops.signature_cache_stats() \gset
SELECT fieldops.revoke_device_key(:pt, :'k1b', 'phone reported stolen');
SELECT entries AS entries_after_revocation, resets > :resets_before AS emptied FROM fieldops.signature_cache_stats();
SELECT fieldops.revoke_device_key(:pt, :'k1b', 'again') AS idempotent;
SELECT fieldops.issue_photo_nonce(:pt, :d1) AS n22 \gset
SELECT * FROM photo_test.shoot('es256', :'es2_seed', :'k1b', :w1, :d1, :v1, :'n22', 2, 'after revocation');
SELECT encode(key_id, 'hex') = encode(:'k1b'::bytea, 'hex') AS same, status, revoke_reason FROM fieldops.device_key
 WHERE tenant_id = :pt AND key_id = :'k1b';

-- what was recorded: every submission once, nonces used once
SELECT verdict, count(*) FROM fieldops.photo WHERE tenant_id = :pt GROUP BY verdict ORDER BY verdict;
SELECT count(*) FILTER (WHERE used_at IS NOT NULL) AS used,
       count(*) FILTER (WHERE used_at IS NOT NULL AND photo_id IS NULL) AS used_without_photo
  FROM fieldops.photo_nonce WHERE tenant_id = :pt;

--
-- 8. Receipts
--
SELECT fieldops.receipt_key_status() AS receipt_key, encode(fieldops.receipt_public_key(), 'hex') AS receipt_public_key;
SELECT receipt AS rc FROM fieldops.photo WHERE tenant_id = :pt AND photo_id = :p_first \gset
SELECT v.valid, v.tenant_id = :pt AS tenant, v.photo_id = :p_first AS photo, v.received_at = p.received_at AS received_at,
       v.verdict, v.manifest_sha256 = p.manifest_sha256 AS manifest, v.chain_hash = p.chain_hash AS chain,
       length(:'rc'::bytea) AS bytes
  FROM fieldops.verify_receipt(:'rc') v, fieldops.photo p WHERE p.tenant_id = :pt AND p.photo_id = :p_first;
-- anyone can check it with the public key and any Ed25519 library
SELECT fieldops.ed25519_verify(substring(:'rc'::bytea FROM 1 FOR 96), substring(:'rc'::bytea FROM 97), fieldops.receipt_public_key()) AS independent_check;
-- altered verdict byte, truncated, garbage
SELECT (fieldops.verify_receipt(overlay(:'rc'::bytea PLACING '\x03' FROM 6))).valid AS altered_valid,
       (fieldops.verify_receipt(overlay(:'rc'::bytea PLACING '\x03' FROM 6))).verdict AS altered_claims,
       (SELECT NOT valid AND tenant_id IS NULL AND verdict IS NULL FROM fieldops.verify_receipt(substring(:'rc'::bytea FROM 1 FOR 159))) AS truncated_refused,
       (fieldops.verify_receipt('\x00')).valid AS garbage_valid;

--
-- 9. The chain
--
SELECT * FROM fieldops.verify_photo_chain(:pt);
RESET ROLE;
SELECT min(photo_id) AS p_rej FROM fieldops.photo WHERE tenant_id = :pt AND verdict = 'rejected' \gset
BEGIN;
UPDATE fieldops.photo SET verdict = 'accepted' WHERE tenant_id = :pt AND photo_id = :p_rej;
SELECT ok, first_bad_photo_id = :p_rej AS at_edited_photo, problem FROM fieldops.verify_photo_chain(:pt);
ROLLBACK;
BEGIN;
DELETE FROM fieldops.photo_phash_band WHERE tenant_id = :pt AND photo_id = :p_first;
DELETE FROM fieldops.photo WHERE tenant_id = :pt AND photo_id = :p_first;
SELECT ok, first_bad_seq, problem FROM fieldops.verify_photo_chain(:pt);
ROLLBACK;
BEGIN;
DELETE FROM fieldops.photo WHERE tenant_id = :pt AND chain_seq = (SELECT max(chain_seq) FROM fieldops.photo WHERE tenant_id = :pt);
SELECT ok, problem ~ 'the last entries were deleted' AS tail_deleted FROM fieldops.verify_photo_chain(:pt);
ROLLBACK;
SELECT ok, photos_checked = (SELECT count(*) FROM fieldops.photo WHERE tenant_id = :pt) AS all_checked
  FROM fieldops.verify_photo_chain(:pt);

--
-- 9b. The nonce purge job: nonces that expired more than keep_days ago go,
-- used or not; a manifest over a purged nonce is refused as unknown
--
SELECT fieldops.issue_photo_nonce(:pt, :d2, :v2) AS n_old \gset
UPDATE fieldops.photo_nonce SET issued_at = now() - interval '9 days', expires_at = now() - interval '8 days'
 WHERE tenant_id = :pt AND (nonce = :'n_old' OR nonce = :'n21');
SELECT count(*) FILTER (WHERE expires_at < now() - interval '7 days') AS purgeable, count(*) AS nonces
  FROM fieldops.photo_nonce WHERE tenant_id = :pt;
SELECT fieldops.job_photo_nonce_purge(:pt, '{"batch": 1}');
SELECT fieldops.job_photo_nonce_purge(:pt, '{}');
SELECT regress.sqlerr(format('SELECT fieldops.job_photo_nonce_purge(%s, %L)', :pt, '{"keep_days": 0}')) AS result;
SELECT count(*) AS nonces_left FROM fieldops.photo_nonce WHERE tenant_id = :pt;
SELECT fieldops.set_tenant(:pt, false) IS NOT NULL AS pt_chosen;
SELECT * FROM photo_test.shoot('ed25519', :'ed1_seed', :'k2', :w2, :d2, :v2, :'n_old', 5, 'after the purge');
SELECT job_name, scope, schedule, args FROM fieldops.builtin_jobs() WHERE job_name = 'photo_nonce_purge';

--
-- 10. Privileges: the application calls the API only
--
SET ROLE photo_app;
SELECT fieldops.set_tenant(:pt, false) IS NOT NULL AS pt_chosen;
SELECT regress.sqlerr(q) AS result
  FROM (VALUES
    (format('SELECT fieldops.photo_receipt(%s, 1, now(), %L, %L, %L)', :pt, 'accepted', sha256(''), sha256(''))),
    ('SELECT fieldops.random_bytes(32)'),
    ('SELECT fieldops.device_keys_changed()'),
    (format('UPDATE fieldops.photo SET verdict = %L WHERE tenant_id = %s', 'accepted', :pt)),
    (format('DELETE FROM fieldops.photo_nonce WHERE tenant_id = %s', :pt)),
    (format('INSERT INTO fieldops.device_key (tenant_id, key_id, device_id, algorithm, public_key) VALUES (%s, %L, %s, %L, %L)',
            :pt, sha256('x'), :d3, 'ed25519', :'ed2_pub')),
    ('SELECT fieldops.submit_photo(NULL, ''\x00'', ''\x00'')'),
    (format('SELECT fieldops.submit_photo(%s, NULL, %L)', :pt, '\x00')),
    (format('SELECT fieldops.submit_photo(%s, %L, %L)', :pt, '\x00', decode(repeat('00', 5000), 'hex'))),
    (format('SELECT fieldops.submit_photo(%s, %L, %L)', :pt + 1, '\x00', '\x00'))
  ) AS t(q);
RESET ROLE;
SELECT fieldops.revoke_tenant_access('photo_app', :pt);
DROP ROLE photo_app;
