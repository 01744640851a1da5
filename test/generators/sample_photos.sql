--
-- test/generators/sample_photos.sql — signed watermark photos for a tenant
-- made by sample_tenant.sql
--
--   SELECT * FROM fieldops_sample.generate_photos(p_tenant_id)
--       enrols the phones of two sample workers (an Android phone with an
--       ES256 key as from Android Keystore, an iPhone-like one with Ed25519),
--       puts each on a visit at one of their customers (checked in 20
--       minutes ago), and plays eight uploads through the real API:
--       fieldops.issue_photo_nonce(), the manifest the phone signs
--       (fieldops.photo_manifest()), fieldops.submit_photo().  Three honest
--       photos, then a replay, a reused photo, an off-site photo, one with a
--       bad signature and a near-duplicate.  Returns one row per upload with
--       the verdict and the reason codes; fieldops_sample.photo_story keeps
--       which photo told which story, for the report.
--
-- Phones sign with keys that never leave their secure hardware, so the
-- "phones" here are the module's development signing functions
-- (src/photo_devsign.c), bound below by a superuser.  Keys come from fixed
-- seeds; ES256 signatures are randomised by nature, so signature bytes (not
-- verdicts) differ between runs.  Visits are written directly into
-- fieldops.visit (only a superuser may), as the visit API will do.
--

SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS fieldops_sample;
CREATE OR REPLACE FUNCTION fieldops_sample.phone_public_key(text, bytea) RETURNS bytea
    AS 'fieldops', 'fieldops_dev_public_key' LANGUAGE C STRICT;
CREATE OR REPLACE FUNCTION fieldops_sample.phone_sign(text, bytea, bytea) RETURNS bytea
    AS 'fieldops', 'fieldops_dev_sign' LANGUAGE C STRICT;

DROP TABLE IF EXISTS fieldops_sample.photo_story CASCADE;
CREATE TABLE fieldops_sample.photo_story (
    story     int PRIMARY KEY,
    label     text NOT NULL,
    tenant_id bigint,
    photo_id  bigint,
    manifest  bytea,
    signature bytea
);
INSERT INTO fieldops_sample.photo_story (story, label) VALUES
    (1, 'shelf at the customer'),
    (2, 'freezer at the customer'),
    (3, 'group photo with the customer'),
    (4, 'photo 1 sent again (replay)'),
    (5, 'photo 2''s image, new manifest (reused)'),
    (6, 'taken 3 km away (off site)'),
    (7, 'signed by another key (bad signature)'),
    (8, 'photo 2 retaken, 2 bits apart (near-duplicate)');

-- one upload: nonce, manifest, signature, submission; remembered as story p_story
CREATE OR REPLACE FUNCTION fieldops_sample.upload(p_story int, p_tenant_id bigint, p_alg text, p_seed bytea,
                                                  p_device fieldops.device, p_visit bigint, p_counter bigint,
                                                  p_image text, p_lat float8, p_lon float8, p_phash bigint,
                                                  p_signing_seed bytea DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_key bytea := sha256(fieldops.canonical_public_key(p_alg, fieldops_sample.phone_public_key(p_alg, p_seed)));
    v_m bytea;
    v_s bytea;
    v_id bigint;
BEGIN
    v_m := fieldops.photo_manifest(p_alg, v_key, p_tenant_id, p_device.worker_id, p_device.device_id, p_visit,
                                   clock_timestamp(), p_lat, p_lon, 6.5, p_counter,
                                   sha256(convert_to(p_image, 'UTF8')), NULL,
                                   fieldops.issue_photo_nonce(p_tenant_id, p_device.device_id, p_visit), p_stamped => true);
    v_s := fieldops_sample.phone_sign(p_alg, COALESCE(p_signing_seed, p_seed), v_m);
    SELECT s.photo_id INTO v_id FROM fieldops.submit_photo(p_tenant_id, v_m, v_s, p_phash) s;
    UPDATE fieldops_sample.photo_story SET tenant_id = p_tenant_id, photo_id = v_id, manifest = v_m, signature = v_s
     WHERE story = p_story;
END
$$;

CREATE OR REPLACE FUNCTION fieldops_sample.generate_photos(p_tenant_id bigint)
RETURNS TABLE (story int, worker text, upload text, verdict text, reasons text, receipt text)
LANGUAGE plpgsql AS $$
DECLARE
    a fieldops.device;          -- the Android phone (ES256)
    b fieldops.device;          -- the other phone (Ed25519)
    ca fieldops.customer;
    cb fieldops.customer;
    va bigint;
    vb bigint;
    sa bytea;
    sb bytea;
    r record;
BEGIN
    PERFORM fieldops.set_tenant(p_tenant_id, true);
    -- two active workers with a bound phone and a located customer of their own
    SELECT d.* INTO a FROM fieldops.device d JOIN fieldops.worker w USING (tenant_id, worker_id)
     WHERE d.tenant_id = p_tenant_id AND d.status = 'active' AND w.status = 'active' AND d.platform = 'android'
       AND EXISTS (SELECT 1 FROM fieldops.customer c WHERE c.tenant_id = d.tenant_id AND c.owner_worker_id = d.worker_id
                      AND c.geom IS NOT NULL)
     ORDER BY d.device_id LIMIT 1;
    SELECT d.* INTO b FROM fieldops.device d JOIN fieldops.worker w USING (tenant_id, worker_id)
     WHERE d.tenant_id = p_tenant_id AND d.status = 'active' AND w.status = 'active' AND d.worker_id <> a.worker_id
       AND EXISTS (SELECT 1 FROM fieldops.customer c WHERE c.tenant_id = d.tenant_id AND c.owner_worker_id = d.worker_id
                      AND c.geom IS NOT NULL)
     ORDER BY (d.platform = 'ios') DESC, d.device_id LIMIT 1;
    IF a.device_id IS NULL OR b.device_id IS NULL THEN
        RAISE EXCEPTION 'the tenant has no two active workers with a phone and a located customer';
    END IF;
    SELECT * INTO ca FROM fieldops.customer c WHERE c.tenant_id = p_tenant_id AND c.owner_worker_id = a.worker_id
       AND c.geom IS NOT NULL ORDER BY c.customer_id LIMIT 1;
    SELECT * INTO cb FROM fieldops.customer c WHERE c.tenant_id = p_tenant_id AND c.owner_worker_id = b.worker_id
       AND c.geom IS NOT NULL ORDER BY c.customer_id LIMIT 1;
    INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at)
    VALUES (p_tenant_id, a.worker_id, ca.customer_id, now() - interval '20 min') RETURNING visit_id INTO va;
    INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at)
    VALUES (p_tenant_id, b.worker_id, cb.customer_id, now() - interval '20 min') RETURNING visit_id INTO vb;

    -- enrol the phones' keys (what the app does once, after generating them)
    sa := sha256(convert_to('demo phone ' || a.device_uid, 'UTF8'));
    sb := sha256(convert_to('demo phone ' || b.device_uid, 'UTF8'));
    PERFORM fieldops.register_device_key(p_tenant_id, a.device_id, 'es256', fieldops_sample.phone_public_key('es256', sa),
                                         '{"keystore": "StrongBox", "attestation": "verified by the mobile back end"}');
    PERFORM fieldops.register_device_key(p_tenant_id, b.device_id, 'ed25519', fieldops_sample.phone_public_key('ed25519', sb));

    PERFORM fieldops_sample.upload(1, p_tenant_id, 'es256', sa, a, va, 1, 'shelf ' || ca.customer_id,
                                   ST_Y(ca.geom) + 0.0002, ST_X(ca.geom), x'3c3c7e7e18186666'::bigint);
    PERFORM fieldops_sample.upload(2, p_tenant_id, 'es256', sa, a, va, 2, 'freezer ' || ca.customer_id,
                                   ST_Y(ca.geom), ST_X(ca.geom) + 0.0003, x'0f0f33335555aaaa'::bigint);
    PERFORM fieldops_sample.upload(3, p_tenant_id, 'ed25519', sb, b, vb, 1, 'group photo ' || cb.customer_id,
                                   ST_Y(cb.geom), ST_X(cb.geom), x'7001f00ff00ff00f'::bigint);
    -- 4: the same bytes again (a client retrying, or someone replaying them)
    PERFORM fieldops.submit_photo(p_tenant_id, s.manifest, s.signature) FROM fieldops_sample.photo_story s WHERE s.story = 1;
    UPDATE fieldops_sample.photo_story s SET tenant_id = p_tenant_id, photo_id = o.photo_id
      FROM fieldops_sample.photo_story o WHERE s.story = 4 AND o.story = 1;
    -- 5: the other worker uploads photo 2's image as his own
    PERFORM fieldops_sample.upload(5, p_tenant_id, 'ed25519', sb, b, vb, 2, 'freezer ' || ca.customer_id,
                                   ST_Y(cb.geom), ST_X(cb.geom), NULL);
    -- 6: in a café 3 km north of the customer
    PERFORM fieldops_sample.upload(6, p_tenant_id, 'es256', sa, a, va, 3, 'café',
                                   ST_Y(ca.geom) + 0.027, ST_X(ca.geom), NULL);
    -- 7: a manifest signed by a key that is not the phone's (a forged upload)
    PERFORM fieldops_sample.upload(7, p_tenant_id, 'ed25519', sb, b, vb, 3, 'forged', ST_Y(cb.geom), ST_X(cb.geom), NULL,
                                   sha256(convert_to('somebody else', 'UTF8')));
    -- 8: photo 2 taken again (a new file, but nearly the same picture)
    PERFORM fieldops_sample.upload(8, p_tenant_id, 'es256', sa, a, va, 4, 'freezer again ' || ca.customer_id,
                                   ST_Y(ca.geom), ST_X(ca.geom), x'0f0f33335555aaab'::bigint # x'0000000000000100'::bigint);

    FOR r IN
        SELECT s.story, w.name, s.label, p.verdict,
               (SELECT string_agg(x ->> 'code', ', ') FROM jsonb_array_elements(p.reasons) x
                 WHERE x ->> 'severity' <> 'info' OR x ->> 'code' = 'replay') AS codes,
               CASE WHEN p.receipt IS NULL THEN 'none'
                    WHEN (fieldops.verify_receipt(p.receipt)).valid THEN 'signed, verifies'
                    ELSE 'DOES NOT VERIFY' END AS receipt
          FROM fieldops_sample.photo_story s
          JOIN fieldops.photo p ON p.tenant_id = s.tenant_id AND p.photo_id = s.photo_id
          JOIN fieldops.worker w ON w.tenant_id = p.tenant_id AND w.worker_id = p.worker_id
         ORDER BY s.story
    LOOP
        story := r.story; worker := r.name; upload := r.label; verdict := r.verdict;
        reasons := CASE WHEN r.story = 4 THEN 'replay (recorded once, as photo 1)' ELSE COALESCE(r.codes, '') END;
        receipt := r.receipt;
        RETURN NEXT;
    END LOOP;
END
$$;
