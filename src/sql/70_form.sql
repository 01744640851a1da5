--
-- Custom forms (low-code): versioned form definitions in jsonb, validated
-- when they are defined; answers validated when they are submitted, with
-- one error per problem naming the field path and the rule; submissions
-- stored append-only with their business context (visit, task, work order)
-- and the version they were made against.
--
-- A definition is {"fields": [...], "sections": [...], "description": ...,
-- "ui": {...}}: the fields in the order a client shows them, each with a
-- key (unique in the form: the answer's key), a type (text, number,
-- single_choice, multi_choice, date, time, datetime, yes_no, photo,
-- location, checklist, signature), a label, the type's rules, required or
-- required_if, show_if, and the section it belongs to.  Conditions
-- (show_if, required_if, a section's show_if) may only read fields that
-- come before, so a form is evaluated in one pass and can never loop.  The
-- full grammar is in the README ("Custom forms").
--
-- define_form() stores a new version only when the definition differs (as
-- JSON: key order and white space do not matter) from the current one; a
-- version is never edited afterwards, and every submission keeps the
-- version it was made against, so old submissions stay interpretable.
--
-- Answers are {"<key>": value, ...}.  A hidden field (its show_if or its
-- section's show_if false) is not validated and its answer is IGNORED:
-- dropped from the stored answers and listed in the submission's dropped
-- column (a client that keeps stale values after the user changed an
-- earlier answer must not be refused for them).  A key that is no field of
-- the form is an error (unknown_field): it is a typo or the wrong version.
-- null, a blank string and an empty array count as unanswered.
--
-- Photo answers reference fieldops.photo (60_photo.sql) by photo_id or by
-- the SHA-256 of the image; a rejected photo is refused, a photo under
-- review is accepted unless the field says allow_review false; at submit
-- the photo must be the submitting worker's and, when both name a visit,
-- of the submission's visit.  Signature answers are a handwritten
-- signature (a base64 image and the signer's name) stored with the image's
-- SHA-256; the cryptographic customer confirmation over a work order's
-- content belongs to the work orders (device keys of 60_photo.sql).
--
-- Locks: define_form() locks the form's row (FOR NO KEY UPDATE) to number
-- versions one at a time; submit_form() share-locks the worker's row
-- (lock_active_worker, as every API function that acts for a worker) and
-- takes no row lock of its own beyond the KEY SHARE locks of its foreign
-- keys (form version, worker, visit, corrected submission), which never
-- conflict with the form's NO KEY UPDATE.  Concurrent corrections of one
-- submission and concurrent resends of one client_ref are arbitrated by
-- unique indexes: the second waits for the first, then gets 55000 (already
-- corrected), the first's id (the same resend) or 23505 (another
-- submission under the same reference).  No function here waits for a lock
-- while holding one another function here waits for, so they cannot
-- deadlock (test/isolation/specs/form_submit.spec).
--
-- Part of the install script and of the 0.1.0 -> 0.2.0 upgrade script.
--

--
-- Tables
--
CREATE TABLE fieldops.form (
    tenant_id        bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    form_id          bigserial NOT NULL,
    code             text NOT NULL,
    name             text NOT NULL,
    current_version  integer NOT NULL CHECK (current_version OPERATOR(pg_catalog.>=) 1),
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, form_id),
    UNIQUE (tenant_id, code)
);
COMMENT ON TABLE fieldops.form IS
'Custom forms of a tenant (code unique per tenant) and their current version; the definitions are in fieldops.form_version. Written by define_form() only.';

CREATE TABLE fieldops.form_version (
    tenant_id    bigint NOT NULL,
    form_id      bigint NOT NULL,
    version      integer NOT NULL CHECK (version OPERATOR(pg_catalog.>=) 1),
    definition   jsonb NOT NULL,
    field_count  integer NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, form_id, version),
    FOREIGN KEY (tenant_id, form_id) REFERENCES fieldops.form (tenant_id, form_id)
);
COMMENT ON TABLE fieldops.form_version IS
'Every version of every form definition (validated by define_form()); append-only: a version is never edited, submissions reference the version they were made against.';

CREATE TABLE fieldops.form_submission (
    tenant_id      bigint NOT NULL,
    submission_id  bigserial NOT NULL,
    form_id        bigint NOT NULL,
    version        integer NOT NULL,
    worker_id      bigint NOT NULL,
    visit_id       bigint,
    task_id        bigint,
    work_order_id  bigint,
    answers        jsonb NOT NULL,
    dropped        text[] NOT NULL DEFAULT '{}',
    input_sha256   bytea NOT NULL,
    supersedes     bigint,
    client_ref     text,
    submitted_at   timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
    PRIMARY KEY (tenant_id, submission_id),
    FOREIGN KEY (tenant_id, form_id, version) REFERENCES fieldops.form_version (tenant_id, form_id, version),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, visit_id) REFERENCES fieldops.visit (tenant_id, visit_id),
    FOREIGN KEY (tenant_id, supersedes) REFERENCES fieldops.form_submission (tenant_id, submission_id),
    CONSTRAINT form_submission_not_self CHECK (supersedes OPERATOR(pg_catalog.<>) submission_id)
);
-- one correction per submission (a chain, never a fork), one submission per client reference
CREATE UNIQUE INDEX form_submission_supersedes_key ON fieldops.form_submission (tenant_id, supersedes) WHERE supersedes IS NOT NULL;
CREATE UNIQUE INDEX form_submission_client_ref_key ON fieldops.form_submission (tenant_id, client_ref) WHERE client_ref IS NOT NULL;
CREATE INDEX form_submission_form_idx ON fieldops.form_submission (tenant_id, form_id, submitted_at);
CREATE INDEX form_submission_worker_idx ON fieldops.form_submission (tenant_id, worker_id, submitted_at);
CREATE INDEX form_submission_visit_idx ON fieldops.form_submission (tenant_id, visit_id) WHERE visit_id IS NOT NULL;
CREATE INDEX form_submission_task_idx ON fieldops.form_submission (tenant_id, task_id) WHERE task_id IS NOT NULL;
CREATE INDEX form_submission_work_order_idx ON fieldops.form_submission (tenant_id, work_order_id) WHERE work_order_id IS NOT NULL;
COMMENT ON TABLE fieldops.form_submission IS
'Answers to a form, validated and normalised by submit_form() (hidden fields dropped), tied to the version they were made against and to their business context. Append-only: a correction is a new submission whose supersedes names the one it replaces (at most one correction per submission).';
COMMENT ON COLUMN fieldops.form_submission.answers IS 'The normalised answers: only visible, answered fields; text trimmed, choices in option order, photos as photo ids, checklists with every item, datetimes in UTC.';
COMMENT ON COLUMN fieldops.form_submission.dropped IS 'Keys of hidden fields whose answers were ignored (their show_if or their section''s show_if was false).';
COMMENT ON COLUMN fieldops.form_submission.input_sha256 IS 'SHA-256 of the answers as received (canonical jsonb text): a resend with the same client_ref is recognised by it.';
COMMENT ON COLUMN fieldops.form_submission.visit_id IS 'The visit the form was filled in during (fieldops.visit), or NULL.';
COMMENT ON COLUMN fieldops.form_submission.task_id IS 'The task the form answers (fieldops.task of 72_task.sql, whose file adds the foreign key (tenant_id, task_id)), or NULL.';
COMMENT ON COLUMN fieldops.form_submission.work_order_id IS 'The work order the form answers (fieldops.work_order of 74_work_order.sql, whose file adds the foreign key (tenant_id, work_order_id)), or NULL.';
COMMENT ON COLUMN fieldops.form_submission.supersedes IS 'The submission this one corrects; the latest of a chain is the one in force (view fieldops.current_form_submission).';
COMMENT ON COLUMN fieldops.form_submission.client_ref IS 'The client''s own id of the submission (e.g. a UUID made offline): resending it returns the first submission instead of a duplicate.';

CREATE VIEW fieldops.current_form_submission WITH (security_invoker = true) AS
SELECT s.*
  FROM fieldops.form_submission s
 WHERE NOT EXISTS (SELECT 1 FROM fieldops.form_submission n
                    WHERE n.tenant_id OPERATOR(pg_catalog.=) s.tenant_id
                      AND n.supersedes OPERATOR(pg_catalog.=) s.submission_id);
COMMENT ON VIEW fieldops.current_form_submission IS
'The submissions in force: those no correction supersedes.';

--
-- Values: the canonical text of a date, time or datetime, without
-- exceptions (no subtransaction per answer)
--
CREATE FUNCTION fieldops.form_temporal(p_type text, p_value text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    y integer;
    m integer;
    d integer;
    ts timestamptz;
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_type OPERATOR(pg_catalog.=) 'time' THEN
        IF p_value !~ '^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$' THEN
            RETURN NULL;
        END IF;
        RETURN CASE WHEN pg_catalog.length(p_value) OPERATOR(pg_catalog.=) 5 THEN p_value OPERATOR(pg_catalog.||) ':00' ELSE p_value END;
    END IF;
    IF p_type OPERATOR(pg_catalog.=) 'date' THEN
        IF p_value !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
            RETURN NULL;
        END IF;
    ELSIF p_type OPERATOR(pg_catalog.=) 'datetime' THEN
        -- an explicit offset is required: a local time without one is ambiguous
        IF p_value !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)$' THEN
            RETURN NULL;
        END IF;
    ELSE
        RETURN NULL;
    END IF;
    y := pg_catalog.substr(p_value, 1, 4)::integer;
    m := pg_catalog.substr(p_value, 6, 2)::integer;
    d := pg_catalog.substr(p_value, 9, 2)::integer;
    IF y OPERATOR(pg_catalog.<) 1 OR m NOT BETWEEN 1 AND 12 OR d OPERATOR(pg_catalog.<) 1
       OR d OPERATOR(pg_catalog.>) pg_catalog.date_part('day', pg_catalog.make_date(y, m, 1)
                                     OPERATOR(pg_catalog.+) '1 month -1 day'::interval) THEN
        RETURN NULL;
    END IF;
    IF p_type OPERATOR(pg_catalog.=) 'date' THEN
        RETURN p_value;
    END IF;
    ts := pg_catalog.replace(p_value, 'T', ' ')::timestamptz;
    RETURN pg_catalog.to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        OPERATOR(pg_catalog.||) CASE WHEN (pg_catalog.date_part('microseconds', ts)::bigint OPERATOR(pg_catalog.%) 1000000) OPERATOR(pg_catalog.=) 0 THEN ''
                ELSE pg_catalog.rtrim(pg_catalog.to_char(ts AT TIME ZONE 'UTC', '.US'), '0') END
        OPERATOR(pg_catalog.||) 'Z';
END
$$;
COMMENT ON FUNCTION fieldops.form_temporal(text, text) IS
'Internal: the canonical text of a form value of type date (YYYY-MM-DD), time (HH:MM:SS from HH:MM or HH:MM:SS) or datetime (ISO 8601 with an explicit offset, returned in UTC with Z), or NULL when it is not one.';

-- compare two values of a field type: -1, 0, 1 (equality only for text,
-- choices and yes/no: 0 or 1)
CREATE FUNCTION fieldops.form_compare(p_type text, a jsonb, b jsonb)
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    CASE p_type
    WHEN 'number' THEN
        RETURN pg_catalog.sign(a::numeric OPERATOR(pg_catalog.-) b::numeric)::integer;
    WHEN 'date' THEN
        RETURN pg_catalog.date_cmp(fieldops.form_temporal(p_type, a #>> '{}')::date,
                                   fieldops.form_temporal(p_type, b #>> '{}')::date);
    WHEN 'time' THEN
        RETURN pg_catalog.time_cmp(fieldops.form_temporal(p_type, a #>> '{}')::time,
                                   fieldops.form_temporal(p_type, b #>> '{}')::time);
    WHEN 'datetime' THEN
        RETURN pg_catalog.timestamptz_cmp(fieldops.form_temporal(p_type, a #>> '{}')::timestamptz,
                                          fieldops.form_temporal(p_type, b #>> '{}')::timestamptz);
    ELSE
        RETURN CASE WHEN a OPERATOR(pg_catalog.=) b THEN 0 ELSE 1 END;
    END CASE;
END
$$;
COMMENT ON FUNCTION fieldops.form_compare(text, jsonb, jsonb) IS
'Internal: compare two valid values of a field type for conditions (-1, 0, 1; text, choices and yes/no compare for equality only).';

--
-- Conditions: show_if, required_if and a section's show_if.
--   {"field": "<earlier key>", "<op>": operand}   one operator:
--     equals, not_equals            text, number, single_choice, date, time, datetime, yes_no
--     in, not_in (non-empty array)  text, number, single_choice
--     gt, gte, lt, lte              number, date, time, datetime
--     contains (an option value)    multi_choice
--     checked (an item key)         checklist
--     answered (true or false)      every type
--   {"all": [conditions]}, {"any": [conditions]}, {"not": condition}
-- A comparison with an unanswered (or hidden, or invalid) field is false;
-- {"answered": false} is true for it.
--
CREATE FUNCTION fieldops.form_condition(p_cond jsonb, p_vals jsonb, p_types jsonb)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    c jsonb;
    k text;
    v jsonb;
    t text;
    op text;
    o jsonb;
BEGIN
    IF p_cond ? 'all' THEN
        FOR c IN SELECT e FROM pg_catalog.jsonb_array_elements(p_cond -> 'all') AS e LOOP
            IF NOT fieldops.form_condition(c, p_vals, p_types) THEN
                RETURN false;
            END IF;
        END LOOP;
        RETURN true;
    ELSIF p_cond ? 'any' THEN
        FOR c IN SELECT e FROM pg_catalog.jsonb_array_elements(p_cond -> 'any') AS e LOOP
            IF fieldops.form_condition(c, p_vals, p_types) THEN
                RETURN true;
            END IF;
        END LOOP;
        RETURN false;
    ELSIF p_cond ? 'not' THEN
        RETURN NOT fieldops.form_condition(p_cond -> 'not', p_vals, p_types);
    END IF;
    k := p_cond ->> 'field';
    v := p_vals -> k;
    t := p_types ->> k;
    SELECT x INTO op FROM pg_catalog.jsonb_object_keys(p_cond) AS x WHERE x OPERATOR(pg_catalog.<>) 'field';
    o := p_cond -> op;
    IF op OPERATOR(pg_catalog.=) 'answered' THEN
        RETURN (v IS NOT NULL) OPERATOR(pg_catalog.=) (o)::boolean;
    END IF;
    IF v IS NULL THEN
        RETURN false;
    END IF;
    CASE op
    WHEN 'equals' THEN
        RETURN fieldops.form_compare(t, v, o) OPERATOR(pg_catalog.=) 0;
    WHEN 'not_equals' THEN
        RETURN fieldops.form_compare(t, v, o) OPERATOR(pg_catalog.<>) 0;
    WHEN 'in' THEN
        RETURN EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(o) AS e
                        WHERE fieldops.form_compare(t, v, e) OPERATOR(pg_catalog.=) 0);
    WHEN 'not_in' THEN
        RETURN NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(o) AS e
                            WHERE fieldops.form_compare(t, v, e) OPERATOR(pg_catalog.=) 0);
    WHEN 'gt' THEN
        RETURN fieldops.form_compare(t, v, o) OPERATOR(pg_catalog.>) 0;
    WHEN 'gte' THEN
        RETURN fieldops.form_compare(t, v, o) OPERATOR(pg_catalog.>=) 0;
    WHEN 'lt' THEN
        RETURN fieldops.form_compare(t, v, o) OPERATOR(pg_catalog.<) 0;
    WHEN 'lte' THEN
        RETURN fieldops.form_compare(t, v, o) OPERATOR(pg_catalog.<=) 0;
    WHEN 'contains' THEN
        RETURN v OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(o);
    WHEN 'checked' THEN
        RETURN v OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('item', o, 'checked', true));
    END CASE;
    RETURN false;
END
$$;
COMMENT ON FUNCTION fieldops.form_condition(jsonb, jsonb, jsonb) IS
'Internal: evaluate a validated form condition against the normalised answers given so far (p_vals: key -> value of the visible, valid, answered fields; p_types: key -> type). A comparison with an unanswered field is false.';

-- check one condition of a definition: every path it names, the field it
-- reads (which must come earlier), the operator for that field's type and
-- the operand (22023 naming the JSON path)
CREATE FUNCTION fieldops.form_check_condition(p_cond jsonb, p_path text, p_fields jsonb, p_all jsonb, p_where text,
                                              p_depth integer DEFAULT 0)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    k text;
    f jsonb;
    t text;
    ops text[];
    op text;
    o jsonb;
    e jsonb;
    j integer;
    v_ops text[];
BEGIN
    IF p_depth OPERATOR(pg_catalog.>) 8 THEN
        RAISE EXCEPTION '% nests conditions more than 8 deep', p_path USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.jsonb_typeof(p_cond) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION '% must be a condition object such as {"field": "a", "equals": "x"}, {"all": [...]}, {"any": [...]} or {"not": {...}}, got %',
            p_path, pg_catalog.left(COALESCE(p_cond::text, 'NULL'), 60) USING ERRCODE = '22023';
    END IF;
    FOREACH k IN ARRAY ARRAY['all', 'any', 'not'] LOOP
        IF p_cond ? k THEN
            IF (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(p_cond)) OPERATOR(pg_catalog.<>) 1 THEN
                RAISE EXCEPTION '% must have "%" as its only key', p_path, k USING ERRCODE = '22023';
            END IF;
            IF k OPERATOR(pg_catalog.=) 'not' THEN
                PERFORM fieldops.form_check_condition(p_cond -> 'not', p_path OPERATOR(pg_catalog.||) '.not', p_fields, p_all, p_where,
                                                      p_depth OPERATOR(pg_catalog.+) 1);
                RETURN;
            END IF;
            IF pg_catalog.jsonb_typeof(p_cond -> k) IS DISTINCT FROM 'array'
               OR pg_catalog.jsonb_array_length(p_cond -> k) NOT BETWEEN 1 AND 50 THEN
                RAISE EXCEPTION '%.% must be an array of 1 to 50 conditions', p_path, k USING ERRCODE = '22023';
            END IF;
            FOR e, j IN SELECT x, (n OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(p_cond -> k) WITH ORDINALITY AS y(x, n) LOOP
                PERFORM fieldops.form_check_condition(e, pg_catalog.format('%s.%s[%s]', p_path, k, j), p_fields, p_all, p_where,
                                                      p_depth OPERATOR(pg_catalog.+) 1);
            END LOOP;
            RETURN;
        END IF;
    END LOOP;

    IF pg_catalog.jsonb_typeof(p_cond -> 'field') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION '%.field must be the key of an earlier field', p_path USING ERRCODE = '22023';
    END IF;
    k := p_cond ->> 'field';
    f := p_fields -> k;
    IF f IS NULL THEN
        IF p_all ? k THEN
            RAISE EXCEPTION '%.field names "%" (fields[%]), which does not come before %: a condition may only read earlier fields',
                p_path, k, p_all ->> k, p_where USING ERRCODE = '22023';
        END IF;
        RAISE EXCEPTION '%.field names "%", which is not a field of the form', p_path, pg_catalog.left(k, 64) USING ERRCODE = '22023';
    END IF;
    t := f ->> 'type';
    ops := ARRAY(SELECT x FROM pg_catalog.jsonb_object_keys(p_cond) AS x WHERE x OPERATOR(pg_catalog.<>) 'field' ORDER BY 1);
    v_ops := CASE t
        WHEN 'text' THEN ARRAY['equals', 'not_equals', 'in', 'not_in', 'answered']
        WHEN 'single_choice' THEN ARRAY['equals', 'not_equals', 'in', 'not_in', 'answered']
        WHEN 'number' THEN ARRAY['equals', 'not_equals', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'answered']
        WHEN 'date' THEN ARRAY['equals', 'not_equals', 'gt', 'gte', 'lt', 'lte', 'answered']
        WHEN 'time' THEN ARRAY['equals', 'not_equals', 'gt', 'gte', 'lt', 'lte', 'answered']
        WHEN 'datetime' THEN ARRAY['equals', 'not_equals', 'gt', 'gte', 'lt', 'lte', 'answered']
        WHEN 'yes_no' THEN ARRAY['equals', 'not_equals', 'answered']
        WHEN 'multi_choice' THEN ARRAY['contains', 'answered']
        WHEN 'checklist' THEN ARRAY['checked', 'answered']
        ELSE ARRAY['answered'] END;
    IF pg_catalog.cardinality(ops) OPERATOR(pg_catalog.<>) 1 OR NOT (ops[1] OPERATOR(pg_catalog.=) ANY (v_ops)) THEN
        RAISE EXCEPTION '% must have "field" and one operator; for field "%" (%) the operators are %, got %',
            p_path, k, t, pg_catalog.array_to_string(v_ops, ', '),
            CASE WHEN pg_catalog.cardinality(ops) OPERATOR(pg_catalog.=) 0 THEN 'none' ELSE pg_catalog.array_to_string(ops, ', ') END
            USING ERRCODE = '22023';
    END IF;
    op := ops[1];
    o := p_cond -> op;
    IF op OPERATOR(pg_catalog.=) 'answered' THEN
        IF pg_catalog.jsonb_typeof(o) OPERATOR(pg_catalog.<>) 'boolean' THEN
            RAISE EXCEPTION '%.answered must be true or false', p_path USING ERRCODE = '22023';
        END IF;
        RETURN;
    END IF;
    IF op IN ('in', 'not_in') THEN
        IF pg_catalog.jsonb_typeof(o) OPERATOR(pg_catalog.<>) 'array' OR pg_catalog.jsonb_array_length(o) NOT BETWEEN 1 AND 500 THEN
            RAISE EXCEPTION '%.% must be an array of 1 to 500 values', p_path, op USING ERRCODE = '22023';
        END IF;
    END IF;
    FOR e, j IN
        SELECT x, (n OPERATOR(pg_catalog.-) 1)::integer
          FROM pg_catalog.jsonb_array_elements(CASE WHEN op IN ('in', 'not_in') THEN o ELSE pg_catalog.jsonb_build_array(o) END)
               WITH ORDINALITY AS y(x, n)
    LOOP
        IF NOT (CASE
            WHEN op OPERATOR(pg_catalog.=) 'checked' THEN f -> 'items' OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(e)
            WHEN t IN ('single_choice', 'multi_choice') THEN f -> 'options' OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(e)
            WHEN t OPERATOR(pg_catalog.=) 'text' THEN pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'string'
            WHEN t OPERATOR(pg_catalog.=) 'number' THEN pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'number'
            WHEN t OPERATOR(pg_catalog.=) 'yes_no' THEN pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'boolean'
            ELSE pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'string' AND fieldops.form_temporal(t, e #>> '{}') IS NOT NULL
          END) THEN
            RAISE EXCEPTION '% must be %, got %',
                p_path OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) op OPERATOR(pg_catalog.||)
                    CASE WHEN op IN ('in', 'not_in') THEN pg_catalog.format('[%s]', j) ELSE '' END,
                CASE WHEN op OPERATOR(pg_catalog.=) 'checked' THEN pg_catalog.format('an item key of checklist "%s" (%s)', k,
                         (SELECT pg_catalog.string_agg(pg_catalog.format('"%s"', x #>> '{}'), ', ') FROM pg_catalog.jsonb_array_elements(f -> 'items') AS x))
                     WHEN t IN ('single_choice', 'multi_choice') THEN pg_catalog.format('an option value of field "%s" (%s)', k,
                         (SELECT pg_catalog.string_agg(pg_catalog.format('"%s"', x #>> '{}'), ', ') FROM pg_catalog.jsonb_array_elements(f -> 'options') AS x))
                     WHEN t OPERATOR(pg_catalog.=) 'text' THEN 'a string'
                     WHEN t OPERATOR(pg_catalog.=) 'number' THEN 'a number'
                     WHEN t OPERATOR(pg_catalog.=) 'yes_no' THEN 'true or false'
                     WHEN t OPERATOR(pg_catalog.=) 'date' THEN 'a date "YYYY-MM-DD"'
                     WHEN t OPERATOR(pg_catalog.=) 'time' THEN 'a time "HH:MM" or "HH:MM:SS"'
                     ELSE 'a datetime in ISO 8601 with an offset ("2026-11-27T09:30:00+08:00")' END,
                pg_catalog.left(e::text, 60)
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops.form_check_condition(jsonb, text, jsonb, jsonb, text, integer) IS
'Internal: validate a condition of a form definition against the fields before it (p_fields: key -> {type, options, items}; p_all: every key -> its index); 22023 naming the JSON path.';

--
-- Definitions
--

-- one property of a definition object: absent or null is NULL, anything
-- else must be of p_kind (boolean, object, string, number, whole) within
-- p_min..p_max (characters for strings); 22023 naming the path otherwise
CREATE FUNCTION fieldops.form_check_prop(p_obj jsonb, p_prop text, p_path text, p_kind text,
                                         p_min numeric DEFAULT NULL, p_max numeric DEFAULT NULL, p_required boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v jsonb := p_obj -> p_prop;
    t text;
    ok boolean;
BEGIN
    t := pg_catalog.jsonb_typeof(v);
    IF v IS NULL OR t OPERATOR(pg_catalog.=) 'null' THEN
        IF NOT p_required THEN
            RETURN NULL;
        END IF;
        ok := false;
    ELSE
        ok := CASE p_kind
            WHEN 'boolean' THEN t OPERATOR(pg_catalog.=) 'boolean'
            WHEN 'object' THEN t OPERATOR(pg_catalog.=) 'object'
            WHEN 'string' THEN CASE WHEN t OPERATOR(pg_catalog.<>) 'string' THEN false
                ELSE pg_catalog.length(pg_catalog.btrim(v #>> '{}')) OPERATOR(pg_catalog.>=) COALESCE(p_min, 1)
                     AND pg_catalog.length(v #>> '{}') OPERATOR(pg_catalog.<=) COALESCE(p_max, 1000000) END
            WHEN 'number' THEN CASE WHEN t OPERATOR(pg_catalog.<>) 'number' THEN false
                ELSE v::numeric OPERATOR(pg_catalog.>=) COALESCE(p_min, v::numeric)
                     AND v::numeric OPERATOR(pg_catalog.<=) COALESCE(p_max, v::numeric) END
            WHEN 'whole' THEN CASE WHEN t OPERATOR(pg_catalog.<>) 'number' THEN false
                ELSE v::numeric OPERATOR(pg_catalog.=) pg_catalog.trunc(v::numeric)
                     AND v::numeric OPERATOR(pg_catalog.>=) COALESCE(p_min, v::numeric)
                     AND v::numeric OPERATOR(pg_catalog.<=) COALESCE(p_max, v::numeric) END
        END;
    END IF;
    IF NOT ok THEN
        RAISE EXCEPTION '%.% must be %, got %', p_path, p_prop,
            CASE p_kind
            WHEN 'boolean' THEN 'true or false'
            WHEN 'object' THEN 'a JSON object'
            WHEN 'string' THEN pg_catalog.format('a non-blank string of at most %s characters', COALESCE(p_max, 1000000))
            WHEN 'number' THEN CASE WHEN p_min IS NULL AND p_max IS NULL THEN 'a number'
                                    ELSE pg_catalog.format('a number from %s to %s', p_min, p_max) END
            ELSE pg_catalog.format('a whole number from %s to %s', p_min, p_max) END,
            CASE WHEN v IS NULL THEN 'nothing' ELSE pg_catalog.left(v::text, 60) END
            USING ERRCODE = '22023';
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION fieldops.form_check_prop(jsonb, text, text, text, numeric, numeric, boolean) IS
'Internal: check one property of a form definition object (boolean, object, string, number or whole within a range); returns it, NULL when absent or null; 22023 naming the JSON path.';

CREATE FUNCTION fieldops.form_check_definition(p_definition jsonb)
RETURNS integer
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_types CONSTANT text[] := ARRAY['text', 'number', 'single_choice', 'multi_choice', 'date', 'time', 'datetime',
                                     'yes_no', 'photo', 'location', 'checklist', 'signature'];
    v_common CONSTANT text[] := ARRAY['key', 'type', 'label', 'help', 'required', 'required_if', 'show_if', 'section', 'ui'];
    v_key_re CONSTANT text := '^[a-z][a-z0-9_]{0,62}$';
    v_all jsonb := '{}';        -- every key -> the index of its first field
    v_fields jsonb := '{}';     -- key -> {i, type, options, items} of the fields checked so far
    v_sections jsonb := '{}';   -- section key -> {i, first}
    v_before jsonb;
    f jsonb;
    e jsonb;
    i integer;
    j integer;
    n integer;
    p text;
    q text;
    k text;
    t text;
    v_own text[];
    v_extra text[];
    v_vals jsonb;
    lo jsonb;
    hi jsonb;
    v_lo text;
    v_hi text;
BEGIN
    IF p_definition IS NULL THEN
        RAISE EXCEPTION 'p_definition must not be null' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.jsonb_typeof(p_definition) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'p_definition must be a JSON object {"fields": [...]}, got %', pg_catalog.left(p_definition::text, 60)
            USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.pg_column_size(p_definition) OPERATOR(pg_catalog.>) 1048576 THEN
        RAISE EXCEPTION 'p_definition must be at most 1 MB' USING ERRCODE = '22023';
    END IF;
    v_extra := ARRAY(SELECT x FROM pg_catalog.jsonb_object_keys(p_definition) AS x
                      WHERE x NOT IN ('fields', 'sections', 'description', 'ui') ORDER BY 1);
    IF pg_catalog.cardinality(v_extra) OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'p_definition has an unknown key "%"', pg_catalog.left(v_extra[1], 64)
            USING ERRCODE = '22023', HINT = 'A definition has fields, and optionally sections, description and ui.';
    END IF;
    PERFORM fieldops.form_check_prop(p_definition, 'description', 'p_definition', 'string', 1, 2000);
    PERFORM fieldops.form_check_prop(p_definition, 'ui', 'p_definition', 'object');
    IF pg_catalog.jsonb_typeof(p_definition -> 'fields') IS DISTINCT FROM 'array'
       OR pg_catalog.jsonb_array_length(p_definition -> 'fields') NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION 'p_definition.fields must be an array of 1 to 500 fields' USING ERRCODE = '22023';
    END IF;

    -- sections
    IF pg_catalog.jsonb_typeof(p_definition -> 'sections') IS DISTINCT FROM 'null' AND p_definition ? 'sections' THEN
        IF pg_catalog.jsonb_typeof(p_definition -> 'sections') OPERATOR(pg_catalog.<>) 'array'
           OR pg_catalog.jsonb_array_length(p_definition -> 'sections') OPERATOR(pg_catalog.>) 100 THEN
            RAISE EXCEPTION 'p_definition.sections must be an array of at most 100 sections {"key": ..., "label": ...}' USING ERRCODE = '22023';
        END IF;
        FOR e, i IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(p_definition -> 'sections') WITH ORDINALITY AS y(x, o) LOOP
            p := pg_catalog.format('p_definition.sections[%s]', i);
            IF pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'object' THEN
                RAISE EXCEPTION '% must be an object {"key": ..., "label": ..., "show_if": ...}', p USING ERRCODE = '22023';
            END IF;
            v_extra := ARRAY(SELECT x FROM pg_catalog.jsonb_object_keys(e) AS x WHERE x NOT IN ('key', 'label', 'show_if', 'ui') ORDER BY 1);
            IF pg_catalog.cardinality(v_extra) OPERATOR(pg_catalog.>) 0 THEN
                RAISE EXCEPTION '% has an unknown property "%"', p, pg_catalog.left(v_extra[1], 64)
                    USING ERRCODE = '22023', HINT = 'A section takes: key, label, show_if, ui.';
            END IF;
            IF pg_catalog.jsonb_typeof(e -> 'key') IS DISTINCT FROM 'string' OR (e ->> 'key') !~ v_key_re THEN
                RAISE EXCEPTION '%.key must be a lower-case identifier (a-z, 0-9 and _, starting with a letter, at most 63 characters), got %',
                    p, pg_catalog.left(COALESCE((e -> 'key')::text, 'nothing'), 60) USING ERRCODE = '22023';
            END IF;
            IF v_sections ? (e ->> 'key') THEN
                RAISE EXCEPTION '%.key "%" repeats the key of sections[%]', p, e ->> 'key', v_sections -> (e ->> 'key') ->> 'i'
                    USING ERRCODE = '22023';
            END IF;
            PERFORM fieldops.form_check_prop(e, 'label', p, 'string', 1, 200, true);
            PERFORM fieldops.form_check_prop(e, 'ui', p, 'object');
            v_sections := v_sections OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(e ->> 'key', pg_catalog.jsonb_build_object('i', i));
        END LOOP;
    END IF;

    -- every key and where it first appears (to tell a later field from a missing one)
    FOR e, i IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(p_definition -> 'fields') WITH ORDINALITY AS y(x, o) LOOP
        IF pg_catalog.jsonb_typeof(e -> 'key') OPERATOR(pg_catalog.=) 'string' AND NOT v_all ? (e ->> 'key') THEN
            v_all := v_all OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(e ->> 'key', i);
        END IF;
    END LOOP;

    FOR f, i IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(p_definition -> 'fields') WITH ORDINALITY AS y(x, o) LOOP
        p := pg_catalog.format('p_definition.fields[%s]', i);
        IF pg_catalog.jsonb_typeof(f) OPERATOR(pg_catalog.<>) 'object' THEN
            RAISE EXCEPTION '% must be an object {"key": ..., "type": ..., "label": ...}, got %', p, pg_catalog.left(f::text, 60)
                USING ERRCODE = '22023';
        END IF;
        IF pg_catalog.jsonb_typeof(f -> 'key') IS DISTINCT FROM 'string' OR (f ->> 'key') !~ v_key_re THEN
            RAISE EXCEPTION '%.key must be a lower-case identifier (a-z, 0-9 and _, starting with a letter, at most 63 characters), got %',
                p, pg_catalog.left(COALESCE((f -> 'key')::text, 'nothing'), 60) USING ERRCODE = '22023';
        END IF;
        k := f ->> 'key';
        IF v_fields ? k THEN
            RAISE EXCEPTION '%.key "%" repeats the key of fields[%]', p, k, v_all ->> k USING ERRCODE = '22023';
        END IF;
        t := f ->> 'type';
        IF pg_catalog.jsonb_typeof(f -> 'type') IS DISTINCT FROM 'string' OR NOT (t OPERATOR(pg_catalog.=) ANY (v_types)) THEN
            RAISE EXCEPTION '%.type must be one of %, got %', p, pg_catalog.array_to_string(v_types, ', '),
                pg_catalog.left(COALESCE((f -> 'type')::text, 'nothing'), 60) USING ERRCODE = '22023';
        END IF;
        PERFORM fieldops.form_check_prop(f, 'label', p, 'string', 1, 200, true);
        PERFORM fieldops.form_check_prop(f, 'help', p, 'string', 1, 2000);
        PERFORM fieldops.form_check_prop(f, 'ui', p, 'object');
        v_own := CASE t
            WHEN 'text' THEN ARRAY['min_length', 'max_length', 'pattern', 'multiline']
            WHEN 'number' THEN ARRAY['min', 'max', 'integer', 'decimals', 'unit']
            WHEN 'single_choice' THEN ARRAY['options']
            WHEN 'multi_choice' THEN ARRAY['options', 'min_selections', 'max_selections']
            WHEN 'date' THEN ARRAY['min', 'max']
            WHEN 'time' THEN ARRAY['min', 'max']
            WHEN 'datetime' THEN ARRAY['min', 'max']
            WHEN 'photo' THEN ARRAY['min_count', 'max_count', 'allow_review']
            WHEN 'location' THEN ARRAY['max_accuracy_m']
            WHEN 'checklist' THEN ARRAY['items']
            WHEN 'signature' THEN ARRAY['max_kb']
            ELSE ARRAY[]::text[] END;
        v_extra := ARRAY(SELECT x FROM pg_catalog.jsonb_object_keys(f) AS x
                          WHERE NOT (x OPERATOR(pg_catalog.=) ANY (v_common OPERATOR(pg_catalog.||) v_own)) ORDER BY 1);
        IF pg_catalog.cardinality(v_extra) OPERATOR(pg_catalog.>) 0 THEN
            RAISE EXCEPTION '% has an unknown property "%" for a % field', p, pg_catalog.left(v_extra[1], 64), t
                USING ERRCODE = '22023',
                      HINT = pg_catalog.format('A %s field takes: %s.', t, pg_catalog.array_to_string(v_common OPERATOR(pg_catalog.||) v_own, ', '));
        END IF;
        IF COALESCE(fieldops.form_check_prop(f, 'required', p, 'boolean'), 'false') OPERATOR(pg_catalog.=) 'true'
           AND pg_catalog.jsonb_typeof(f -> 'required_if') IS DISTINCT FROM 'null' AND f ? 'required_if' THEN
            RAISE EXCEPTION '% has both required and required_if: use one', p USING ERRCODE = '22023';
        END IF;
        IF f ? 'section' AND pg_catalog.jsonb_typeof(f -> 'section') OPERATOR(pg_catalog.<>) 'null' THEN
            IF pg_catalog.jsonb_typeof(f -> 'section') OPERATOR(pg_catalog.<>) 'string' OR NOT v_sections ? (f ->> 'section') THEN
                RAISE EXCEPTION '%.section names %, which is not a key of p_definition.sections', p, pg_catalog.left((f -> 'section')::text, 64)
                    USING ERRCODE = '22023';
            END IF;
            IF NOT v_sections -> (f ->> 'section') ? 'first' THEN
                v_sections := pg_catalog.jsonb_set(v_sections, ARRAY[f ->> 'section', 'first'], pg_catalog.to_jsonb(i));
            END IF;
        END IF;

        v_vals := NULL;
        CASE t
        WHEN 'text' THEN
            lo := fieldops.form_check_prop(f, 'min_length', p, 'whole', 0, 20000);
            hi := fieldops.form_check_prop(f, 'max_length', p, 'whole', 1, 20000);
            IF lo::numeric OPERATOR(pg_catalog.>) COALESCE(hi::numeric, 2000) THEN
                RAISE EXCEPTION '%.min_length (%) must not exceed max_length (%)', p, lo, COALESCE(hi::text, '2000, the default')
                    USING ERRCODE = '22023';
            END IF;
            IF fieldops.form_check_prop(f, 'pattern', p, 'string', 1, 500) IS NOT NULL THEN
                BEGIN
                    -- answers must match as a whole: the pattern is used as ^(?:pattern)$
                    PERFORM '' ~ ('^(?:' OPERATOR(pg_catalog.||) (f ->> 'pattern') OPERATOR(pg_catalog.||) ')$');
                EXCEPTION WHEN invalid_regular_expression THEN
                    RAISE EXCEPTION '%.pattern is not a valid regular expression: %', p, SQLERRM USING ERRCODE = '22023';
                END;
            END IF;
            PERFORM fieldops.form_check_prop(f, 'multiline', p, 'boolean');
        WHEN 'number' THEN
            lo := fieldops.form_check_prop(f, 'min', p, 'number');
            hi := fieldops.form_check_prop(f, 'max', p, 'number');
            IF lo::numeric OPERATOR(pg_catalog.>) hi::numeric THEN
                RAISE EXCEPTION '%.min (%) must not exceed max (%)', p, lo, hi USING ERRCODE = '22023';
            END IF;
            IF COALESCE(fieldops.form_check_prop(f, 'integer', p, 'boolean'), 'false') OPERATOR(pg_catalog.=) 'true'
               AND COALESCE(fieldops.form_check_prop(f, 'decimals', p, 'whole', 0, 10), '0')::numeric OPERATOR(pg_catalog.>) 0 THEN
                RAISE EXCEPTION '% has integer true and decimals %: use one', p, f -> 'decimals' USING ERRCODE = '22023';
            END IF;
            PERFORM fieldops.form_check_prop(f, 'decimals', p, 'whole', 0, 10);
            PERFORM fieldops.form_check_prop(f, 'unit', p, 'string', 1, 20);
        WHEN 'single_choice', 'multi_choice' THEN
            IF pg_catalog.jsonb_typeof(f -> 'options') IS DISTINCT FROM 'array'
               OR pg_catalog.jsonb_array_length(f -> 'options') NOT BETWEEN 1 AND 500 THEN
                RAISE EXCEPTION '%.options must be an array of 1 to 500 options {"value": ..., "label": ...}, got %', p,
                    pg_catalog.left(COALESCE((f -> 'options')::text, 'nothing'), 60) USING ERRCODE = '22023';
            END IF;
            v_vals := '[]';
            FOR e, j IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(f -> 'options') WITH ORDINALITY AS y(x, o) LOOP
                q := pg_catalog.format('%s.options[%s]', p, j);
                IF pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'object' THEN
                    RAISE EXCEPTION '% must be an object {"value": ..., "label": ...}, got %', q, pg_catalog.left(e::text, 60) USING ERRCODE = '22023';
                END IF;
                v_extra := ARRAY(SELECT x FROM pg_catalog.jsonb_object_keys(e) AS x WHERE x NOT IN ('value', 'label', 'ui') ORDER BY 1);
                IF pg_catalog.cardinality(v_extra) OPERATOR(pg_catalog.>) 0 THEN
                    RAISE EXCEPTION '% has an unknown property "%"', q, pg_catalog.left(v_extra[1], 64)
                        USING ERRCODE = '22023', HINT = 'An option takes: value, label, ui.';
                END IF;
                PERFORM fieldops.form_check_prop(e, 'value', q, 'string', 1, 100, true);
                n := (SELECT (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(v_vals) WITH ORDINALITY AS y(x, o)
                       WHERE x OPERATOR(pg_catalog.=) (e -> 'value'));
                IF n IS NOT NULL THEN
                    RAISE EXCEPTION '%.value "%" repeats options[%]', q, e ->> 'value', n USING ERRCODE = '22023';
                END IF;
                PERFORM fieldops.form_check_prop(e, 'label', q, 'string', 1, 200, true);
                PERFORM fieldops.form_check_prop(e, 'ui', q, 'object');
                v_vals := v_vals OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(e -> 'value');
            END LOOP;
            IF t OPERATOR(pg_catalog.=) 'multi_choice' THEN
                n := pg_catalog.jsonb_array_length(v_vals);
                lo := fieldops.form_check_prop(f, 'min_selections', p, 'whole', 0, n);
                hi := fieldops.form_check_prop(f, 'max_selections', p, 'whole', 1, n);
                IF lo::numeric OPERATOR(pg_catalog.>) hi::numeric THEN
                    RAISE EXCEPTION '%.min_selections (%) must not exceed max_selections (%)', p, lo, hi USING ERRCODE = '22023';
                END IF;
            END IF;
        WHEN 'date', 'time', 'datetime' THEN
            FOREACH q IN ARRAY ARRAY['min', 'max'] LOOP
                e := f -> q;
                IF e IS NOT NULL AND pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'null'
                   AND NOT (pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'string'
                            AND (fieldops.form_temporal(t, e #>> '{}') IS NOT NULL
                                 OR (t OPERATOR(pg_catalog.=) 'date' AND (e #>> '{}') OPERATOR(pg_catalog.=) 'today')
                                 OR (t OPERATOR(pg_catalog.=) 'datetime' AND (e #>> '{}') OPERATOR(pg_catalog.=) 'now'))) THEN
                    RAISE EXCEPTION '%.% must be %, got %', p, q,
                        CASE t WHEN 'date' THEN 'a date "YYYY-MM-DD" or "today"'
                               WHEN 'time' THEN 'a time "HH:MM" or "HH:MM:SS"'
                               ELSE 'a datetime in ISO 8601 with an offset ("2026-11-27T09:30:00+08:00") or "now"' END,
                        pg_catalog.left(e::text, 60) USING ERRCODE = '22023';
                END IF;
            END LOOP;
            v_lo := fieldops.form_temporal(t, f ->> 'min');
            v_hi := fieldops.form_temporal(t, f ->> 'max');
            IF v_lo IS NOT NULL AND v_hi IS NOT NULL
               AND fieldops.form_compare(t, pg_catalog.to_jsonb(v_lo), pg_catalog.to_jsonb(v_hi)) OPERATOR(pg_catalog.>) 0 THEN
                RAISE EXCEPTION '%.min (%) must not be after max (%)', p, f ->> 'min', f ->> 'max' USING ERRCODE = '22023';
            END IF;
        WHEN 'photo' THEN
            lo := fieldops.form_check_prop(f, 'min_count', p, 'whole', 0, 20);
            hi := fieldops.form_check_prop(f, 'max_count', p, 'whole', 1, 20);
            IF lo::numeric OPERATOR(pg_catalog.>) COALESCE(hi::numeric, 1) THEN
                RAISE EXCEPTION '%.min_count (%) must not exceed max_count (%)', p, lo, COALESCE(hi::text, '1, the default')
                    USING ERRCODE = '22023';
            END IF;
            PERFORM fieldops.form_check_prop(f, 'allow_review', p, 'boolean');
        WHEN 'location' THEN
            PERFORM fieldops.form_check_prop(f, 'max_accuracy_m', p, 'number', 1, 100000);
        WHEN 'checklist' THEN
            IF pg_catalog.jsonb_typeof(f -> 'items') IS DISTINCT FROM 'array'
               OR pg_catalog.jsonb_array_length(f -> 'items') NOT BETWEEN 1 AND 200 THEN
                RAISE EXCEPTION '%.items must be an array of 1 to 200 items {"key": ..., "label": ...}, got %', p,
                    pg_catalog.left(COALESCE((f -> 'items')::text, 'nothing'), 60) USING ERRCODE = '22023';
            END IF;
            v_vals := '[]';
            FOR e, j IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(f -> 'items') WITH ORDINALITY AS y(x, o) LOOP
                q := pg_catalog.format('%s.items[%s]', p, j);
                IF pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'object' THEN
                    RAISE EXCEPTION '% must be an object {"key": ..., "label": ..., "required": ..., "note_when_unchecked": ...}, got %',
                        q, pg_catalog.left(e::text, 60) USING ERRCODE = '22023';
                END IF;
                v_extra := ARRAY(SELECT x FROM pg_catalog.jsonb_object_keys(e) AS x
                                  WHERE x NOT IN ('key', 'label', 'required', 'note_when_unchecked', 'ui') ORDER BY 1);
                IF pg_catalog.cardinality(v_extra) OPERATOR(pg_catalog.>) 0 THEN
                    RAISE EXCEPTION '% has an unknown property "%"', q, pg_catalog.left(v_extra[1], 64)
                        USING ERRCODE = '22023', HINT = 'An item takes: key, label, required, note_when_unchecked, ui.';
                END IF;
                IF pg_catalog.jsonb_typeof(e -> 'key') IS DISTINCT FROM 'string' OR (e ->> 'key') !~ v_key_re THEN
                    RAISE EXCEPTION '%.key must be a lower-case identifier (a-z, 0-9 and _, starting with a letter, at most 63 characters), got %',
                        q, pg_catalog.left(COALESCE((e -> 'key')::text, 'nothing'), 60) USING ERRCODE = '22023';
                END IF;
                n := (SELECT (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(v_vals) WITH ORDINALITY AS y(x, o)
                       WHERE x OPERATOR(pg_catalog.=) (e -> 'key'));
                IF n IS NOT NULL THEN
                    RAISE EXCEPTION '%.key "%" repeats items[%]', q, e ->> 'key', n USING ERRCODE = '22023';
                END IF;
                PERFORM fieldops.form_check_prop(e, 'label', q, 'string', 1, 200, true);
                PERFORM fieldops.form_check_prop(e, 'required', q, 'boolean');
                PERFORM fieldops.form_check_prop(e, 'note_when_unchecked', q, 'boolean');
                PERFORM fieldops.form_check_prop(e, 'ui', q, 'object');
                v_vals := v_vals OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(e -> 'key');
            END LOOP;
        WHEN 'signature' THEN
            PERFORM fieldops.form_check_prop(f, 'max_kb', p, 'whole', 1, 1024);
        ELSE
            NULL;   -- yes_no: nothing of its own
        END CASE;

        IF f ? 'show_if' AND pg_catalog.jsonb_typeof(f -> 'show_if') OPERATOR(pg_catalog.<>) 'null' THEN
            PERFORM fieldops.form_check_condition(f -> 'show_if', p OPERATOR(pg_catalog.||) '.show_if', v_fields, v_all, 'this field');
        END IF;
        IF f ? 'required_if' AND pg_catalog.jsonb_typeof(f -> 'required_if') OPERATOR(pg_catalog.<>) 'null' THEN
            PERFORM fieldops.form_check_condition(f -> 'required_if', p OPERATOR(pg_catalog.||) '.required_if', v_fields, v_all, 'this field');
        END IF;
        v_fields := v_fields OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(k, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'i', i, 'type', t,
            CASE WHEN t IN ('single_choice', 'multi_choice') THEN 'options' ELSE 'items' END, v_vals)));
    END LOOP;

    -- a section holds at least one field; its condition reads fields before its first one
    FOR e, i IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(COALESCE(NULLIF(p_definition -> 'sections', 'null'), '[]'))
                       WITH ORDINALITY AS y(x, o) LOOP
        p := pg_catalog.format('p_definition.sections[%s]', i);
        n := (v_sections -> (e ->> 'key') ->> 'first')::integer;
        IF n IS NULL THEN
            RAISE EXCEPTION '% ("%") has no field: name it as the section of at least one field, or remove it', p, e ->> 'key'
                USING ERRCODE = '22023';
        END IF;
        IF e ? 'show_if' AND pg_catalog.jsonb_typeof(e -> 'show_if') OPERATOR(pg_catalog.<>) 'null' THEN
            SELECT COALESCE(pg_catalog.jsonb_object_agg(x.key, x.value), '{}') INTO v_before
              FROM pg_catalog.jsonb_each(v_fields) AS x WHERE (x.value ->> 'i')::integer OPERATOR(pg_catalog.<) n;
            PERFORM fieldops.form_check_condition(e -> 'show_if', p OPERATOR(pg_catalog.||) '.show_if', v_before, v_all,
                pg_catalog.format('the section''s first field (fields[%s])', n));
        END IF;
    END LOOP;
    RETURN pg_catalog.jsonb_array_length(p_definition -> 'fields');
END
$$;
COMMENT ON FUNCTION fieldops.form_check_definition(jsonb) IS
'Internal: validate a form definition (structure, keys, types and their rules, options, items, sections, conditions reading only earlier fields); returns the number of fields; 22004 for NULL, 22023 naming the JSON path of the first problem.';

--
-- Answers
--
CREATE FUNCTION fieldops.form_error(p_path text, p_rule text, p_message text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('path', p_path, 'rule', p_rule, 'message', p_message)
$$;
COMMENT ON FUNCTION fieldops.form_error(text, text, text) IS
'Internal: one error of a form''s answers: the JSON path of the answer (answers.<key>[...]), the rule it breaks and a sentence.';

-- validate answers against a definition (already valid: define_form()
-- checked it); returns {"errors": [...], "answers": normalised, "dropped":
-- [hidden keys that were answered]}.  p_workers: the workers whose photos
-- may be used (NULL: not checked); p_visit_id: the submission's visit
-- (photos of another visit are refused; NULL: not checked)
CREATE FUNCTION fieldops.form_validate(p_tenant_id bigint, p_definition jsonb, p_answers jsonb,
                                       p_workers bigint[] DEFAULT NULL, p_visit_id bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_errs jsonb := '[]';
    v_vals jsonb := '{}';       -- the normalised answers of the visible, valid, answered fields so far
    v_types jsonb := '{}';      -- key -> type of every field
    v_sections jsonb;           -- section key -> its definition
    v_secvis jsonb := '{}';     -- section key -> visible
    v_dropped text[] := '{}';
    f jsonb;
    a jsonb;
    e jsonb;
    nv jsonb;
    v_items jsonb;
    v_state jsonb;
    r record;
    k text;
    t text;
    p text;
    q text;
    lbl text;
    sv text;
    v_unit text;
    v_bound text;
    nn numeric;
    n integer;
    j integer;
    v_before integer;
    v_dec integer;
    v_visible boolean;
    v_required boolean;
    v_bytes bytea;
BEGIN
    SELECT pg_catalog.jsonb_object_agg(x ->> 'key', x) INTO v_sections
      FROM pg_catalog.jsonb_array_elements(COALESCE(NULLIF(p_definition -> 'sections', 'null'), '[]')) AS x;
    FOR f IN SELECT x FROM pg_catalog.jsonb_array_elements(p_definition -> 'fields') AS x LOOP
        k := f ->> 'key';
        t := f ->> 'type';
        p := 'answers.' OPERATOR(pg_catalog.||) k;
        lbl := f ->> 'label';
        v_types := v_types OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(k, t);
        a := p_answers -> k;
        -- null, a blank string and an empty array are no answer
        IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'null'
           OR (pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'string' AND (a #>> '{}') ~ '^[[:space:]]*$')
           OR a OPERATOR(pg_catalog.=) '[]' THEN
            a := NULL;
        END IF;

        -- visibility: the section's condition, then the field's
        v_visible := true;
        IF f ? 'section' AND pg_catalog.jsonb_typeof(f -> 'section') OPERATOR(pg_catalog.=) 'string' THEN
            IF NOT v_secvis ? (f ->> 'section') THEN
                e := v_sections -> (f ->> 'section') -> 'show_if';
                v_secvis := v_secvis OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(f ->> 'section',
                    e IS NULL OR pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'null' OR fieldops.form_condition(e, v_vals, v_types));
            END IF;
            v_visible := (v_secvis ->> (f ->> 'section'))::boolean;
        END IF;
        IF v_visible AND pg_catalog.jsonb_typeof(f -> 'show_if') OPERATOR(pg_catalog.=) 'object' THEN
            v_visible := fieldops.form_condition(f -> 'show_if', v_vals, v_types);
        END IF;
        IF NOT v_visible THEN
            IF a IS NOT NULL THEN
                v_dropped := v_dropped OPERATOR(pg_catalog.||) k;
            END IF;
            CONTINUE;
        END IF;

        v_required := COALESCE((f ->> 'required')::boolean, false)
                      OR (pg_catalog.jsonb_typeof(f -> 'required_if') OPERATOR(pg_catalog.=) 'object'
                          AND fieldops.form_condition(f -> 'required_if', v_vals, v_types));
        IF a IS NULL THEN
            IF v_required THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'required', pg_catalog.format('%s is required', lbl));
            ELSIF t OPERATOR(pg_catalog.=) 'checklist' THEN
                -- required items must be checked even when nothing was answered
                v_errs := v_errs OPERATOR(pg_catalog.||) COALESCE((
                    SELECT pg_catalog.jsonb_agg(fieldops.form_error(p, 'required_items',
                               pg_catalog.format('%s: item "%s" (%s) must be checked', lbl, i ->> 'key', i ->> 'label')) ORDER BY o)
                      FROM pg_catalog.jsonb_array_elements(f -> 'items') WITH ORDINALITY AS y(i, o)
                     WHERE (i ->> 'required')::boolean), '[]');
            END IF;
            CONTINUE;
        END IF;

        v_before := pg_catalog.jsonb_array_length(v_errs);
        nv := NULL;
        CASE t
        WHEN 'text' THEN
            IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.<>) 'string' THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be text (a JSON string), got %s', lbl, pg_catalog.left(a::text, 40)));
            ELSE
                sv := pg_catalog.regexp_replace(a #>> '{}', '^[[:space:]]+|[[:space:]]+$', '', 'g');
                n := pg_catalog.length(sv);
                IF n OPERATOR(pg_catalog.<) COALESCE((f ->> 'min_length')::integer, 0) THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'min_length',
                        pg_catalog.format('%s must be at least %s characters long, got %s', lbl, f ->> 'min_length', n));
                END IF;
                IF n OPERATOR(pg_catalog.>) COALESCE((f ->> 'max_length')::integer, 2000) THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'max_length',
                        pg_catalog.format('%s must be at most %s characters long, got %s', lbl, COALESCE(f ->> 'max_length', '2000'), n));
                END IF;
                IF pg_catalog.jsonb_typeof(f -> 'pattern') OPERATOR(pg_catalog.=) 'string'
                   AND sv !~ ('^(?:' OPERATOR(pg_catalog.||) (f ->> 'pattern') OPERATOR(pg_catalog.||) ')$') THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'pattern',
                        pg_catalog.format('%s does not have the expected format (%s), got "%s"', lbl, f ->> 'pattern', pg_catalog.left(sv, 40)));
                END IF;
                nv := pg_catalog.to_jsonb(sv);
            END IF;
        WHEN 'number' THEN
            IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.<>) 'number' THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be a number (a JSON number), got %s', lbl, pg_catalog.left(a::text, 40)));
            ELSE
                nn := a::numeric;
                v_unit := COALESCE(' ' OPERATOR(pg_catalog.||) (f ->> 'unit'), '');
                IF nn OPERATOR(pg_catalog.<) (f ->> 'min')::numeric THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'min',
                        pg_catalog.format('%s must be at least %s%s, got %s', lbl, f ->> 'min', v_unit, nn));
                END IF;
                IF nn OPERATOR(pg_catalog.>) (f ->> 'max')::numeric THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'max',
                        pg_catalog.format('%s must be at most %s%s, got %s', lbl, f ->> 'max', v_unit, nn));
                END IF;
                v_dec := CASE WHEN (f ->> 'integer')::boolean THEN 0 ELSE (f ->> 'decimals')::integer END;
                IF pg_catalog.scale(pg_catalog.trim_scale(nn)) OPERATOR(pg_catalog.>) v_dec THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'decimals',
                        CASE WHEN v_dec OPERATOR(pg_catalog.=) 0 THEN pg_catalog.format('%s must be a whole number, got %s', lbl, nn)
                             WHEN v_dec OPERATOR(pg_catalog.=) 1 THEN pg_catalog.format('%s must have at most 1 decimal place, got %s', lbl, nn)
                             ELSE pg_catalog.format('%s must have at most %s decimal places, got %s', lbl, v_dec, nn) END);
                END IF;
                nv := pg_catalog.to_jsonb(pg_catalog.trim_scale(nn));
            END IF;
        WHEN 'single_choice' THEN
            IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.<>) 'string' THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be an option value (a JSON string), got %s', lbl, pg_catalog.left(a::text, 40)));
            ELSIF NOT (f -> 'options') OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('value', a)) THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'option',
                    pg_catalog.format('%s must be one of %s, got %s', lbl, pg_catalog.left((SELECT pg_catalog.string_agg(o -> 'value' #>> '{}', ', ')
                        FROM pg_catalog.jsonb_array_elements(f -> 'options') AS o), 200), pg_catalog.left(a::text, 40)));
            ELSE
                nv := a;
            END IF;
        WHEN 'multi_choice' THEN
            IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.<>) 'array' THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be an array of option values, got %s', lbl, pg_catalog.left(a::text, 40)));
            ELSE
                v_state := '[]';
                FOR e, j IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(a) WITH ORDINALITY AS y(x, o) LOOP
                    q := pg_catalog.format('%s[%s]', p, j);
                    IF pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'string' THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'type',
                            pg_catalog.format('%s: a choice must be an option value (a JSON string), got %s', lbl, pg_catalog.left(e::text, 40)));
                    ELSIF NOT (f -> 'options') OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('value', e)) THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'option',
                            pg_catalog.format('%s: a choice must be one of %s, got %s', lbl, pg_catalog.left((SELECT pg_catalog.string_agg(o -> 'value' #>> '{}', ', ')
                                FROM pg_catalog.jsonb_array_elements(f -> 'options') AS o), 200), pg_catalog.left(e::text, 40)));
                    ELSIF v_state OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(e) THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'duplicate',
                            pg_catalog.format('%s: %s is chosen twice', lbl, e));
                    ELSE
                        v_state := v_state OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(e);
                    END IF;
                END LOOP;
                n := pg_catalog.jsonb_array_length(a);
                IF n OPERATOR(pg_catalog.<) (f ->> 'min_selections')::integer THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'min_selections',
                        pg_catalog.format('%s needs at least %s choices, got %s', lbl, f ->> 'min_selections', n));
                END IF;
                IF n OPERATOR(pg_catalog.>) (f ->> 'max_selections')::integer THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'max_selections',
                        pg_catalog.format('%s allows at most %s choices, got %s', lbl, f ->> 'max_selections', n));
                END IF;
                -- in the order of the options
                SELECT pg_catalog.jsonb_agg(o -> 'value' ORDER BY i) INTO nv
                  FROM pg_catalog.jsonb_array_elements(f -> 'options') WITH ORDINALITY AS y(o, i)
                 WHERE v_state OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(o -> 'value');
            END IF;
        WHEN 'date', 'time', 'datetime' THEN
            sv := CASE WHEN pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'string' THEN fieldops.form_temporal(t, a #>> '{}') END;
            IF sv IS NULL THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be %s, got %s', lbl,
                        CASE t WHEN 'date' THEN 'a date "YYYY-MM-DD"' WHEN 'time' THEN 'a time "HH:MM" or "HH:MM:SS"'
                               ELSE 'a datetime in ISO 8601 with an offset ("2026-11-27T09:30:00+08:00")' END,
                        pg_catalog.left(a::text, 40)));
            ELSE
                FOREACH q IN ARRAY ARRAY['min', 'max'] LOOP
                    CONTINUE WHEN pg_catalog.jsonb_typeof(f -> q) IS DISTINCT FROM 'string';
                    v_bound := CASE f ->> q
                        WHEN 'today' THEN pg_catalog.to_char(fieldops.tenant_local_date(p_tenant_id), 'YYYY-MM-DD')
                        -- phone clocks run a little ahead: five minutes' tolerance after now
                        WHEN 'now' THEN pg_catalog.to_char((pg_catalog.statement_timestamp() OPERATOR(pg_catalog.+)
                                            CASE q WHEN 'max' THEN '5 min'::interval ELSE '0'::interval END) AT TIME ZONE 'UTC',
                                            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                        ELSE f ->> q END;
                    IF (q OPERATOR(pg_catalog.=) 'min' AND fieldops.form_compare(t, pg_catalog.to_jsonb(sv), pg_catalog.to_jsonb(v_bound)) OPERATOR(pg_catalog.<) 0)
                       OR (q OPERATOR(pg_catalog.=) 'max' AND fieldops.form_compare(t, pg_catalog.to_jsonb(sv), pg_catalog.to_jsonb(v_bound)) OPERATOR(pg_catalog.>) 0) THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, q,
                            pg_catalog.format('%s must not be %s %s, got %s', lbl, CASE q WHEN 'min' THEN 'before' ELSE 'after' END,
                                CASE f ->> q WHEN 'today' THEN 'today (' OPERATOR(pg_catalog.||) v_bound OPERATOR(pg_catalog.||) ')'
                                             WHEN 'now' THEN 'now' ELSE f ->> q END,
                                a #>> '{}'));
                    END IF;
                END LOOP;
                nv := pg_catalog.to_jsonb(sv);
            END IF;
        WHEN 'yes_no' THEN
            IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.<>) 'boolean' THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be true or false, got %s', lbl, pg_catalog.left(a::text, 40)));
            ELSE
                nv := a;
            END IF;
        WHEN 'photo' THEN
            e := CASE WHEN pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'array' THEN a ELSE pg_catalog.jsonb_build_array(a) END;
            n := pg_catalog.jsonb_array_length(e);
            IF n OPERATOR(pg_catalog.>) COALESCE((f ->> 'max_count')::integer, 1) THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'max_count',
                    CASE WHEN COALESCE((f ->> 'max_count')::integer, 1) OPERATOR(pg_catalog.=) 1 THEN pg_catalog.format('%s takes one photo, got %s', lbl, n)
                         ELSE pg_catalog.format('%s takes at most %s photos, got %s', lbl, f ->> 'max_count', n) END);
            END IF;
            IF n OPERATOR(pg_catalog.<) COALESCE((f ->> 'min_count')::integer, 0) THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'min_count',
                    pg_catalog.format('%s needs at least %s photos, got %s', lbl, f ->> 'min_count', n));
            END IF;
            v_state := '[]';
            FOR a, j IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(e) WITH ORDINALITY AS y(x, o) LOOP
                q := CASE WHEN pg_catalog.jsonb_typeof(p_answers -> k) OPERATOR(pg_catalog.=) 'array' THEN pg_catalog.format('%s[%s]', p, j) ELSE p END;
                r := NULL;
                IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'number' AND (a #>> '{}') ~ '^[1-9][0-9]{0,17}$' THEN
                    SELECT x.photo_id, x.verdict, x.worker_id, x.visit_id, x.reasons INTO r FROM fieldops.photo x
                     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.photo_id OPERATOR(pg_catalog.=) (a #>> '{}')::bigint;
                ELSIF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'string' AND (a #>> '{}') ~ '^[0-9a-fA-F]{64}$' THEN
                    -- the image's first submission whose signature verified (a later
                    -- one is a reuse), else the first submission of it at all
                    SELECT x.photo_id, x.verdict, x.worker_id, x.visit_id, x.reasons INTO r FROM fieldops.photo x
                     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.signature_ok
                       AND x.photo_sha256 OPERATOR(pg_catalog.=) pg_catalog.decode(a #>> '{}', 'hex')
                     ORDER BY x.photo_id LIMIT 1;
                    IF r.photo_id IS NULL THEN
                        SELECT x.photo_id, x.verdict, x.worker_id, x.visit_id, x.reasons INTO r FROM fieldops.photo x
                         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                           AND x.photo_sha256 OPERATOR(pg_catalog.=) pg_catalog.decode(a #>> '{}', 'hex')
                         ORDER BY x.photo_id LIMIT 1;
                    END IF;
                ELSE
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'type',
                        pg_catalog.format('%s: a photo is a photo id or the SHA-256 of its image (64 hex digits), got %s', lbl, pg_catalog.left(a::text, 40)));
                    CONTINUE;
                END IF;
                IF r.photo_id IS NULL THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'photo_unknown',
                        CASE WHEN pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'number'
                             THEN pg_catalog.format('%s: photo %s was never submitted (fieldops.submit_photo)', lbl, a)
                             ELSE pg_catalog.format('%s: no photo with the image SHA-256 %s was submitted (fieldops.submit_photo)', lbl, a #>> '{}') END);
                ELSIF r.verdict OPERATOR(pg_catalog.=) 'rejected' THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'photo_rejected',
                        pg_catalog.format('%s: photo %s was rejected (%s)', lbl, r.photo_id,
                            (SELECT pg_catalog.string_agg(x ->> 'code', ', ') FROM pg_catalog.jsonb_array_elements(r.reasons) AS x
                              WHERE x ->> 'severity' OPERATOR(pg_catalog.=) 'reject')));
                ELSIF r.verdict OPERATOR(pg_catalog.=) 'review' AND NOT COALESCE((f ->> 'allow_review')::boolean, true) THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'photo_review',
                        pg_catalog.format('%s: photo %s is under review and this field takes accepted photos only', lbl, r.photo_id));
                ELSIF p_workers IS NOT NULL AND NOT (r.worker_id OPERATOR(pg_catalog.=) ANY (p_workers)) THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'photo_worker',
                        pg_catalog.format('%s: photo %s was taken by worker %s, not by the worker who submits the form', lbl, r.photo_id, r.worker_id));
                ELSIF p_visit_id IS NOT NULL AND r.visit_id IS NOT NULL AND r.visit_id OPERATOR(pg_catalog.<>) p_visit_id THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'photo_visit',
                        pg_catalog.format('%s: photo %s was taken for visit %s, not for visit %s (the submission''s)', lbl, r.photo_id, r.visit_id, p_visit_id));
                ELSIF v_state OPERATOR(pg_catalog.@>) pg_catalog.jsonb_build_array(r.photo_id) THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'duplicate',
                        pg_catalog.format('%s: photo %s is given twice', lbl, r.photo_id));
                ELSE
                    v_state := v_state OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(r.photo_id);
                END IF;
            END LOOP;
            nv := v_state;
        WHEN 'location' THEN
            IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.<>) 'object' THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be a position {"lat": ..., "lon": ..., "accuracy_m": ...}, got %s', lbl, pg_catalog.left(a::text, 40)));
            ELSE
                FOR q IN SELECT x FROM pg_catalog.jsonb_object_keys(a) AS x WHERE x NOT IN ('lat', 'lon', 'accuracy_m') ORDER BY 1 LOOP
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) q, 'type',
                        pg_catalog.format('%s: a position has lat, lon and accuracy_m only, not "%s"', lbl, pg_catalog.left(q, 40)));
                END LOOP;
                FOREACH q IN ARRAY ARRAY['lat', 'lon'] LOOP
                    IF pg_catalog.jsonb_typeof(a -> q) IS DISTINCT FROM 'number' THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) q, 'type',
                            pg_catalog.format('%s: %s must be a number of degrees (WGS-84), got %s', lbl, q, pg_catalog.left(COALESCE((a -> q)::text, 'nothing'), 40)));
                    ELSIF pg_catalog.abs((a -> q)::numeric) OPERATOR(pg_catalog.>) (CASE q WHEN 'lat' THEN 90 ELSE 180 END) THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) q, 'range',
                            pg_catalog.format('%s: %s must be between -%s and %s, got %s', lbl, q, CASE q WHEN 'lat' THEN 90 ELSE 180 END,
                                CASE q WHEN 'lat' THEN 90 ELSE 180 END, a -> q));
                    END IF;
                END LOOP;
                IF pg_catalog.jsonb_array_length(v_errs) OPERATOR(pg_catalog.=) v_before
                   AND (a -> 'lat')::numeric OPERATOR(pg_catalog.=) 0 AND (a -> 'lon')::numeric OPERATOR(pg_catalog.=) 0 THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'range',
                        pg_catalog.format('%s is 0, 0: the phone had no position', lbl));
                END IF;
                IF a ? 'accuracy_m' AND pg_catalog.jsonb_typeof(a -> 'accuracy_m') OPERATOR(pg_catalog.<>) 'null'
                   AND (pg_catalog.jsonb_typeof(a -> 'accuracy_m') OPERATOR(pg_catalog.<>) 'number' OR (a -> 'accuracy_m')::numeric OPERATOR(pg_catalog.<) 0) THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.accuracy_m', 'type',
                        pg_catalog.format('%s: accuracy_m must be a number of metres, 0 or more, got %s', lbl, pg_catalog.left((a -> 'accuracy_m')::text, 40)));
                ELSIF f ? 'max_accuracy_m' AND pg_catalog.jsonb_typeof(f -> 'max_accuracy_m') OPERATOR(pg_catalog.=) 'number' THEN
                    IF pg_catalog.jsonb_typeof(a -> 'accuracy_m') IS DISTINCT FROM 'number' THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.accuracy_m', 'accuracy',
                            pg_catalog.format('%s needs the accuracy of the position (accuracy_m, at most %s m)', lbl, f ->> 'max_accuracy_m'));
                    ELSIF (a -> 'accuracy_m')::numeric OPERATOR(pg_catalog.>) (f -> 'max_accuracy_m')::numeric THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.accuracy_m', 'accuracy',
                            pg_catalog.format('%s is too imprecise: accuracy %s m, at most %s m allowed', lbl, a -> 'accuracy_m', f ->> 'max_accuracy_m'));
                    END IF;
                END IF;
                nv := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('lat', a -> 'lat', 'lon', a -> 'lon',
                          'accuracy_m', NULLIF(a -> 'accuracy_m', 'null')));
            END IF;
        WHEN 'checklist' THEN
            IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.<>) 'array' THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be an array of {"item": ..., "checked": ..., "note": ...}, got %s', lbl, pg_catalog.left(a::text, 40)));
            ELSE
                SELECT pg_catalog.jsonb_object_agg(i ->> 'key', i) INTO v_items FROM pg_catalog.jsonb_array_elements(f -> 'items') AS i;
                v_state := '{}';
                FOR e, j IN SELECT x, (o OPERATOR(pg_catalog.-) 1)::integer FROM pg_catalog.jsonb_array_elements(a) WITH ORDINALITY AS y(x, o) LOOP
                    q := pg_catalog.format('%s[%s]', p, j);
                    IF pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'object'
                       OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(e) AS x WHERE x NOT IN ('item', 'checked', 'note')) THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'type',
                            pg_catalog.format('%s: an answer is {"item": ..., "checked": ..., "note": ...}, got %s', lbl, pg_catalog.left(e::text, 60)));
                    ELSIF pg_catalog.jsonb_typeof(e -> 'item') IS DISTINCT FROM 'string' OR NOT v_items ? (e ->> 'item') THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q OPERATOR(pg_catalog.||) '.item', 'item',
                            pg_catalog.format('%s has no item %s', lbl, pg_catalog.left(COALESCE((e -> 'item')::text, 'nothing'), 40)));
                    ELSIF v_state ? (e ->> 'item') THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'duplicate',
                            pg_catalog.format('%s: item "%s" is answered twice', lbl, e ->> 'item'));
                    ELSIF pg_catalog.jsonb_typeof(e -> 'checked') IS DISTINCT FROM 'boolean' THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q OPERATOR(pg_catalog.||) '.checked', 'type',
                            pg_catalog.format('%s: item "%s" needs "checked": true or false', lbl, e ->> 'item'));
                    ELSIF e ? 'note' AND pg_catalog.jsonb_typeof(e -> 'note') NOT IN ('string', 'null') THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q OPERATOR(pg_catalog.||) '.note', 'type',
                            pg_catalog.format('%s: the note of item "%s" must be text', lbl, e ->> 'item'));
                    ELSE
                        sv := NULLIF(pg_catalog.regexp_replace(COALESCE(e ->> 'note', ''), '^[[:space:]]+|[[:space:]]+$', '', 'g'), '');
                        v_state := v_state OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(e ->> 'item',
                            pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('checked', e -> 'checked', 'note', sv)));
                        IF pg_catalog.length(sv) OPERATOR(pg_catalog.>) 1000 THEN
                            v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q OPERATOR(pg_catalog.||) '.note', 'max_length',
                                pg_catalog.format('%s: the note of item "%s" must be at most 1000 characters long, got %s', lbl, e ->> 'item', pg_catalog.length(sv)));
                        END IF;
                        IF NOT (e ->> 'checked')::boolean THEN
                            IF (v_items -> (e ->> 'item') ->> 'required')::boolean THEN
                                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q, 'required_items',
                                    pg_catalog.format('%s: item "%s" (%s) must be checked', lbl, e ->> 'item', v_items -> (e ->> 'item') ->> 'label'));
                            ELSIF (v_items -> (e ->> 'item') ->> 'note_when_unchecked')::boolean AND sv IS NULL THEN
                                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(q OPERATOR(pg_catalog.||) '.note', 'note_required',
                                    pg_catalog.format('%s: item "%s" (%s) is not checked and needs a note saying why', lbl, e ->> 'item',
                                        v_items -> (e ->> 'item') ->> 'label'));
                            END IF;
                        END IF;
                    END IF;
                END LOOP;
                -- required items nobody answered
                v_errs := v_errs OPERATOR(pg_catalog.||) COALESCE((
                    SELECT pg_catalog.jsonb_agg(fieldops.form_error(p, 'required_items',
                               pg_catalog.format('%s: item "%s" (%s) must be checked', lbl, i ->> 'key', i ->> 'label')) ORDER BY o)
                      FROM pg_catalog.jsonb_array_elements(f -> 'items') WITH ORDINALITY AS y(i, o)
                     WHERE (i ->> 'required')::boolean AND NOT v_state ? (i ->> 'key')
                       AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(a) AS x
                                        WHERE pg_catalog.jsonb_typeof(x) OPERATOR(pg_catalog.=) 'object'
                                          AND (x ->> 'item') OPERATOR(pg_catalog.=) (i ->> 'key'))), '[]');
                -- every item in the definition's order, unanswered ones unchecked
                SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('item', i ->> 'key')
                           OPERATOR(pg_catalog.||) COALESCE(v_state -> (i ->> 'key'), '{"checked": false}') ORDER BY o) INTO nv
                  FROM pg_catalog.jsonb_array_elements(f -> 'items') WITH ORDINALITY AS y(i, o);
            END IF;
        WHEN 'signature' THEN
            IF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.<>) 'object' THEN
                v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p, 'type',
                    pg_catalog.format('%s must be a signature {"signer": ..., "image": ..., "signed_at": ...}, got %s', lbl, pg_catalog.left(a::text, 40)));
            ELSE
                FOR q IN SELECT x FROM pg_catalog.jsonb_object_keys(a) AS x WHERE x NOT IN ('signer', 'image', 'signed_at') ORDER BY 1 LOOP
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) q, 'type',
                        pg_catalog.format('%s: a signature has signer, image and signed_at only, not "%s"', lbl, pg_catalog.left(q, 40)));
                END LOOP;
                IF pg_catalog.jsonb_typeof(a -> 'signer') IS DISTINCT FROM 'string' OR (a ->> 'signer') ~ '^[[:space:]]*$'
                   OR pg_catalog.length(a ->> 'signer') OPERATOR(pg_catalog.>) 200 THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.signer', 'signer',
                        pg_catalog.format('%s needs the signer''s name (text of 1 to 200 characters), got %s', lbl,
                            pg_catalog.left(COALESCE((a -> 'signer')::text, 'nothing'), 40)));
                END IF;
                v_bytes := NULL;
                IF pg_catalog.jsonb_typeof(a -> 'image') OPERATOR(pg_catalog.=) 'string' THEN
                    -- a data URL (data:image/png;base64,...) or bare base64
                    sv := pg_catalog.regexp_replace(pg_catalog.regexp_replace(a ->> 'image', '^data:image/[a-z0-9.+-]+;base64,', ''), '[[:space:]]', '', 'g');
                    IF sv ~ '^[A-Za-z0-9+/]+={0,2}$' AND (pg_catalog.length(sv) OPERATOR(pg_catalog.%) 4) OPERATOR(pg_catalog.=) 0 THEN
                        v_bytes := pg_catalog.decode(sv, 'base64');
                    END IF;
                END IF;
                IF v_bytes IS NULL OR pg_catalog.length(v_bytes) OPERATOR(pg_catalog.=) 0 THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.image', 'image',
                        pg_catalog.format('%s needs the signature image, base64-encoded (or a data:image/...;base64 URL)', lbl));
                ELSIF pg_catalog.length(v_bytes) OPERATOR(pg_catalog.>) (COALESCE((f ->> 'max_kb')::integer, 256) OPERATOR(pg_catalog.*) 1024) THEN
                    v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.image', 'max_bytes',
                        pg_catalog.format('%s: the image must be at most %s kB, got %s bytes', lbl, COALESCE(f ->> 'max_kb', '256'), pg_catalog.length(v_bytes)));
                END IF;
                sv := NULL;
                IF a ? 'signed_at' AND pg_catalog.jsonb_typeof(a -> 'signed_at') OPERATOR(pg_catalog.<>) 'null' THEN
                    sv := CASE WHEN pg_catalog.jsonb_typeof(a -> 'signed_at') OPERATOR(pg_catalog.=) 'string' THEN fieldops.form_temporal('datetime', a ->> 'signed_at') END;
                    IF sv IS NULL THEN
                        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error(p OPERATOR(pg_catalog.||) '.signed_at', 'type',
                            pg_catalog.format('%s: signed_at must be a datetime in ISO 8601 with an offset, got %s', lbl, pg_catalog.left((a -> 'signed_at')::text, 40)));
                    END IF;
                END IF;
                nv := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('signer', pg_catalog.btrim(a ->> 'signer'), 'image', a -> 'image',
                          'sha256', pg_catalog.encode(pg_catalog.sha256(v_bytes), 'hex'), 'signed_at', sv));
            END IF;
        END CASE;
        IF pg_catalog.jsonb_array_length(v_errs) OPERATOR(pg_catalog.=) v_before AND nv IS NOT NULL THEN
            v_vals := v_vals OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(k, nv);
        END IF;
    END LOOP;

    -- keys that are no field of the form: a typo or another version's field
    FOR k IN SELECT x FROM pg_catalog.jsonb_object_keys(p_answers) AS x WHERE NOT v_types ? x ORDER BY 1 LOOP
        v_errs := v_errs OPERATOR(pg_catalog.||) fieldops.form_error('answers.' OPERATOR(pg_catalog.||) k, 'unknown_field',
            pg_catalog.format('"%s" is not a field of this form version', pg_catalog.left(k, 64)));
    END LOOP;
    RETURN pg_catalog.jsonb_build_object('errors', v_errs, 'answers', v_vals, 'dropped', pg_catalog.to_jsonb(v_dropped));
END
$$;
COMMENT ON FUNCTION fieldops.form_validate(bigint, jsonb, jsonb, bigint[], bigint) IS
'Internal: validate answers against a valid definition in one pass over the fields; returns {"errors": [{path, rule, message}], "answers": the normalised answers, "dropped": keys of hidden fields that were answered}. p_workers and p_visit_id enable the context rules of photos (photo_worker, photo_visit).';

--
-- The API
--

-- a form version by code and number (NULL: the current one)
CREATE FUNCTION fieldops.form_version_row(p_tenant_id bigint, p_code text, p_version integer, p_arg text)
RETURNS fieldops.form_version
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    fm fieldops.form;
    v fieldops.form_version;
BEGIN
    PERFORM fieldops.check_code(p_code, p_arg);
    IF p_version OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_version must be a version number (1 or more), or NULL for the current version, got %', p_version
            USING ERRCODE = '22023';
    END IF;
    SELECT * INTO fm FROM fieldops.form x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.code OPERATOR(pg_catalog.=) p_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% "%" is not a form of tenant %', p_arg, p_code, p_tenant_id
            USING ERRCODE = '23503', HINT = 'Forms are created with fieldops.define_form().';
    END IF;
    SELECT * INTO v FROM fieldops.form_version x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.form_id OPERATOR(pg_catalog.=) fm.form_id
       AND x.version OPERATOR(pg_catalog.=) COALESCE(p_version, fm.current_version);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'form "%" has no version % (its versions are 1 to %)', p_code, p_version, fm.current_version
            USING ERRCODE = '23503';
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION fieldops.form_version_row(bigint, text, integer, text) IS
'Internal: a form''s version by code (p_arg names the argument in errors) and number, NULL for the current one; 22004/22023 for a bad code or number, 23503 for an unknown form or version.';

-- the answers argument of check_form_answers() and submit_form()
CREATE FUNCTION fieldops.form_answers_arg(p_answers jsonb)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF p_answers IS NULL THEN
        RAISE EXCEPTION 'p_answers must not be null' USING ERRCODE = '22004', HINT = 'No answer at all is {}.';
    END IF;
    IF pg_catalog.jsonb_typeof(p_answers) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'p_answers must be a JSON object {"<field key>": answer, ...}, got %', pg_catalog.left(p_answers::text, 60)
            USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.pg_column_size(p_answers) OPERATOR(pg_catalog.>) 8388608 THEN
        RAISE EXCEPTION 'p_answers must be at most 8 MB' USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.form_answers_arg(jsonb) IS
'Internal: p_answers is a JSON object of at most 8 MB (22004, 22023).';

CREATE FUNCTION fieldops.define_form(p_tenant_id bigint, p_code text, p_name text, p_definition jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_name text;
    v_count integer;
    v_def jsonb;
    v_version integer;
    fm fieldops.form;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_code, 'p_code');
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'p_name must not be null' USING ERRCODE = '22004';
    END IF;
    v_name := fieldops.check_text(p_name, 'p_name', 200);
    v_count := fieldops.form_check_definition(p_definition);

    INSERT INTO fieldops.form (tenant_id, code, name, current_version) VALUES (p_tenant_id, p_code, v_name, 1)
    ON CONFLICT (tenant_id, code) DO NOTHING
    RETURNING * INTO fm;
    IF fm.form_id IS NOT NULL THEN
        INSERT INTO fieldops.form_version (tenant_id, form_id, version, definition, field_count)
        VALUES (p_tenant_id, fm.form_id, 1, p_definition, v_count);
        PERFORM fieldops.emit_event(p_tenant_id, 'form.defined', 'form', fm.form_id,
            pg_catalog.jsonb_build_object('code', p_code, 'name', v_name, 'version', 1, 'new_version', true));
        RETURN 1;
    END IF;

    -- an existing form: its row lock numbers the versions one at a time
    SELECT * INTO fm FROM fieldops.form x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.code OPERATOR(pg_catalog.=) p_code
       FOR NO KEY UPDATE;
    SELECT x.definition INTO v_def FROM fieldops.form_version x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.form_id OPERATOR(pg_catalog.=) fm.form_id
       AND x.version OPERATOR(pg_catalog.=) fm.current_version;
    IF v_def OPERATOR(pg_catalog.=) p_definition THEN
        IF fm.name OPERATOR(pg_catalog.<>) v_name THEN
            UPDATE fieldops.form SET name = v_name, updated_at = pg_catalog.now()
             WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND form_id OPERATOR(pg_catalog.=) fm.form_id;
            PERFORM fieldops.emit_event(p_tenant_id, 'form.defined', 'form', fm.form_id,
                pg_catalog.jsonb_build_object('code', p_code, 'name', v_name, 'version', fm.current_version, 'new_version', false));
        END IF;
        RETURN fm.current_version;
    END IF;
    v_version := fm.current_version OPERATOR(pg_catalog.+) 1;
    INSERT INTO fieldops.form_version (tenant_id, form_id, version, definition, field_count)
    VALUES (p_tenant_id, fm.form_id, v_version, p_definition, v_count);
    UPDATE fieldops.form SET current_version = v_version, name = v_name, updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND form_id OPERATOR(pg_catalog.=) fm.form_id;
    PERFORM fieldops.emit_event(p_tenant_id, 'form.defined', 'form', fm.form_id,
        pg_catalog.jsonb_build_object('code', p_code, 'name', v_name, 'version', v_version, 'new_version', true));
    RETURN v_version;
END
$$;
COMMENT ON FUNCTION fieldops.define_form(bigint, text, text, jsonb) IS
'Create a form or give it a new definition; returns the version in force. The definition is validated (22023 naming the JSON path of the first problem); a new version is stored only when it differs from the current one (as JSON), old versions are never edited. A changed p_name alone is updated without a new version. Outbox: form.defined.';

CREATE FUNCTION fieldops.get_form(p_tenant_id bigint, p_code text, p_version integer DEFAULT NULL)
RETURNS TABLE (form_id bigint, code text, name text, version integer, current_version integer,
               definition jsonb, field_count integer, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
DECLARE
    v fieldops.form_version;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v := fieldops.form_version_row(p_tenant_id, p_code, p_version, 'p_code');
    RETURN QUERY
        SELECT f.form_id, f.code, f.name, v.version, f.current_version, v.definition, v.field_count, v.created_at
          FROM fieldops.form f
         WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.form_id OPERATOR(pg_catalog.=) v.form_id;
END
$$;
COMMENT ON FUNCTION fieldops.get_form(bigint, text, integer) IS
'A form''s definition: the current version (p_version NULL) or a given one, with the form''s name and current version number; 23503 for an unknown form or version.';

CREATE FUNCTION fieldops.check_form_answers(p_tenant_id bigint, p_form_code text, p_version integer, p_answers jsonb,
                                            p_worker_id bigint DEFAULT NULL, p_visit_id bigint DEFAULT NULL)
RETURNS TABLE (path text, rule text, message text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
DECLARE
    v fieldops.form_version;
    r jsonb;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v := fieldops.form_version_row(p_tenant_id, p_form_code, p_version, 'p_form_code');
    PERFORM fieldops.form_answers_arg(p_answers);
    IF p_worker_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fieldops.worker x
            WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.worker_id OPERATOR(pg_catalog.=) p_worker_id) THEN
        RAISE EXCEPTION 'p_worker_id % is not a worker of tenant %', p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF p_visit_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fieldops.visit x
            WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.visit_id OPERATOR(pg_catalog.=) p_visit_id) THEN
        RAISE EXCEPTION 'p_visit_id % is not a visit of tenant %', p_visit_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    r := fieldops.form_validate(p_tenant_id, v.definition, p_answers,
                                CASE WHEN p_worker_id IS NOT NULL THEN ARRAY[p_worker_id] END, p_visit_id);
    RETURN QUERY
        SELECT e ->> 'path', e ->> 'rule', e ->> 'message'
          FROM pg_catalog.jsonb_array_elements(r -> 'errors') WITH ORDINALITY AS x(e, o) ORDER BY x.o;
END
$$;
COMMENT ON FUNCTION fieldops.check_form_answers(bigint, text, integer, jsonb, bigint, bigint) IS
'Validate answers against a form version (NULL: the current one) without storing them: one row per error (path such as answers.temperature or answers.safety[2].note, rule, message), in the order of the fields; no row: valid. With p_worker_id and p_visit_id it also applies the photo rules submit_form() applies (photo_worker, photo_visit).';

CREATE FUNCTION fieldops.submit_form(p_tenant_id bigint, p_form_code text, p_version integer, p_worker_id bigint, p_answers jsonb,
                                     p_visit_id bigint DEFAULT NULL, p_task_id bigint DEFAULT NULL, p_work_order_id bigint DEFAULT NULL,
                                     p_supersedes bigint DEFAULT NULL, p_client_ref text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v fieldops.form_version;
    vi fieldops.visit;
    o fieldops.form_submission;
    s fieldops.form_submission;
    r jsonb;
    v_sha bytea;
    v_visit bigint := p_visit_id;
    v_task bigint := p_task_id;
    v_wo bigint := p_work_order_id;
    v_workers bigint[] := ARRAY[p_worker_id];
    v_id bigint;
    v_n integer;
    v_con text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v := fieldops.form_version_row(p_tenant_id, p_form_code, p_version, 'p_form_code');
    PERFORM fieldops.form_answers_arg(p_answers);
    IF p_visit_id OPERATOR(pg_catalog.<=) 0 OR p_task_id OPERATOR(pg_catalog.<=) 0 OR p_work_order_id OPERATOR(pg_catalog.<=) 0
       OR p_supersedes OPERATOR(pg_catalog.<=) 0 THEN
        RAISE EXCEPTION 'p_visit_id, p_task_id, p_work_order_id and p_supersedes must be positive ids or NULL, got %, %, %, %',
            COALESCE(p_visit_id::text, 'NULL'), COALESCE(p_task_id::text, 'NULL'), COALESCE(p_work_order_id::text, 'NULL'),
            COALESCE(p_supersedes::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_client_ref IS NOT NULL THEN
        PERFORM fieldops.check_code(p_client_ref, 'p_client_ref');
    END IF;
    PERFORM fieldops.lock_active_worker(p_tenant_id, p_worker_id, 'p_worker_id');

    IF p_supersedes IS NOT NULL THEN
        -- a correction: same form, same business context
        SELECT * INTO o FROM fieldops.form_submission x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.submission_id OPERATOR(pg_catalog.=) p_supersedes;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'p_supersedes % is not a form submission of tenant %', p_supersedes, p_tenant_id USING ERRCODE = '23503';
        END IF;
        IF o.form_id OPERATOR(pg_catalog.<>) v.form_id THEN
            RAISE EXCEPTION 'p_supersedes % is a submission of another form (form id %), not of "%"', p_supersedes, o.form_id, p_form_code
                USING ERRCODE = '22023';
        END IF;
        IF p_visit_id IS DISTINCT FROM o.visit_id AND p_visit_id IS NOT NULL
           OR p_task_id IS DISTINCT FROM o.task_id AND p_task_id IS NOT NULL
           OR p_work_order_id IS DISTINCT FROM o.work_order_id AND p_work_order_id IS NOT NULL THEN
            RAISE EXCEPTION 'a correction keeps the visit, task and work order of submission % (%, %, %); leave them NULL',
                p_supersedes, COALESCE(o.visit_id::text, 'none'), COALESCE(o.task_id::text, 'none'), COALESCE(o.work_order_id::text, 'none')
                USING ERRCODE = '22023';
        END IF;
        v_visit := o.visit_id;
        v_task := o.task_id;
        v_wo := o.work_order_id;
        -- the photos of the workers who made the submissions it corrects stay valid
        WITH RECURSIVE chain AS (
            SELECT o.worker_id, o.supersedes, 1 AS depth
            UNION ALL
            SELECT x.worker_id, x.supersedes, c.depth OPERATOR(pg_catalog.+) 1
              FROM fieldops.form_submission x JOIN chain c ON x.submission_id OPERATOR(pg_catalog.=) c.supersedes
             WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.depth OPERATOR(pg_catalog.<) 1000)
        SELECT p_worker_id OPERATOR(pg_catalog.||) pg_catalog.array_agg(DISTINCT c.worker_id) INTO v_workers FROM chain c;
    ELSIF p_visit_id IS NOT NULL THEN
        SELECT * INTO vi FROM fieldops.visit x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.visit_id OPERATOR(pg_catalog.=) p_visit_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'p_visit_id % is not a visit of tenant %', p_visit_id, p_tenant_id USING ERRCODE = '23503';
        END IF;
        IF vi.worker_id OPERATOR(pg_catalog.<>) p_worker_id THEN
            RAISE EXCEPTION 'visit % is worker %''s, not p_worker_id %''s', p_visit_id, vi.worker_id, p_worker_id USING ERRCODE = '22023';
        END IF;
    END IF;

    -- a resend of a client reference returns the first submission
    v_sha := pg_catalog.sha256(pg_catalog.convert_to(p_answers::text, 'UTF8'));
    IF p_client_ref IS NOT NULL THEN
        SELECT * INTO s FROM fieldops.form_submission x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.client_ref OPERATOR(pg_catalog.=) p_client_ref;
        IF FOUND THEN
            IF s.form_id OPERATOR(pg_catalog.=) v.form_id AND s.version OPERATOR(pg_catalog.=) v.version
               AND s.worker_id OPERATOR(pg_catalog.=) p_worker_id AND s.input_sha256 OPERATOR(pg_catalog.=) v_sha
               AND s.supersedes IS NOT DISTINCT FROM p_supersedes AND s.visit_id IS NOT DISTINCT FROM v_visit
               AND s.task_id IS NOT DISTINCT FROM v_task AND s.work_order_id IS NOT DISTINCT FROM v_wo THEN
                RETURN s.submission_id;
            END IF;
            RAISE EXCEPTION 'p_client_ref "%" already names submission %, made with other arguments', p_client_ref, s.submission_id
                USING ERRCODE = '23505', HINT = 'A client reference names one submission: a new submission needs a new one; a correction names the old one in p_supersedes.';
        END IF;
    END IF;
    IF p_supersedes IS NOT NULL THEN
        SELECT x.submission_id INTO v_id FROM fieldops.form_submission x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.supersedes OPERATOR(pg_catalog.=) p_supersedes;
        IF FOUND THEN
            RAISE EXCEPTION 'submission % was already corrected by submission %', p_supersedes, v_id
                USING ERRCODE = '55000', HINT = 'Correct the latest submission of the chain (see fieldops.current_form_submission).';
        END IF;
    END IF;

    r := fieldops.form_validate(p_tenant_id, v.definition, p_answers, v_workers, v_visit);
    v_n := pg_catalog.jsonb_array_length(r -> 'errors');
    IF v_n OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'p_answers do not satisfy form "%" version %: % (%): %', p_form_code, v.version,
            r -> 'errors' -> 0 ->> 'path', r -> 'errors' -> 0 ->> 'rule', (r -> 'errors' -> 0 ->> 'message') OPERATOR(pg_catalog.||)
            CASE WHEN v_n OPERATOR(pg_catalog.>) 1 THEN pg_catalog.format(' (and %s more, see DETAIL)', v_n OPERATOR(pg_catalog.-) 1) ELSE '' END
            USING ERRCODE = '22023', DETAIL = (r -> 'errors')::text,
                  HINT = 'DETAIL is the JSON array of every error {path, rule, message}; fieldops.check_form_answers() returns them as rows.';
    END IF;

    BEGIN
        INSERT INTO fieldops.form_submission (tenant_id, form_id, version, worker_id, visit_id, task_id, work_order_id,
                                              answers, dropped, input_sha256, supersedes, client_ref)
        VALUES (p_tenant_id, v.form_id, v.version, p_worker_id, v_visit, v_task, v_wo, r -> 'answers',
                ARRAY(SELECT pg_catalog.jsonb_array_elements_text(r -> 'dropped')), v_sha, p_supersedes, p_client_ref)
        RETURNING submission_id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        -- a concurrent transaction committed the same correction or client reference first
        GET STACKED DIAGNOSTICS v_con = CONSTRAINT_NAME;
        IF v_con OPERATOR(pg_catalog.=) 'form_submission_supersedes_key' THEN
            SELECT x.submission_id INTO v_id FROM fieldops.form_submission x
             WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.supersedes OPERATOR(pg_catalog.=) p_supersedes;
            RAISE EXCEPTION 'submission % was already corrected by submission %', p_supersedes, v_id
                USING ERRCODE = '55000', HINT = 'Correct the latest submission of the chain (see fieldops.current_form_submission).';
        END IF;
        SELECT * INTO s FROM fieldops.form_submission x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.client_ref OPERATOR(pg_catalog.=) p_client_ref;
        IF s.form_id OPERATOR(pg_catalog.=) v.form_id AND s.version OPERATOR(pg_catalog.=) v.version
           AND s.worker_id OPERATOR(pg_catalog.=) p_worker_id AND s.input_sha256 OPERATOR(pg_catalog.=) v_sha
           AND s.supersedes IS NOT DISTINCT FROM p_supersedes AND s.visit_id IS NOT DISTINCT FROM v_visit
           AND s.task_id IS NOT DISTINCT FROM v_task AND s.work_order_id IS NOT DISTINCT FROM v_wo THEN
            RETURN s.submission_id;
        END IF;
        RAISE EXCEPTION 'p_client_ref "%" already names submission %, made with other arguments', p_client_ref, s.submission_id
            USING ERRCODE = '23505', HINT = 'A client reference names one submission: a new submission needs a new one; a correction names the old one in p_supersedes.';
    END;
    PERFORM fieldops.emit_event(p_tenant_id, 'form.submitted', 'form_submission', v_id,
        pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'form_id', v.form_id, 'code', p_form_code, 'version', v.version, 'worker_id', p_worker_id,
            'visit_id', v_visit, 'task_id', v_task, 'work_order_id', v_wo, 'supersedes', p_supersedes, 'client_ref', p_client_ref)));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.submit_form(bigint, text, integer, bigint, jsonb, bigint, bigint, bigint, bigint, text) IS
'Validate and store a form submission (p_version NULL: the current version) for a worker, in the context of a visit (the worker''s), a task and/or a work order; returns submission_id. Invalid answers: 22023, the first error in the message, all of them as a JSON array in DETAIL, nothing written. The stored answers are normalised (hidden fields dropped). p_supersedes: the submission this one corrects (same form and context; 55000 if it was already corrected). p_client_ref: the client''s id of the submission, so that a resend returns the first one (23505 if it names a different submission). Outbox: form.submitted.';

--
-- Security
--
SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.form', 'fieldops.form_version', 'fieldops.form_submission']) AS t;
-- versions and submissions are append-only
REVOKE UPDATE, DELETE ON fieldops.form_version, fieldops.form_submission FROM fieldops_api, fieldops_admin;
REVOKE ALL ON fieldops.current_form_submission FROM PUBLIC;
GRANT SELECT ON fieldops.current_form_submission TO fieldops_app, fieldops_analyst, fieldops_api, fieldops_admin;

GRANT EXECUTE ON FUNCTION
    fieldops.define_form(bigint, text, text, jsonb),
    fieldops.submit_form(bigint, text, integer, bigint, jsonb, bigint, bigint, bigint, bigint, text)
TO fieldops_app;
GRANT EXECUTE ON FUNCTION
    fieldops.get_form(bigint, text, integer),
    fieldops.check_form_answers(bigint, text, integer, jsonb, bigint, bigint)
TO fieldops_app, fieldops_analyst;
GRANT EXECUTE ON FUNCTION
    fieldops.form_temporal(text, text),
    fieldops.form_compare(text, jsonb, jsonb),
    fieldops.form_condition(jsonb, jsonb, jsonb),
    fieldops.form_check_condition(jsonb, text, jsonb, jsonb, text, integer),
    fieldops.form_check_prop(jsonb, text, text, text, numeric, numeric, boolean),
    fieldops.form_check_definition(jsonb),
    fieldops.form_error(text, text, text),
    fieldops.form_validate(bigint, jsonb, jsonb, bigint[], bigint),
    fieldops.form_version_row(bigint, text, integer, text),
    fieldops.form_answers_arg(jsonb)
TO fieldops_api;
