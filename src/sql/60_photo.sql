--
-- Signed photos: device keys, one-time nonces, the signed manifest, the
-- verdict of every submission, server receipts and a tamper-evident chain.
--
-- A phone's hardware-backed key (Android Keystore, iOS Secure Enclave:
-- ECDSA P-256; or Ed25519) signs a fixed 196-byte manifest binding the
-- photo's SHA-256 to tenant, worker, device, visit, capture time and place,
-- a per-key counter and a nonce the server issued shortly before.
-- submit_photo() verifies all of it against the database and records a
-- verdict (accepted, review, rejected) with its reasons.  Decisions use the
-- server's receive time (statement_timestamp()), never the phone's clock.
--
-- Part of the install script and of the 0.1.0 -> 0.2.0 upgrade script.
--

INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('photo_nonce_ttl_s', 'integer', '900', 30, 86400,
     'Seconds a photo nonce from issue_photo_nonce() stays valid: the signed photo must reach the server within this time.'),
    ('photo_offline_nonce_ttl_s', 'integer', '86400', 600, 1209600,
     'Seconds a nonce from issue_photo_nonces() (a batch for offline work) stays valid.'),
    ('photo_offline_nonce_max', 'integer', '50', 1, 500,
     'How many nonces one issue_photo_nonces() call may issue.'),
    ('photo_key_grace_s', 'integer', '86400', 0, 2592000,
     'After rotate_device_key(), seconds during which the superseded key still signs photos whose nonce was issued before the rotation.'),
    ('photo_clock_tolerance_s', 'integer', '120', 0, 3600,
     'Seconds a photo''s capture time (phone clock) may lie before its nonce''s issue or after the server received it.'),
    ('photo_visit_tolerance_s', 'integer', '300', 0, 86400,
     'Seconds a photo may be taken before the visit''s check-in or after its check-out.'),
    ('geofence_radius_m', 'integer', '200', 10, 5000,
     'Radius in metres around a customer within which a worker is on site (enlarged by the reported accuracy).'),
    ('photo_phash_max_distance', 'integer', '5', 0, 7,
     'Two photos whose 64-bit perceptual hashes differ in at most this many bits are near-duplicates (review).'),
    ('photo_phash_window_days', 'integer', '90', 1, 3650,
     'Days back submit_photo() looks for near-duplicates among the same worker''s and the same customer''s photos.');

--
-- C primitives
--

CREATE FUNCTION fieldops.es256_verify(message bytea, signature bytea, public_key bytea)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fieldops_es256_verify'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.es256_verify(bytea, bytea, bytea) IS
'ECDSA P-256 with SHA-256 (OpenSSL). signature: strict DER (X9.62) or raw 64-byte r||s; public_key: 65-byte uncompressed SEC1 point or DER SubjectPublicKeyInfo. False for a malformed or non-verifying signature; 22023 for a malformed key.';

CREATE FUNCTION fieldops.ed25519_verify(message bytea, signature bytea, public_key bytea)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fieldops_ed25519_verify'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.ed25519_verify(bytea, bytea, bytea) IS
'Ed25519 (libsodium). signature: 64 bytes; public_key: 32 bytes. False for a malformed or non-verifying signature; 22023 for a malformed key (wrong length, not a point, small order).';

CREATE FUNCTION fieldops.canonical_public_key(p_algorithm text, p_public_key bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'fieldops_canonical_public_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.canonical_public_key(text, bytea) IS
'The canonical bytes of a public key: the 65-byte uncompressed point for es256 (from either accepted form), the 32 bytes for ed25519. A device key''s id is their SHA-256. 22023 for an unknown algorithm or a malformed key.';

CREATE FUNCTION fieldops.hamming64(a bigint, b bigint)
RETURNS integer
AS 'MODULE_PATHNAME', 'fieldops_hamming64'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.hamming64(bigint, bigint) IS
'Number of differing bits between two 64-bit perceptual hashes (popcount of a XOR b).';

CREATE FUNCTION fieldops.phash_bands(p_phash bigint)
RETURNS integer[]
AS 'MODULE_PATHNAME', 'fieldops_phash_bands'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.phash_bands(bigint) IS
'The 8 band keys of a 64-bit perceptual hash (band i, bits 8i..8i+7: key 256*i + value). Two hashes at Hamming distance 7 or less share at least one band key (pigeonhole), which is how submit_photo() finds near-duplicates through an index.';

CREATE TYPE fieldops.photo_manifest_fields AS (
    version       integer,
    algorithm     text,
    offline_nonce boolean,
    os_mock       boolean,
    stamped       boolean,
    key_id        bytea,
    tenant_id     bigint,
    worker_id     bigint,
    device_id     bigint,
    visit_id      bigint,
    captured_at   timestamptz,
    latitude      double precision,
    longitude     double precision,
    accuracy_m    real,
    counter       bigint,
    photo_sha256  bytea,
    raw_sha256    bytea,
    nonce         bytea
);
COMMENT ON TYPE fieldops.photo_manifest_fields IS
'A decoded photo manifest v1 (see parse_photo_manifest()). visit_id 0 means no visit; raw_sha256 NULL means not provided; accuracy_m NULL means not reported.';

CREATE FUNCTION fieldops.photo_manifest(p_algorithm text, p_key_id bytea, p_tenant_id bigint, p_worker_id bigint,
                                        p_device_id bigint, p_visit_id bigint, p_captured_at timestamptz,
                                        p_latitude double precision, p_longitude double precision, p_accuracy_m real,
                                        p_counter bigint, p_photo_sha256 bytea, p_raw_sha256 bytea, p_nonce bytea,
                                        p_offline_nonce boolean DEFAULT false, p_os_mock boolean DEFAULT false,
                                        p_stamped boolean DEFAULT false)
RETURNS bytea
AS 'MODULE_PATHNAME', 'fieldops_photo_manifest'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.photo_manifest(text, bytea, bigint, bigint, bigint, bigint, timestamptz, double precision, double precision, real, bigint, bytea, bytea, bytea, boolean, boolean, boolean) IS
'Encode a photo manifest v1: the 196 bytes a phone signs (layout in the README). Capture time is truncated to the millisecond, coordinates rounded to 1e-7 degree, accuracy to the centimetre; p_visit_id 0 and p_raw_sha256 / p_accuracy_m NULL mean none. 22023 naming the argument for values out of range.';

CREATE FUNCTION fieldops.parse_photo_manifest(p_manifest bytea)
RETURNS fieldops.photo_manifest_fields
AS 'MODULE_PATHNAME', 'fieldops_parse_photo_manifest'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.parse_photo_manifest(bytea) IS
'Decode a photo manifest v1 strictly (exact length, magic, version, algorithm, reserved flag bits, every range); 22023 naming the field and its byte offset otherwise.';

CREATE FUNCTION fieldops.photo_manifest_problem(p_manifest bytea)
RETURNS text[]
AS 'MODULE_PATHNAME', 'fieldops_photo_manifest_problem'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.photo_manifest_problem(bytea) IS
'Internal: NULL when parse_photo_manifest() accepts the bytes, else {code, message} of what it would refuse (submit_photo() records it as a rejection instead of raising).';

CREATE FUNCTION fieldops.random_bytes(p_length integer)
RETURNS bytea
AS 'MODULE_PATHNAME', 'fieldops_random_bytes'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.random_bytes(integer) IS
'Internal: p_length (1..1024) bytes from libsodium''s cryptographically secure generator.';

CREATE FUNCTION fieldops.device_keys_changed()
RETURNS void
AS 'MODULE_PATHNAME', 'fieldops_device_keys_changed'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION fieldops.device_keys_changed() IS
'Internal: at commit, tell every backend to drop its cache of parsed public keys (called when a key is rotated or revoked).';

CREATE FUNCTION fieldops.signature_cache_stats(OUT hits bigint, OUT misses bigint, OUT evictions bigint,
                                               OUT resets bigint, OUT entries integer, OUT capacity integer)
RETURNS record
AS 'MODULE_PATHNAME', 'fieldops_signature_cache_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION fieldops.signature_cache_stats() IS
'This backend''s cache of parsed public keys: lookups answered from it (hits), keys parsed (misses), evictions, resets (each rotation or revocation of a device key empties it in every backend), entries in use and capacity.';

CREATE FUNCTION fieldops.receipt_public_key()
RETURNS bytea
AS 'MODULE_PATHNAME', 'fieldops_receipt_public_key'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.receipt_public_key() IS
'The server''s Ed25519 receipt public key (32 bytes), or NULL when no key is configured (fieldops.receipt_key_file, read at server start).';

CREATE FUNCTION fieldops.receipt_key_status()
RETURNS text
AS 'MODULE_PATHNAME', 'fieldops_receipt_key_status'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.receipt_key_status() IS
'Whether this server signs photo receipts: loaded, not configured, not loaded (no preload), or unusable and why (never the key itself).';

CREATE FUNCTION fieldops.photo_receipt(p_tenant_id bigint, p_photo_id bigint, p_received_at timestamptz,
                                       p_verdict text, p_manifest_sha256 bytea, p_chain_hash bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'fieldops_photo_receipt'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION fieldops.photo_receipt(bigint, bigint, timestamptz, text, bytea, bytea) IS
'Internal (submit_photo() only): a signed server receipt v1 over the photo''s verdict, or NULL when no receipt key is configured.';

CREATE FUNCTION fieldops.verify_receipt(p_receipt bytea,
    OUT valid boolean, OUT tenant_id bigint, OUT photo_id bigint, OUT received_at timestamptz,
    OUT verdict text, OUT manifest_sha256 bytea, OUT chain_hash bytea)
RETURNS record
AS 'MODULE_PATHNAME', 'fieldops_verify_receipt'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.verify_receipt(bytea) IS
'Check a receipt from submit_photo() against this server''s receipt key and decode it. valid is false for a receipt that is malformed, altered or signed by another key; 55000 when no receipt key is configured.';

--
-- Visits (the evidence a photo is checked against)
--

CREATE TABLE fieldops.visit (
    tenant_id    bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    visit_id     bigserial NOT NULL,
    worker_id    bigint NOT NULL,
    customer_id  bigint NOT NULL,
    checkin_at   timestamptz NOT NULL,
    checkout_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, visit_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES fieldops.customer (tenant_id, customer_id),
    CONSTRAINT visit_order CHECK (checkout_at IS NULL OR checkout_at OPERATOR(pg_catalog.>=) checkin_at)
);
CREATE INDEX visit_worker_idx ON fieldops.visit (tenant_id, worker_id, checkin_at);
COMMENT ON TABLE fieldops.visit IS
'A worker at a customer between check-in and check-out (checkout_at NULL: still on site). Photos taken for a visit are checked against its time window and the customer''s position.';

--
-- Device keys
--

CREATE TABLE fieldops.device_key (
    tenant_id       bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    device_key_id   bigserial NOT NULL,
    key_id          bytea NOT NULL CHECK (pg_catalog.length(key_id) OPERATOR(pg_catalog.=) 32),
    device_id       bigint NOT NULL,
    algorithm       text NOT NULL CHECK (algorithm IN ('es256', 'ed25519')),
    public_key      bytea NOT NULL,
    attestation     jsonb,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded', 'revoked')),
    registered_at   timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
    superseded_at   timestamptz,
    grace_until     timestamptz,
    revoked_at      timestamptz,
    revoke_reason   text,
    last_counter    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, device_key_id),
    UNIQUE (tenant_id, key_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES fieldops.device (tenant_id, device_id),
    CONSTRAINT device_key_superseded CHECK ((superseded_at IS NULL) = (grace_until IS NULL)),
    CONSTRAINT device_key_revoked CHECK ((status OPERATOR(pg_catalog.=) 'revoked') = (revoked_at IS NOT NULL))
);
CREATE UNIQUE INDEX device_key_active_key ON fieldops.device_key (tenant_id, device_id) WHERE status OPERATOR(pg_catalog.=) 'active';
COMMENT ON TABLE fieldops.device_key IS
'Public keys of devices'' signing keys. key_id = SHA-256 of the canonical public key (canonical_public_key()). One active key per device; a superseded key signs until grace_until for nonces issued before superseded_at; a revoked key signs nothing. last_counter: the highest manifest counter accepted.';

CREATE FUNCTION fieldops.check_device(p_tenant_id bigint, p_device_id bigint)
RETURNS fieldops.device
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    d fieldops.device;
BEGIN
    IF p_device_id IS NULL THEN
        RAISE EXCEPTION 'p_device_id must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO d FROM fieldops.device
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND device_id OPERATOR(pg_catalog.=) p_device_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_device_id % is not a device of tenant %', p_device_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF d.status OPERATOR(pg_catalog.<>) 'active' THEN
        RAISE EXCEPTION 'device % is %', p_device_id, d.status USING ERRCODE = '55000';
    END IF;
    RETURN d;
END
$$;
COMMENT ON FUNCTION fieldops.check_device(bigint, bigint) IS
'Internal: the device row; 22004 for NULL, 23503 if the tenant has no such device, 55000 if it is retired.';

CREATE FUNCTION fieldops.check_device_key_args(p_algorithm text, p_public_key bytea, p_attestation jsonb)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF p_algorithm IS NULL OR p_algorithm NOT IN ('es256', 'ed25519') THEN
        RAISE EXCEPTION 'p_algorithm must be es256 or ed25519, got %', COALESCE(pg_catalog.quote_literal(p_algorithm), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_public_key IS NULL THEN
        RAISE EXCEPTION 'p_public_key must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_attestation IS NOT NULL AND (pg_catalog.jsonb_typeof(p_attestation) OPERATOR(pg_catalog.<>) 'object'
                                      OR pg_catalog.length(p_attestation::text) OPERATOR(pg_catalog.>) 16384) THEN
        RAISE EXCEPTION 'p_attestation must be a JSON object of at most 16 kB (a summary of the attestation, not the certificate chain)'
            USING ERRCODE = '22023';
    END IF;
    RETURN fieldops.canonical_public_key(p_algorithm, p_public_key);
END
$$;
COMMENT ON FUNCTION fieldops.check_device_key_args(text, bytea, jsonb) IS
'Internal: check the arguments of register_device_key() and rotate_device_key(); returns the canonical public key.';

CREATE FUNCTION fieldops.lock_device_keys(p_tenant_id bigint, p_device_id bigint)
RETURNS fieldops.device_key
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    k fieldops.device_key;
BEGIN
    -- the device row's lock orders every change of its keys
    PERFORM 1 FROM fieldops.device d
     WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.device_id OPERATOR(pg_catalog.=) p_device_id FOR UPDATE;
    PERFORM fieldops.check_device(p_tenant_id, p_device_id);
    SELECT * INTO k FROM fieldops.device_key x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_id OPERATOR(pg_catalog.=) p_device_id
       AND x.status OPERATOR(pg_catalog.=) 'active';
    RETURN k;
END
$$;
COMMENT ON FUNCTION fieldops.lock_device_keys(bigint, bigint) IS
'Internal: lock an active device (22004, 23503, 55000 as check_device()) and return its active key (all NULL when it has none).';

CREATE FUNCTION fieldops.add_device_key(p_tenant_id bigint, p_device_id bigint, p_algorithm text, p_public_key bytea,
                                        p_attestation jsonb)
RETURNS bytea
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_key_id bytea := pg_catalog.sha256(p_public_key);
    v_other bigint;
BEGIN
    SELECT k.device_id INTO v_other FROM fieldops.device_key k
     WHERE k.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND k.key_id OPERATOR(pg_catalog.=) v_key_id;
    IF FOUND THEN
        RAISE EXCEPTION 'this public key is already registered (key id %) for device %', pg_catalog.encode(v_key_id, 'hex'), v_other
            USING ERRCODE = '23505', HINT = 'A key is enrolled once; a new key pair needs a new key.';
    END IF;
    BEGIN
        INSERT INTO fieldops.device_key (tenant_id, key_id, device_id, algorithm, public_key, attestation)
        VALUES (p_tenant_id, v_key_id, p_device_id, p_algorithm, p_public_key, p_attestation);
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'a key for device % was registered concurrently', p_device_id
            USING ERRCODE = '40001', HINT = 'Retry the call.';
    END;
    RETURN v_key_id;
END
$$;
COMMENT ON FUNCTION fieldops.add_device_key(bigint, bigint, text, bytea, jsonb) IS
'Internal: insert an active key (canonical bytes) for a device whose previous active key, if any, is already superseded.';

CREATE FUNCTION fieldops.register_device_key(p_tenant_id bigint, p_device_id bigint, p_algorithm text,
                                             p_public_key bytea, p_attestation jsonb DEFAULT NULL)
RETURNS bytea
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_pub bytea;
    k fieldops.device_key;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_pub := fieldops.check_device_key_args(p_algorithm, p_public_key, p_attestation);
    k := fieldops.lock_device_keys(p_tenant_id, p_device_id);
    IF k.device_key_id IS NOT NULL THEN
        IF k.public_key OPERATOR(pg_catalog.=) v_pub THEN
            RETURN k.key_id;            -- the same enrolment sent again
        END IF;
        RAISE EXCEPTION 'device % already has an active key (key id %)', p_device_id, pg_catalog.encode(k.key_id, 'hex')
            USING ERRCODE = '55000', HINT = 'Use fieldops.rotate_device_key() to replace it.';
    END IF;
    RETURN fieldops.add_device_key(p_tenant_id, p_device_id, p_algorithm, v_pub, p_attestation);
END
$$;
COMMENT ON FUNCTION fieldops.register_device_key(bigint, bigint, text, bytea, jsonb) IS
'Enrol a device''s signing key (es256: 65-byte SEC1 point or DER SubjectPublicKeyInfo; ed25519: 32 bytes) with an optional attestation summary; returns the key id (SHA-256 of the canonical key). Idempotent for the same key; 55000 if the device already has another active key.';

CREATE FUNCTION fieldops.rotate_device_key(p_tenant_id bigint, p_device_id bigint, p_algorithm text,
                                           p_public_key bytea, p_attestation jsonb DEFAULT NULL)
RETURNS bytea
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_pub bytea;
    v_now timestamptz := pg_catalog.statement_timestamp();
    k fieldops.device_key;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_pub := fieldops.check_device_key_args(p_algorithm, p_public_key, p_attestation);
    k := fieldops.lock_device_keys(p_tenant_id, p_device_id);
    IF k.device_key_id IS NULL THEN
        RAISE EXCEPTION 'device % has no active key to rotate', p_device_id
            USING ERRCODE = '55000', HINT = 'Use fieldops.register_device_key() for its first key.';
    END IF;
    IF k.public_key OPERATOR(pg_catalog.=) v_pub THEN
        RAISE EXCEPTION 'the new key is the device''s current key' USING ERRCODE = '22023';
    END IF;
    UPDATE fieldops.device_key
       SET status = 'superseded', superseded_at = v_now,
           grace_until = v_now OPERATOR(pg_catalog.+)
               pg_catalog.make_interval(secs => (fieldops.tenant_setting(p_tenant_id, 'photo_key_grace_s'))::text::double precision)
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND device_key_id OPERATOR(pg_catalog.=) k.device_key_id;
    PERFORM fieldops.device_keys_changed();
    RETURN fieldops.add_device_key(p_tenant_id, p_device_id, p_algorithm, v_pub, p_attestation);
END
$$;
COMMENT ON FUNCTION fieldops.rotate_device_key(bigint, bigint, text, bytea, jsonb) IS
'Replace a device''s active key; returns the new key id. The old key is superseded: for photo_key_grace_s it still signs photos whose nonce was issued before the rotation.';

CREATE FUNCTION fieldops.revoke_device_key(p_tenant_id bigint, p_key_id bytea, p_reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_reason text := fieldops.check_text(p_reason, 'p_reason', 500);
    k fieldops.device_key;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_key_id IS NULL OR pg_catalog.length(p_key_id) OPERATOR(pg_catalog.<>) 32 THEN
        RAISE EXCEPTION 'p_key_id must be the 32-byte key id from register_device_key()' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO k FROM fieldops.device_key x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.key_id OPERATOR(pg_catalog.=) p_key_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no device key % in tenant %', pg_catalog.encode(p_key_id, 'hex'), p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF k.status OPERATOR(pg_catalog.=) 'revoked' THEN
        RETURN;
    END IF;
    UPDATE fieldops.device_key
       SET status = 'revoked', revoked_at = pg_catalog.statement_timestamp(), revoke_reason = v_reason
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND device_key_id OPERATOR(pg_catalog.=) k.device_key_id;
    PERFORM fieldops.device_keys_changed();
END
$$;
COMMENT ON FUNCTION fieldops.revoke_device_key(bigint, bytea, text) IS
'Revoke a device key (lost or compromised phone): from now on it signs nothing. Idempotent.';

--
-- Nonces
--

CREATE TABLE fieldops.photo_nonce (
    tenant_id   bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    nonce       bytea NOT NULL CHECK (pg_catalog.length(nonce) OPERATOR(pg_catalog.=) 32),
    device_id   bigint NOT NULL,
    visit_id    bigint,
    offline     boolean NOT NULL,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    photo_id    bigint,
    PRIMARY KEY (tenant_id, nonce),
    FOREIGN KEY (tenant_id, device_id) REFERENCES fieldops.device (tenant_id, device_id),
    FOREIGN KEY (tenant_id, visit_id) REFERENCES fieldops.visit (tenant_id, visit_id),
    CONSTRAINT photo_nonce_used CHECK ((used_at IS NULL) = (photo_id IS NULL))
);
CREATE INDEX photo_nonce_expiry_idx ON fieldops.photo_nonce (tenant_id, expires_at);
COMMENT ON TABLE fieldops.photo_nonce IS
'One-time nonces issued to devices. A photo signed over a nonce was taken after issued_at; the nonce is consumed (used_at, photo_id) by the first submission whose signature verifies.';

CREATE FUNCTION fieldops.new_photo_nonces(p_tenant_id bigint, p_device_id bigint, p_visit_id bigint, p_count integer,
                                          p_offline boolean)
RETURNS SETOF bytea
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    d fieldops.device;
    v fieldops.visit;
    v_now timestamptz := pg_catalog.statement_timestamp();
    v_ttl double precision;
BEGIN
    d := fieldops.check_device(p_tenant_id, p_device_id);
    IF d.worker_id IS NULL THEN
        RAISE EXCEPTION 'device % is not bound to a worker', p_device_id
            USING ERRCODE = '55000', HINT = 'fieldops.register_device() binds a device to a worker.';
    END IF;
    IF p_visit_id IS NOT NULL THEN
        SELECT * INTO v FROM fieldops.visit x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.visit_id OPERATOR(pg_catalog.=) p_visit_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'p_visit_id % is not a visit of tenant %', p_visit_id, p_tenant_id USING ERRCODE = '23503';
        END IF;
        IF v.worker_id OPERATOR(pg_catalog.<>) d.worker_id THEN
            RAISE EXCEPTION 'visit % is worker %''s, but device % is bound to worker %', p_visit_id, v.worker_id,
                p_device_id, d.worker_id USING ERRCODE = '22023';
        END IF;
    END IF;
    v_ttl := (fieldops.tenant_setting(p_tenant_id,
                  CASE WHEN p_offline THEN 'photo_offline_nonce_ttl_s' ELSE 'photo_nonce_ttl_s' END))::text::double precision;
    RETURN QUERY
    INSERT INTO fieldops.photo_nonce (tenant_id, nonce, device_id, visit_id, offline, issued_at, expires_at)
    SELECT p_tenant_id, fieldops.random_bytes(32), p_device_id, p_visit_id, p_offline, v_now,
           v_now OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs => v_ttl)
      FROM pg_catalog.generate_series(1, p_count)
    RETURNING nonce;
END
$$;
COMMENT ON FUNCTION fieldops.new_photo_nonces(bigint, bigint, bigint, integer, boolean) IS
'Internal: issue p_count nonces to an active, bound device (optionally for one of its worker''s visits).';

CREATE FUNCTION fieldops.issue_photo_nonce(p_tenant_id bigint, p_device_id bigint, p_visit_id bigint DEFAULT NULL)
RETURNS bytea
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    RETURN (SELECT n FROM fieldops.new_photo_nonces(p_tenant_id, p_device_id, p_visit_id, 1, false) AS n);
END
$$;
COMMENT ON FUNCTION fieldops.issue_photo_nonce(bigint, bigint, bigint) IS
'32 random bytes the device must sign into its next photo''s manifest: single use, valid for photo_nonce_ttl_s, bound to the device (and to p_visit_id when given). Proves the photo was taken after now.';

CREATE FUNCTION fieldops.issue_photo_nonces(p_tenant_id bigint, p_device_id bigint, p_count integer)
RETURNS SETOF bytea
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_max integer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_max := (fieldops.tenant_setting(p_tenant_id, 'photo_offline_nonce_max'))::text::integer;
    IF p_count IS NULL OR p_count OPERATOR(pg_catalog.<) 1 OR p_count OPERATOR(pg_catalog.>) v_max THEN
        RAISE EXCEPTION 'p_count must be between 1 and % (photo_offline_nonce_max), got %', v_max, p_count
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT n FROM fieldops.new_photo_nonces(p_tenant_id, p_device_id, NULL, p_count, true) AS n;
END
$$;
COMMENT ON FUNCTION fieldops.issue_photo_nonces(bigint, bigint, integer) IS
'A batch of nonces for a device going offline: each single use and valid for photo_offline_nonce_ttl_s; the manifest must set its offline-nonce flag.';

CREATE FUNCTION fieldops.job_photo_nonce_purge(p_tenant_id bigint, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_days integer := fieldops.job_int_arg(p_args, 'keep_days', 1, 3650, 7);
    v_batch integer := fieldops.job_int_arg(p_args, 'batch', 1, 1000000, 10000);
    n integer;
BEGIN
    -- a deleted nonce cannot be replayed either: a manifest over it is
    -- refused as unknown_nonce (the photo rows keep the nonce they used)
    DELETE FROM fieldops.photo_nonce x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND x.nonce IN (SELECT y.nonce FROM fieldops.photo_nonce y
                        WHERE y.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                          AND y.expires_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => v_days))
                        LIMIT v_batch);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN pg_catalog.jsonb_build_object('deleted', n, 'keep_days', v_days, 'more', n OPERATOR(pg_catalog.=) v_batch);
END
$$;
COMMENT ON FUNCTION fieldops.job_photo_nonce_purge(bigint, jsonb) IS
'Job (per tenant): delete photo nonces (used or not) that expired more than args.keep_days (default 7) ago, at most args.batch per run. Until then a late upload is told nonce_expired; afterwards unknown_nonce.';

--
-- Photos, their verdicts and the chain
--

CREATE TABLE fieldops.photo (
    tenant_id        bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    photo_id         bigserial NOT NULL,
    chain_seq        bigint NOT NULL,
    received_at      timestamptz NOT NULL,
    manifest         bytea NOT NULL,
    manifest_sha256  bytea NOT NULL,
    signature        bytea NOT NULL,
    signature_ok     boolean NOT NULL,
    verdict          text NOT NULL CHECK (verdict IN ('accepted', 'review', 'rejected')),
    reasons          jsonb NOT NULL,
    worker_id        bigint,
    device_id        bigint,
    visit_id         bigint,
    customer_id      bigint,
    key_id           bytea,
    captured_at      timestamptz,
    geom             geometry(Point, 4326),
    accuracy_m       real,
    counter          bigint,
    photo_sha256     bytea,
    raw_sha256       bytea,
    nonce            bytea,
    phash            bigint,
    chain_prev       bytea NOT NULL,
    chain_hash       bytea NOT NULL,
    receipt          bytea,
    PRIMARY KEY (tenant_id, photo_id),
    UNIQUE (tenant_id, manifest_sha256),
    UNIQUE (tenant_id, chain_seq)
);
CREATE INDEX photo_sha256_idx ON fieldops.photo (tenant_id, photo_sha256) WHERE signature_ok;
CREATE INDEX photo_raw_sha256_idx ON fieldops.photo (tenant_id, raw_sha256) WHERE signature_ok AND raw_sha256 IS NOT NULL;
CREATE INDEX photo_worker_idx ON fieldops.photo (tenant_id, worker_id, received_at);
CREATE INDEX photo_visit_idx ON fieldops.photo (tenant_id, visit_id) WHERE visit_id IS NOT NULL;
COMMENT ON TABLE fieldops.photo IS
'Every photo submission with its verdict and reasons, written by submit_photo() only: one row per distinct manifest (a resent manifest is a replay, not a new row). Rows of a tenant form a hash chain (chain_seq, chain_prev, chain_hash) that verify_photo_chain() checks.';
COMMENT ON COLUMN fieldops.photo.signature_ok IS 'The manifest parsed and its signature verified with the registered key; only such photos count for reuse and near-duplicate checks.';
COMMENT ON COLUMN fieldops.photo.received_at IS 'When the server received the submission (statement time): all time decisions use it, not the phone''s clock.';

CREATE TABLE fieldops.photo_phash_band (
    tenant_id    bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    photo_id     bigint NOT NULL,
    band_key     integer NOT NULL,
    worker_id    bigint NOT NULL,
    customer_id  bigint,
    received_at  timestamptz NOT NULL,
    phash        bigint NOT NULL,
    PRIMARY KEY (tenant_id, photo_id, band_key),
    FOREIGN KEY (tenant_id, photo_id) REFERENCES fieldops.photo (tenant_id, photo_id)
);
CREATE INDEX photo_phash_band_worker_idx ON fieldops.photo_phash_band (tenant_id, worker_id, band_key, received_at);
CREATE INDEX photo_phash_band_customer_idx ON fieldops.photo_phash_band (tenant_id, customer_id, band_key, received_at)
    WHERE customer_id IS NOT NULL;
COMMENT ON TABLE fieldops.photo_phash_band IS
'Index of perceptual hashes by band (phash_bands()): a near-duplicate within 7 bits shares a band key, so the search looks up 8 keys per worker or customer and checks hamming64() on the few candidates.';

CREATE TABLE fieldops.photo_chain_head (
    tenant_id   bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    last_seq    bigint NOT NULL,
    last_hash   bytea NOT NULL,
    PRIMARY KEY (tenant_id)
);
COMMENT ON TABLE fieldops.photo_chain_head IS
'The end of each tenant''s photo chain; submit_photo() locks it, so a tenant''s photos are chained one at a time.';

CREATE FUNCTION fieldops.photo_chain_hash(p_prev bytea, p_photo_id bigint, p_seq bigint, p_received_at timestamptz,
                                          p_manifest_sha256 bytea, p_signature bytea, p_verdict text, p_reasons jsonb)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.sha256(p_prev
        OPERATOR(pg_catalog.||) pg_catalog.int8send(p_photo_id)
        OPERATOR(pg_catalog.||) pg_catalog.int8send(p_seq)
        OPERATOR(pg_catalog.||) pg_catalog.int8send((pg_catalog.extract('epoch', p_received_at) OPERATOR(pg_catalog.*) 1000000)::bigint)
        OPERATOR(pg_catalog.||) p_manifest_sha256
        OPERATOR(pg_catalog.||) pg_catalog.sha256(p_signature)
        OPERATOR(pg_catalog.||) pg_catalog.convert_to(p_verdict, 'UTF8')
        OPERATOR(pg_catalog.||) pg_catalog.sha256(pg_catalog.convert_to(p_reasons::text, 'UTF8')))
$$;
COMMENT ON FUNCTION fieldops.photo_chain_hash(bytea, bigint, bigint, timestamptz, bytea, bytea, text, jsonb) IS
'Internal: the chain hash of a photo entry: SHA-256 over the previous hash, id, sequence number, receive time (microseconds), manifest hash, signature hash, verdict and reasons.';

CREATE FUNCTION fieldops.photo_reason(p_code text, p_severity text, p_text text, p_detail jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('code', p_code, 'severity', p_severity, 'text', p_text)
           OPERATOR(pg_catalog.||) COALESCE(p_detail, '{}')
$$;
COMMENT ON FUNCTION fieldops.photo_reason(text, text, text, jsonb) IS
'Internal: one reason of a photo verdict: a stable code, its severity (reject, review or info), a sentence and the numbers behind it.';

CREATE FUNCTION fieldops.submit_photo(p_tenant_id bigint, p_manifest bytea, p_signature bytea, p_phash bigint DEFAULT NULL)
RETURNS TABLE (photo_id bigint, verdict text, reasons jsonb, receipt bytea, replay boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_now timestamptz := pg_catalog.statement_timestamp();
    v_msha bytea;
    v_problem text[];
    m fieldops.photo_manifest_fields;
    k fieldops.device_key;
    d fieldops.device;
    n fieldops.photo_nonce;
    v fieldops.visit;
    p fieldops.photo;
    h fieldops.photo_chain_head;
    v_reasons jsonb[] := '{}';
    v_sig_ok boolean := false;
    v_stateful boolean := false;
    v_customer bigint;
    v_geom geometry;
    v_clock_tol double precision;
    v_visit_tol double precision;
    v_dist double precision;
    v_allowed double precision;
    v_site geometry;
    v_prior record;
    v_verdict text;
    v_id bigint;
    v_seq bigint;
    v_prev bytea;
    v_hash bytea;
    v_receipt bytea;
    v_all jsonb;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_manifest IS NULL OR p_signature IS NULL THEN
        RAISE EXCEPTION 'p_manifest and p_signature must not be null' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.length(p_manifest) OPERATOR(pg_catalog.>) 4096 OR pg_catalog.length(p_signature) OPERATOR(pg_catalog.>) 4096 THEN
        RAISE EXCEPTION 'p_manifest and p_signature must be at most 4096 bytes each (a manifest v1 is 196)'
            USING ERRCODE = '22023';
    END IF;
    v_msha := pg_catalog.sha256(p_manifest);

    -- a manifest seen before is a replay: report the first submission
    SELECT * INTO p FROM fieldops.photo x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.manifest_sha256 OPERATOR(pg_catalog.=) v_msha;
    IF FOUND THEN
        RETURN QUERY SELECT p.photo_id, p.verdict, p.reasons OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(
            fieldops.photo_reason('replay', 'info', 'This manifest was submitted before; the first submission''s verdict stands and nothing was recorded again.',
                pg_catalog.jsonb_build_object('first_received_at', p.received_at))), p.receipt, true;
        RETURN;
    END IF;

    --
    -- Checks that need no lock: layout, identity, key, signature, place
    --
    v_problem := fieldops.photo_manifest_problem(p_manifest);
    IF v_problem IS NOT NULL THEN
        v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('bad_manifest', 'reject',
            'The manifest is not a valid photo manifest v1: ' OPERATOR(pg_catalog.||) v_problem[2],
            pg_catalog.jsonb_build_object('problem', v_problem[1]));
    ELSE
        m := fieldops.parse_photo_manifest(p_manifest);
        v_geom := public.ST_SetSRID(public.ST_MakePoint(m.longitude, m.latitude), 4326);
        IF m.tenant_id OPERATOR(pg_catalog.<>) p_tenant_id THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('tenant_mismatch', 'reject',
                'The manifest names another tenant.', pg_catalog.jsonb_build_object('manifest_tenant_id', m.tenant_id));
        END IF;
        SELECT * INTO k FROM fieldops.device_key x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.key_id OPERATOR(pg_catalog.=) m.key_id;
        IF NOT FOUND THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('unknown_key', 'reject',
                'No device key with this key id is registered.', pg_catalog.jsonb_build_object('key_id', pg_catalog.encode(m.key_id, 'hex')));
        ELSE
            IF k.device_id OPERATOR(pg_catalog.<>) m.device_id THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('key_device_mismatch', 'reject',
                    'The signing key belongs to another device.', pg_catalog.jsonb_build_object('key_device_id', k.device_id));
            END IF;
            IF k.algorithm OPERATOR(pg_catalog.<>) m.algorithm THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('algorithm_mismatch', 'reject',
                    'The manifest names another algorithm than the key''s.', pg_catalog.jsonb_build_object('key_algorithm', k.algorithm));
            ELSIF (CASE k.algorithm WHEN 'es256' THEN fieldops.es256_verify(p_manifest, p_signature, k.public_key)
                                    ELSE fieldops.ed25519_verify(p_manifest, p_signature, k.public_key) END) THEN
                v_sig_ok := true;
            ELSE
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('bad_signature', 'reject',
                    'The signature does not verify with the device''s key over these manifest bytes.');
            END IF;
            IF k.status OPERATOR(pg_catalog.=) 'revoked' THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('key_revoked', 'reject',
                    'The signing key was revoked before this photo was received.',
                    pg_catalog.jsonb_build_object('revoked_at', k.revoked_at, 'revoke_reason', k.revoke_reason));
            END IF;
        END IF;
        SELECT * INTO d FROM fieldops.device x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_id OPERATOR(pg_catalog.=) m.device_id;
        IF NOT FOUND OR d.status OPERATOR(pg_catalog.<>) 'active' THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('device_unknown', 'reject',
                'The manifest''s device is not an active device of this tenant.', pg_catalog.jsonb_build_object('device_id', m.device_id));
        ELSIF d.worker_id IS DISTINCT FROM m.worker_id THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('device_not_bound', 'reject',
                'The device is not bound to the manifest''s worker.',
                pg_catalog.jsonb_build_object('bound_worker_id', d.worker_id, 'manifest_worker_id', m.worker_id));
        END IF;
        v_clock_tol := (fieldops.tenant_setting(p_tenant_id, 'photo_clock_tolerance_s'))::text::double precision;
        IF m.captured_at OPERATOR(pg_catalog.>) (v_now OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs => v_clock_tol)) THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('captured_in_future', 'reject',
                'The capture time is after the server received the photo (beyond photo_clock_tolerance_s).',
                pg_catalog.jsonb_build_object('seconds_after_receipt',
                    pg_catalog.round(pg_catalog.extract('epoch', m.captured_at OPERATOR(pg_catalog.-) v_now), 3)));
        END IF;
        IF m.visit_id OPERATOR(pg_catalog.=) 0 THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('no_visit', 'info',
                'The photo names no visit, so its time and place were not checked against one.');
        ELSE
            SELECT * INTO v FROM fieldops.visit x
             WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.visit_id OPERATOR(pg_catalog.=) m.visit_id;
            IF NOT FOUND THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('unknown_visit', 'reject',
                    'The manifest names a visit this tenant does not have.', pg_catalog.jsonb_build_object('visit_id', m.visit_id));
            ELSIF v.worker_id OPERATOR(pg_catalog.<>) m.worker_id THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('visit_worker_mismatch', 'reject',
                    'The visit is another worker''s.', pg_catalog.jsonb_build_object('visit_worker_id', v.worker_id));
            ELSE
                v_customer := v.customer_id;
                v_visit_tol := (fieldops.tenant_setting(p_tenant_id, 'photo_visit_tolerance_s'))::text::double precision;
                IF m.captured_at OPERATOR(pg_catalog.<) (v.checkin_at OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => v_visit_tol))
                   OR m.captured_at OPERATOR(pg_catalog.>) (COALESCE(v.checkout_at, v_now) OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs => v_visit_tol)) THEN
                    v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('outside_visit', 'review',
                        'The photo was taken outside the visit''s check-in..check-out window (with photo_visit_tolerance_s).',
                        pg_catalog.jsonb_build_object('captured_at', m.captured_at, 'checkin_at', v.checkin_at,
                                                      'checkout_at', v.checkout_at, 'tolerance_s', v_visit_tol));
                END IF;
                SELECT c.geom INTO v_site FROM fieldops.customer c
                 WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.customer_id OPERATOR(pg_catalog.=) v.customer_id;
                IF v_site IS NULL THEN
                    v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('site_unknown', 'review',
                        'The visit''s customer has no position, so the photo''s place was not checked.');
                ELSE
                    v_dist := public.ST_Distance(v_geom::public.geography, v_site::public.geography);
                    v_allowed := (fieldops.tenant_setting(p_tenant_id, 'geofence_radius_m'))::text::double precision
                                 OPERATOR(pg_catalog.+) COALESCE(m.accuracy_m, 0);
                    IF v_dist OPERATOR(pg_catalog.>) v_allowed THEN
                        v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('off_site', 'reject',
                            'The photo was taken farther from the customer than the geofence radius plus the reported accuracy.',
                            pg_catalog.jsonb_build_object('distance_m', pg_catalog.round(v_dist::numeric, 1),
                                                          'allowed_m', pg_catalog.round(v_allowed::numeric, 1)));
                    END IF;
                END IF;
            END IF;
        END IF;
        IF m.os_mock THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('os_mock_location', 'review',
                'The phone''s operating system flagged its location as coming from a mock provider.');
        END IF;
    END IF;

    --
    -- Checks of state, one submission of the tenant at a time: the chain
    -- head's lock orders them, so nonce use, counters, reuse and the chain
    -- see every earlier submission
    --
    INSERT INTO fieldops.photo_chain_head (tenant_id, last_seq, last_hash)
    VALUES (p_tenant_id, 0, pg_catalog.sha256(pg_catalog.convert_to('fieldops photo chain ' OPERATOR(pg_catalog.||) p_tenant_id, 'UTF8')))
    ON CONFLICT (tenant_id) DO NOTHING;
    SELECT * INTO h FROM fieldops.photo_chain_head x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id FOR UPDATE;

    -- the same manifest may have been recorded while this one waited
    SELECT * INTO p FROM fieldops.photo x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.manifest_sha256 OPERATOR(pg_catalog.=) v_msha;
    IF FOUND THEN
        RETURN QUERY SELECT p.photo_id, p.verdict, p.reasons OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(
            fieldops.photo_reason('replay', 'info', 'This manifest was submitted before; the first submission''s verdict stands and nothing was recorded again.',
                pg_catalog.jsonb_build_object('first_received_at', p.received_at))), p.receipt, true;
        RETURN;
    END IF;
    v_id := pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('fieldops.photo', 'photo_id'));

    v_stateful := v_sig_ok AND m.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND k.device_id OPERATOR(pg_catalog.=) m.device_id;
    IF v_stateful THEN
        SELECT * INTO n FROM fieldops.photo_nonce x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.nonce OPERATOR(pg_catalog.=) m.nonce FOR UPDATE;
        IF NOT FOUND THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('unknown_nonce', 'reject',
                'The server never issued this nonce.');
        ELSIF n.device_id OPERATOR(pg_catalog.<>) m.device_id THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('nonce_other_device', 'reject',
                'The nonce was issued to another device.', pg_catalog.jsonb_build_object('nonce_device_id', n.device_id));
        ELSIF n.used_at IS NOT NULL THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('nonce_used', 'reject',
                'The nonce was already used by another photo.', pg_catalog.jsonb_build_object('used_by_photo_id', n.photo_id));
        ELSE
            UPDATE fieldops.photo_nonce SET used_at = v_now, photo_id = v_id
             WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND nonce OPERATOR(pg_catalog.=) n.nonce AND used_at IS NULL;
            IF n.expires_at OPERATOR(pg_catalog.<) v_now THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('nonce_expired', 'reject',
                    'The photo reached the server after its nonce expired.',
                    pg_catalog.jsonb_build_object('expired_at', n.expires_at));
            END IF;
            IF n.offline IS DISTINCT FROM m.offline_nonce THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('nonce_kind_mismatch', 'review',
                    'The manifest''s offline-nonce flag does not match how the nonce was issued.',
                    pg_catalog.jsonb_build_object('issued_offline', n.offline));
            END IF;
            IF n.visit_id IS NOT NULL AND n.visit_id OPERATOR(pg_catalog.<>) m.visit_id THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('nonce_other_visit', 'reject',
                    'The nonce was issued for another visit.', pg_catalog.jsonb_build_object('nonce_visit_id', n.visit_id));
            END IF;
            IF m.captured_at OPERATOR(pg_catalog.<) (n.issued_at OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => v_clock_tol)) THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('captured_before_nonce', 'reject',
                    'The capture time is before the nonce was issued (beyond photo_clock_tolerance_s): the photo cannot have been taken for it.',
                    pg_catalog.jsonb_build_object('seconds_before_nonce',
                        pg_catalog.round(pg_catalog.extract('epoch', n.issued_at OPERATOR(pg_catalog.-) m.captured_at), 3)));
            END IF;
            IF k.status OPERATOR(pg_catalog.=) 'superseded'
               AND (v_now OPERATOR(pg_catalog.>) k.grace_until OR n.issued_at OPERATOR(pg_catalog.>=) k.superseded_at) THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('key_superseded', 'reject',
                    'The signing key was replaced: it only signs photos whose nonce predates the rotation, until its grace period ends.',
                    pg_catalog.jsonb_build_object('superseded_at', k.superseded_at, 'grace_until', k.grace_until));
            END IF;
        END IF;

        -- counters only go up: an equal or lower one is a replayed or cloned signer
        UPDATE fieldops.device_key SET last_counter = m.counter
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND device_key_id OPERATOR(pg_catalog.=) k.device_key_id
           AND last_counter OPERATOR(pg_catalog.<) m.counter;
        IF NOT FOUND THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('counter_not_increasing', 'reject',
                'The key''s counter did not increase: this key already signed a manifest with this counter or a higher one.',
                pg_catalog.jsonb_build_object('counter', m.counter, 'last_counter', k.last_counter));
        END IF;

        SELECT x.photo_id, x.worker_id INTO v_prior FROM fieldops.photo x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.signature_ok
           AND (x.photo_sha256 OPERATOR(pg_catalog.=) m.photo_sha256
                OR (m.raw_sha256 IS NOT NULL AND x.raw_sha256 OPERATOR(pg_catalog.=) m.raw_sha256))
         ORDER BY x.photo_id LIMIT 1;
        IF FOUND THEN
            v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('reused_photo', 'reject',
                'The same image was submitted before.',
                pg_catalog.jsonb_build_object('earlier_photo_id', v_prior.photo_id, 'earlier_worker_id', v_prior.worker_id));
        ELSIF p_phash IS NOT NULL THEN
            SELECT b.photo_id, fieldops.hamming64(b.phash, p_phash) AS distance INTO v_prior
              FROM fieldops.photo_phash_band b
             WHERE b.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
               AND b.band_key OPERATOR(pg_catalog.=) ANY (fieldops.phash_bands(p_phash))
               AND (b.worker_id OPERATOR(pg_catalog.=) m.worker_id OR b.customer_id OPERATOR(pg_catalog.=) v_customer)
               AND b.received_at OPERATOR(pg_catalog.>=) (v_now OPERATOR(pg_catalog.-)
                   pg_catalog.make_interval(days => (fieldops.tenant_setting(p_tenant_id, 'photo_phash_window_days'))::text::integer))
               AND fieldops.hamming64(b.phash, p_phash) OPERATOR(pg_catalog.<=)
                   (fieldops.tenant_setting(p_tenant_id, 'photo_phash_max_distance'))::text::integer
             ORDER BY 2, 1 LIMIT 1;
            IF FOUND THEN
                v_reasons := v_reasons OPERATOR(pg_catalog.||) fieldops.photo_reason('near_duplicate', 'review',
                    'The image looks almost the same as an earlier photo of this worker or customer.',
                    pg_catalog.jsonb_build_object('earlier_photo_id', v_prior.photo_id, 'hamming_distance', v_prior.distance));
            END IF;
        END IF;
    END IF;

    v_all := pg_catalog.to_jsonb(v_reasons);
    v_verdict := CASE
        WHEN v_all OPERATOR(pg_catalog.@>) '[{"severity": "reject"}]' THEN 'rejected'
        WHEN v_all OPERATOR(pg_catalog.@>) '[{"severity": "review"}]' THEN 'review'
        ELSE 'accepted' END;
    v_seq := h.last_seq OPERATOR(pg_catalog.+) 1;
    v_prev := h.last_hash;
    v_hash := fieldops.photo_chain_hash(v_prev, v_id, v_seq, v_now, v_msha, p_signature, v_verdict, v_all);
    v_receipt := fieldops.photo_receipt(p_tenant_id, v_id, v_now, v_verdict, v_msha, v_hash);
    IF v_receipt IS NULL THEN
        v_all := v_all OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(fieldops.photo_reason('no_receipt', 'info',
            'The server has no usable receipt key (fieldops.receipt_key_file), so no receipt was signed.',
            pg_catalog.jsonb_build_object('receipt_key', fieldops.receipt_key_status())));
        v_hash := fieldops.photo_chain_hash(v_prev, v_id, v_seq, v_now, v_msha, p_signature, v_verdict, v_all);
    END IF;

    INSERT INTO fieldops.photo (tenant_id, photo_id, chain_seq, received_at, manifest, manifest_sha256, signature,
                                signature_ok, verdict, reasons, worker_id, device_id, visit_id, customer_id, key_id,
                                captured_at, geom, accuracy_m, counter, photo_sha256, raw_sha256, nonce, phash,
                                chain_prev, chain_hash, receipt)
    VALUES (p_tenant_id, v_id, v_seq, v_now, p_manifest, v_msha, p_signature, v_stateful, v_verdict, v_all,
            m.worker_id, m.device_id, NULLIF(m.visit_id, 0), v_customer, m.key_id, m.captured_at, v_geom, m.accuracy_m,
            m.counter, m.photo_sha256, m.raw_sha256, m.nonce, p_phash, v_prev, v_hash, v_receipt);
    IF v_stateful AND p_phash IS NOT NULL THEN
        INSERT INTO fieldops.photo_phash_band (tenant_id, photo_id, band_key, worker_id, customer_id, received_at, phash)
        SELECT p_tenant_id, v_id, b, m.worker_id, v_customer, v_now, p_phash
          FROM pg_catalog.unnest(fieldops.phash_bands(p_phash)) AS b;
    END IF;
    UPDATE fieldops.photo_chain_head SET last_seq = v_seq, last_hash = v_hash
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id;
    RETURN QUERY SELECT v_id, v_verdict, v_all, v_receipt, false;
END
$$;
COMMENT ON FUNCTION fieldops.submit_photo(bigint, bytea, bytea, bigint) IS
'Verify a signed photo manifest (layout, key, signature, nonce, counter, times, visit window, distance to the customer, reuse, near-duplicates by p_phash) and record the verdict (accepted, review or rejected) with its reasons and a signed server receipt. A manifest sent again is reported as a replay (replay = true, the first verdict) and not recorded twice.';

CREATE FUNCTION fieldops.verify_photo_chain(p_tenant_id bigint)
RETURNS TABLE (ok boolean, photos_checked bigint, first_bad_photo_id bigint, first_bad_seq bigint, problem text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
DECLARE
    r record;
    h fieldops.photo_chain_head;
    v_prev bytea;
    v_seq bigint := 0;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    SELECT * INTO h FROM fieldops.photo_chain_head x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM fieldops.photo x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id) THEN
            RETURN QUERY SELECT false, 0::bigint, NULL::bigint, NULL::bigint, 'the chain head is missing'::text;
        ELSE
            RETURN QUERY SELECT true, 0::bigint, NULL::bigint, NULL::bigint, NULL::text;
        END IF;
        RETURN;
    END IF;
    v_prev := pg_catalog.sha256(pg_catalog.convert_to('fieldops photo chain ' OPERATOR(pg_catalog.||) p_tenant_id, 'UTF8'));
    FOR r IN
        SELECT x.photo_id, x.chain_seq, x.received_at, x.manifest, x.manifest_sha256, x.signature, x.verdict, x.reasons,
               x.chain_prev, x.chain_hash
          FROM fieldops.photo x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id ORDER BY x.chain_seq
    LOOP
        v_seq := v_seq OPERATOR(pg_catalog.+) 1;
        IF r.chain_seq OPERATOR(pg_catalog.<>) v_seq THEN
            RETURN QUERY SELECT false, v_seq OPERATOR(pg_catalog.-) 1, r.photo_id, v_seq,
                pg_catalog.format('entry %s is missing (the next one present is %s): a photo was deleted', v_seq, r.chain_seq);
            RETURN;
        END IF;
        IF r.chain_prev OPERATOR(pg_catalog.<>) v_prev THEN
            RETURN QUERY SELECT false, v_seq OPERATOR(pg_catalog.-) 1, r.photo_id, v_seq,
                'the entry does not point to the previous entry''s hash'::text;
            RETURN;
        END IF;
        IF r.manifest_sha256 OPERATOR(pg_catalog.<>) pg_catalog.sha256(r.manifest)
           OR r.chain_hash OPERATOR(pg_catalog.<>) fieldops.photo_chain_hash(r.chain_prev, r.photo_id, r.chain_seq,
                  r.received_at, r.manifest_sha256, r.signature, r.verdict, r.reasons) THEN
            RETURN QUERY SELECT false, v_seq OPERATOR(pg_catalog.-) 1, r.photo_id, v_seq,
                'the entry was altered after it was recorded (its hash does not match its content)'::text;
            RETURN;
        END IF;
        v_prev := r.chain_hash;
    END LOOP;
    IF h.last_seq OPERATOR(pg_catalog.<>) v_seq OR h.last_hash OPERATOR(pg_catalog.<>) v_prev THEN
        RETURN QUERY SELECT false, v_seq, NULL::bigint, v_seq OPERATOR(pg_catalog.+) 1,
            pg_catalog.format('the chain ends at entry %s but its head says %s: the last entries were deleted', v_seq, h.last_seq);
        RETURN;
    END IF;
    RETURN QUERY SELECT true, v_seq, NULL::bigint, NULL::bigint, NULL::text;
END
$$;
COMMENT ON FUNCTION fieldops.verify_photo_chain(bigint) IS
'Recompute a tenant''s photo hash chain: ok, or the first entry that was edited, deleted or re-linked. Receipts carry the chain hash, so a chain rewritten as a whole no longer matches the receipts clients hold.';

--
-- Security
--
SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.visit', 'fieldops.device_key', 'fieldops.photo_nonce', 'fieldops.photo',
                               'fieldops.photo_phash_band', 'fieldops.photo_chain_head']) AS t;

GRANT EXECUTE ON FUNCTION
    fieldops.es256_verify(bytea, bytea, bytea),
    fieldops.ed25519_verify(bytea, bytea, bytea),
    fieldops.canonical_public_key(text, bytea),
    fieldops.hamming64(bigint, bigint),
    fieldops.phash_bands(bigint),
    fieldops.photo_manifest(text, bytea, bigint, bigint, bigint, bigint, timestamptz, double precision, double precision, real, bigint, bytea, bytea, bytea, boolean, boolean, boolean),
    fieldops.parse_photo_manifest(bytea),
    fieldops.receipt_public_key(),
    fieldops.receipt_key_status(),
    fieldops.verify_receipt(bytea),
    fieldops.signature_cache_stats()
TO fieldops_app, fieldops_analyst, fieldops_api;

GRANT EXECUTE ON FUNCTION
    fieldops.register_device_key(bigint, bigint, text, bytea, jsonb),
    fieldops.rotate_device_key(bigint, bigint, text, bytea, jsonb),
    fieldops.revoke_device_key(bigint, bytea, text),
    fieldops.issue_photo_nonce(bigint, bigint, bigint),
    fieldops.issue_photo_nonces(bigint, bigint, integer),
    fieldops.submit_photo(bigint, bytea, bytea, bigint)
TO fieldops_app;

GRANT EXECUTE ON FUNCTION
    fieldops.verify_photo_chain(bigint)
TO fieldops_app, fieldops_analyst;

GRANT EXECUTE ON FUNCTION
    fieldops.photo_manifest_problem(bytea),
    fieldops.random_bytes(integer),
    fieldops.device_keys_changed(),
    fieldops.photo_receipt(bigint, bigint, timestamptz, text, bytea, bytea),
    fieldops.check_device(bigint, bigint),
    fieldops.check_device_key_args(text, bytea, jsonb),
    fieldops.lock_device_keys(bigint, bigint),
    fieldops.add_device_key(bigint, bigint, text, bytea, jsonb),
    fieldops.new_photo_nonces(bigint, bigint, bigint, integer, boolean),
    fieldops.photo_chain_hash(bytea, bigint, bigint, timestamptz, bytea, bytea, text, jsonb),
    fieldops.photo_reason(text, text, text, jsonb)
TO fieldops_api;
