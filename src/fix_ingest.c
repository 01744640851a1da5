/*-------------------------------------------------------------------------
 *
 * fix_ingest.c
 *		fieldops.ingest_fixes(): validate, attribute, score and store a batch
 *		of location fixes in one pass.
 *
 * This was PL/pgSQL around a dozen large statements: the elements were
 * parsed with jsonb operators and regular expressions, the scoring context
 * was rebuilt as jsonb per fix and parsed again by the scorer, and every
 * step re-read what the step before had computed.  A batch of 100 fixes
 * cost about ten plain INSERTs of the same rows.  Here the batch is read
 * once, into C structs; the database is asked only what it alone knows,
 * with one prepared statement per kind of fact (the devices, locked; their
 * bindings; the workers; the customers; the stored fixes around the batch;
 * the radio map entries of the batch's access points and cells), each
 * taking the whole batch's keys as arrays; the replay fingerprints are
 * probed in their hash indexes directly (fix_replay.c); the scorer's
 * structs are filled directly and the core (spoof_core.c) is called per
 * fix; and the rows are stored by one INSERT from arrays.
 *
 * The rules, the order of the checks and every message are the ones the
 * PL/pgSQL version had (the bad-input catalogue in the regress suite is
 * unchanged), and so is the scoring context (sql/spoof.sql, section 4b,
 * makes every context signal fire through ingest; the benchmark checks
 * that the stored rows are the same).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/fix_ingest.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "fix_obs.h"
#include "fix_replay.h"
#include "geo_kernel.h"
#include "spoof.h"
#include "worktime_core.h"

PG_FUNCTION_INFO_V1(fieldops_ingest_fixes);

extern Datum fieldops_require_tenant(PG_FUNCTION_ARGS);

#define MAX_ELEMENTS 10000
#define TRACK_PREV	 SPOOF_MAX_PREV
/* how far back before a batch the previous fixes are looked for */
#define TRACK_LOOKBACK_DAYS 2

/* the keys an element may have, in the order the messages list them */
static const char *const elem_keys[] = {
	"device_uid", "recorded_at", "lat", "lon", "accuracy_m", "altitude_m",
	"speed_mps", "bearing_deg", "provider", "mock", "satellites", "cn0_mean_dbhz",
	"cn0_sd_dbhz", "wifi", "cells", "client_ip", "integrity", "customer_id"
};
static const char *const obs_keys[] = {
	"satellites", "cn0_mean_dbhz", "cn0_sd_dbhz", "wifi", "cells", "client_ip", "integrity"
};
static const char *const providers[] = {"gps", "network", "fused", "wifi", "cell", "passive"};
static const char *const day_abbrev[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

typedef enum ElemStatus
{
	ST_STORED, ST_DUPLICATE, ST_EXPIRED, ST_OFF_DUTY_STORED, ST_OFF_DUTY, ST_REJECTED
} ElemStatus;

static const char *const status_names[] = {
	"stored", "duplicate", "expired", "off_duty", "off_duty", "rejected"
};

/* one element of p_fixes, from its JSON to its stored fix */
typedef struct Elem
{
	JsonbContainer *obj;		/* the element when it is an object */
	char	   *err;			/* its first problem; NULL: valid */
	char	   *uid;			/* device_uid when a string */
	JsonbValue *v_at;			/* recorded_at as sent (for messages) */
	bool		has_at;
	TimestampTz at;
	double		lat,
				lon;
	bool		has_acc,
				has_alt,
				has_spd,
				has_brg;
	float4		acc,
				alt,
				spd,
				brg;
	int			prov;			/* index of providers[]; -1 invalid */
	int			mock;			/* 1, 0, -1 not reported */
	JsonbValue *v_cust;			/* customer_id as sent, NULL: not sent */
	bool		cust_ok;		/* a positive integer */
	int64		cust;			/* 0: beyond bigint (cannot exist) */
	bool		has_obs;
	FixObs		obs;
	/* what the database knows */
	int			dev;			/* index of devs[]; -1 unknown */
	int			worker;			/* index of workers[]; -1 not bound */
	int64		worker_id;		/* the worker it is bound to (0 none) */
	int			cu;				/* index of custs[]; -1 not found */
	Timestamp	local_at;
	/* the outcome */
	int			first;			/* the element whose fix this one is */
	ElemStatus	status;
	char	   *why;
	bool		store;			/* to be stored (stored or off_duty_stored) */
	bool		existing;		/* stored before this call: a duplicate */
	bool		has_fix;
	int64		fix_id;
	/* its score (new fixes), or the stored fix's */
	bool		has_score;
	int			score;
	char	   *band;
	Datum		reasons;		/* jsonb, 0 when NULL */
	char	   *model_version;
	/* scoring context */
	TimestampTz day_start;
	TimestampTz next_day_start;
	bytea	   *sdig;
	double		scan_age;		/* how long before the fix its scan was taken: s, NAN unknown */
	bytea	   *pdig;
	int			integrity;
	bool		scan_replay;
	bool		same_coords;
	bool		mcc_foreign;
} Elem;

/* a fix of a device's track: stored (elem -1) or new */
typedef struct TrackFix
{
	TimestampTz at;
	TimestampTz received;
	int			elem;
	SpoofPrev	p;
} TrackFix;

typedef struct Dev
{
	int64		id;
	char	   *uid;
	bool		active;
	bool		shared_pool;
	bool		external_gnss;
	bool		has_skew;
	int64		skew_ms;
	int			bind_lo;		/* its bindings: binds[bind_lo .. bind_hi) */
	int			bind_hi;
	bool		has_new;		/* has fixes to score */
	TimestampTz lo,
				hi;				/* the range of its elements to store */
	TimestampTz back;			/* lo - TRACK_LOOKBACK: its previous fixes are since */
	bool		recent_known;	/* recent[] holds its newest stored fixes ... */
	TimestampTz recent_since;	/* ... of those recorded since then */
	bool		use_recent;		/* this batch is newer than all of them */
	int			nrecent;
	TrackFix   *recent;			/* by time, at most TRACK_PREV */
	bytea	   *recent_new;		/* device_recent.fixes after this batch */
} Dev;

typedef struct Binding
{
	int64		dev;
	int64		worker;
	TimestampTz bound_at;
	bool		open;
	TimestampTz unbound_at;
} Binding;

typedef struct Worker
{
	int64		id;
	bool		has_hired,
				has_left;
	DateADT		hired,
				left;
	Jsonb	   *schedule;		/* NULL: the tenant's */
	WtSchedule *parsed;
} Worker;

typedef struct Cust
{
	int64		id;
	bool		has_geom;
	double		x,
				y;
	int			nstable;		/* the site's stable access points */
	char		(*stable)[18];
} Cust;

typedef struct Ap
{
	char		bssid[18];
	double		lat,
				lon,
				spread;
} Ap;

typedef struct Cell
{
	int64		key[4];			/* mcc, mnc, lac, cid */
	double		lat,
				lon,
				radius;
} Cell;

/* the state of one call */
typedef struct Ingest
{
	int64		tenant;
	TimestampTz now;
	Datum		tz;				/* text */
	char	   *tzname;
	Jsonb	   *schedule;		/* the tenant's default; NULL none */
	WtSchedule *schedule_parsed;
	int			retention;
	bool		store_off;
	bool		store_off_forced;	/* p_options.store_off_duty: true */
	TimestampTz expired_before;
	TimestampTz future_after;
	bool		skip;
	bool		orphan_fingerprints;	/* store them with ON CONFLICT DO UPDATE */
	bool		has_skew;
	int64		skew_ms;
	SpoofModel	model;			/* in force */
	int			n;
	Elem	   *e;
	int			ndev;
	Dev		   *devs;			/* by device_uid */
	int			nbind;
	Binding    *binds;			/* by device, bound_at */
	int			nworker;
	Worker	   *workers;		/* by id */
	int			ncust;
	Cust	   *custs;			/* by id */
} Ingest;

/*
 * Prepared statements, kept for the life of the backend (the plan cache
 * re-plans them after DDL).  Generic plans: each takes a batch's keys as
 * arrays, so a custom plan would be planned for every call in vain.
 */
typedef struct Stmt
{
	const char *sql;
	int			nargs;
	Oid			types[32];
	SPIPlanPtr	plan;
} Stmt;

static Stmt q_devices = {
	"SELECT d.device_id, d.device_uid, d.status, d.shared_pool, d.external_gnss, d.clock_skew_ms"
	"  FROM fieldops.device d"
	" WHERE d.tenant_id OPERATOR(pg_catalog.=) $1 AND d.device_uid OPERATOR(pg_catalog.=) ANY ($2)"
	" ORDER BY d.device_id"
	"   FOR NO KEY UPDATE",
	2, {INT8OID, TEXTARRAYOID}, NULL
};

/* the tenant's settings (its overrides, else the defaults) and the spoof model in force */
static Stmt q_settings = {
	"SELECT t.time_zone,"
	"       COALESCE(t.settings OPERATOR(pg_catalog.->) 'work_schedule',"
	"                (SELECT d.default_value FROM fieldops.setting_def d WHERE d.key OPERATOR(pg_catalog.=) 'work_schedule')),"
	"       (COALESCE(t.settings OPERATOR(pg_catalog.->) 'fix_retention_days',"
	"                 (SELECT d.default_value FROM fieldops.setting_def d WHERE d.key OPERATOR(pg_catalog.=) 'fix_retention_days'))"
	"        OPERATOR(pg_catalog.#>>) '{}')::integer,"
	"       (COALESCE(t.settings OPERATOR(pg_catalog.->) 'store_off_duty_fixes',"
	"                 (SELECT d.default_value FROM fieldops.setting_def d WHERE d.key OPERATOR(pg_catalog.=) 'store_off_duty_fixes'))"
	"        OPERATOR(pg_catalog.#>>) '{}')::boolean,"
	"       m.model, m.version, m.xmin"
	"  FROM fieldops.tenant t"
	"  LEFT JOIN LATERAL (SELECT m.model, m.version, m.xmin FROM fieldops.spoof_model m"
	"                      ORDER BY m.created_at DESC, m.version DESC LIMIT 1) m ON true"
	" WHERE t.tenant_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}, NULL
};

static Stmt q_bindings = {
	"SELECT b.device_id, b.worker_id, b.bound_at, b.unbound_at"
	"  FROM fieldops.device_binding b"
	" WHERE b.tenant_id OPERATOR(pg_catalog.=) $1 AND b.device_id OPERATOR(pg_catalog.=) ANY ($2)"
	"   AND b.bound_at OPERATOR(pg_catalog.<) $3"
	"   AND (b.unbound_at IS NULL OR b.unbound_at OPERATOR(pg_catalog.>) $4)"
	" ORDER BY b.device_id, b.bound_at",
	4, {INT8OID, INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID}, NULL
};

static Stmt q_workers = {
	"SELECT w.worker_id, w.hired_on, w.left_on, w.work_schedule"
	"  FROM fieldops.worker w"
	" WHERE w.tenant_id OPERATOR(pg_catalog.=) $1 AND w.worker_id OPERATOR(pg_catalog.=) ANY ($2)"
	" ORDER BY w.worker_id",
	2, {INT8OID, INT8ARRAYOID}, NULL
};

static Stmt q_customers = {
	"SELECT cu.customer_id, public.ST_X(cu.geom), public.ST_Y(cu.geom)"
	"  FROM fieldops.customer cu"
	" WHERE cu.tenant_id OPERATOR(pg_catalog.=) $1 AND cu.customer_id OPERATOR(pg_catalog.=) ANY ($2)"
	" ORDER BY cu.customer_id",
	2, {INT8OID, INT8ARRAYOID}, NULL
};

/* the stable access points of the sites: heard on 3+ days, within 80 m */
static Stmt q_site_aps = {
	"SELECT cu.customer_id, a.bssid::text"
	"  FROM fieldops.customer cu"
	"  JOIN fieldops.radio_ap a ON a.tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND a.geom OPERATOR(public.&&) public.ST_Expand(cu.geom, 0.0012)"
	"   AND public.ST_DistanceSphere(a.geom, cu.geom) OPERATOR(pg_catalog.<=) 80"
	"   AND NOT a.mobile AND a.n_days OPERATOR(pg_catalog.>=) 3"
	" WHERE cu.tenant_id OPERATOR(pg_catalog.=) $1 AND cu.customer_id OPERATOR(pg_catalog.=) ANY ($2)"
	"   AND cu.geom IS NOT NULL"
	" ORDER BY cu.customer_id",
	2, {INT8OID, INT8ARRAYOID}, NULL
};

/*
 * Per device: the 16 stored fixes before its first fix to store (within
 * TRACK_LOOKBACK of it), and the stored fixes among its fixes to store (the
 * duplicates, with what they were scored).  $5 and $6 bound the whole
 * batch's range as plain parameters: the generic plan then prunes the daily
 * partitions outside it when it starts, instead of starting an index scan
 * on every partition (a tenant keeps 90 to 400 days: 121 partitions made a
 * batch take twice as long).
 */
static Stmt q_track = {
	"SELECT u.dev, t.recorded_at, t.received_at, t.lat, t.lon, t.accuracy_m, t.altitude_m, t.speed_mps,"
	"       t.bearing_deg, t.provider, t.in_range, t.fix_id, t.score, t.band, t.reasons, t.model_version"
	"  FROM unnest($2::bigint[], $3::timestamptz[], $4::timestamptz[]) AS u(dev, lo, hi)"
	" CROSS JOIN LATERAL ("
	"       (SELECT x.recorded_at, x.received_at, public.ST_Y(x.geom) AS lat, public.ST_X(x.geom) AS lon,"
	"               x.accuracy_m, x.altitude_m, x.speed_mps, x.bearing_deg, x.provider, false AS in_range,"
	"               NULL::bigint AS fix_id, NULL::smallint AS score, NULL::text AS band, NULL::jsonb AS reasons,"
	"               NULL::text AS model_version"
	"          FROM fieldops.fix x"
	"         WHERE x.tenant_id OPERATOR(pg_catalog.=) $1 AND x.device_id OPERATOR(pg_catalog.=) u.dev"
	"           AND x.recorded_at OPERATOR(pg_catalog.<) u.lo AND x.recorded_at OPERATOR(pg_catalog.>=) $5"
	"           AND x.recorded_at OPERATOR(pg_catalog.>=) (u.lo OPERATOR(pg_catalog.-) $7::interval)"
	"         ORDER BY x.recorded_at DESC LIMIT 16)"
	"       UNION ALL"
	"       SELECT x.recorded_at, x.received_at, public.ST_Y(x.geom), public.ST_X(x.geom),"
	"              x.accuracy_m, x.altitude_m, x.speed_mps, x.bearing_deg, x.provider, true,"
	"              x.fix_id, x.score, x.band, x.reasons, x.model_version"
	"         FROM fieldops.fix x"
	"        WHERE x.tenant_id OPERATOR(pg_catalog.=) $1 AND x.device_id OPERATOR(pg_catalog.=) u.dev"
	"          AND x.recorded_at BETWEEN u.lo AND u.hi"
	"          AND x.recorded_at OPERATOR(pg_catalog.>=) $5 AND x.recorded_at OPERATOR(pg_catalog.<=) $6) t",
	7, {INT8OID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INTERVALOID}, NULL
};

/*
 * The devices' newest fixes as ingest kept them.  A statement of its own,
 * after the devices are locked: joined to the locking statement, a row
 * another batch of the device rewrote while this one waited for the lock
 * would be seen as it was (READ COMMITTED re-reads only the locked rows).
 */
static Stmt q_recent_rows = {
	"SELECT r.device_id, r.fixes FROM fieldops.device_recent r"
	" WHERE r.tenant_id OPERATOR(pg_catalog.=) $1 AND r.device_id OPERATOR(pg_catalog.=) ANY ($2)",
	2, {INT8OID, INT8ARRAYOID}, NULL
};

/*
 * The newest stored fixes of devices whose device_recent row is missing
 * (a new device, fixes purged): once, then ingest keeps the row.  Only
 * those recorded since the lookback of this batch ($3, and $4 the
 * earliest of them as a plain parameter, which prunes the daily
 * partitions before it when the plan starts: newest-first over all of a
 * tenant's partitions took 5 ms a device).  The columns are q_track's
 * first ten.
 */
static Stmt q_recent = {
	"SELECT u.dev, t.recorded_at, t.received_at, public.ST_Y(t.geom), public.ST_X(t.geom), t.accuracy_m,"
	"       t.altitude_m, t.speed_mps, t.bearing_deg, t.provider"
	"  FROM unnest($2::bigint[], $3::timestamptz[]) AS u(dev, since)"
	" CROSS JOIN LATERAL (SELECT x.recorded_at, x.received_at, x.geom, x.accuracy_m, x.altitude_m, x.speed_mps,"
	"                            x.bearing_deg, x.provider"
	"                       FROM fieldops.fix x"
	"                      WHERE x.tenant_id OPERATOR(pg_catalog.=) $1 AND x.device_id OPERATOR(pg_catalog.=) u.dev"
	"                        AND x.recorded_at OPERATOR(pg_catalog.>=) u.since"
	"                        AND x.recorded_at OPERATOR(pg_catalog.>=) $4"
	"                      ORDER BY x.recorded_at DESC LIMIT 16) t",
	4, {INT8OID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID}, NULL
};

static Stmt q_aps = {
	"SELECT a.bssid::text, public.ST_Y(a.geom), public.ST_X(a.geom), a.spread_m"
	"  FROM fieldops.radio_ap a"
	" WHERE a.tenant_id OPERATOR(pg_catalog.=) $1 AND a.bssid OPERATOR(pg_catalog.=) ANY ($2::macaddr[])"
	"   AND NOT a.mobile AND a.n_obs OPERATOR(pg_catalog.>=) 3",
	2, {INT8OID, TEXTARRAYOID}, NULL
};

static Stmt q_cells = {
	"SELECT r.mcc, r.mnc, r.lac, r.cid, public.ST_Y(r.geom), public.ST_X(r.geom), r.radius_m"
	"  FROM unnest($2::integer[], $3::integer[], $4::integer[], $5::bigint[]) AS u(mcc, mnc, lac, cid)"
	"  JOIN fieldops.radio_cell r"
	"    ON r.tenant_id OPERATOR(pg_catalog.=) $1 AND r.mcc OPERATOR(pg_catalog.=) u.mcc"
	"   AND r.mnc OPERATOR(pg_catalog.=) u.mnc AND r.lac OPERATOR(pg_catalog.=) u.lac"
	"   AND r.cid OPERATOR(pg_catalog.=) u.cid"
	" WHERE r.n_obs OPERATOR(pg_catalog.>=) 3",
	5, {INT8OID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT8ARRAYOID}, NULL
};

/*
 * An unknown serving cell of a country the map has never seen around
 * here: within about 100 km it knows 3 or more cells, none of that MCC.
 * (A map of fewer than 3 cells in all, a new tenant's, cannot say so: the
 * one-time filter then skips the search around every fix.)
 */
static Stmt q_foreign = {
	"SELECT u.k, pg_catalog.count(*) OPERATOR(pg_catalog.>=) 3"
	"            AND pg_catalog.count(*) FILTER (WHERE n.mcc OPERATOR(pg_catalog.=) u.mcc) OPERATOR(pg_catalog.=) 0"
	"  FROM unnest($2::integer[], $3::float8[], $4::float8[], $5::integer[]) AS u(k, lon, lat, mcc)"
	" CROSS JOIN LATERAL (SELECT x.mcc FROM fieldops.radio_cell x"
	"                      WHERE x.tenant_id OPERATOR(pg_catalog.=) $1"
	"                        AND x.geom OPERATOR(public.&&) public.ST_Expand(public.ST_SetSRID(public.ST_MakePoint(u.lon, u.lat), 4326), 1.0)"
	"                      LIMIT 50) n"
	" WHERE (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM fieldops.radio_cell z"
	"                                          WHERE z.tenant_id OPERATOR(pg_catalog.=) $1 LIMIT 3) z) OPERATOR(pg_catalog.>=) 3"
	" GROUP BY u.k",
	5, {INT8OID, INT4ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, INT4ARRAYOID}, NULL
};

/*
 * The new fixes' replay fingerprints ($2..$6: device, time, scan digest,
 * when the scan was taken, position digest), stored after their lookups
 * (fix_replay.c).  If the fixes are not stored after all, the error rolls
 * these rows back too.  A fingerprint can outlive its fix (one deleted by
 * hand): when a new fix meets one, the attempt is run again with ON
 * CONFLICT DO UPDATE, which costs a check per row and so is not the
 * default.
 */
#define FINGERPRINTS_SQL(on_conflict) \
	"INSERT INTO fieldops.fix_fingerprint AS f (tenant_id, device_id, recorded_at, scan_digest, scanned_at, point_digest)" \
	"SELECT $1, u.dev, u.at, u.sdig, u.sat, u.pdig" \
	"  FROM unnest($2::bigint[], $3::timestamptz[], $4::uuid[], $5::timestamptz[], $6::uuid[]) AS u(dev, at, sdig, sat, pdig)" \
	on_conflict
#define FINGERPRINTS_TYPES \
	{INT8OID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, UUIDARRAYOID, TIMESTAMPTZARRAYOID, UUIDARRAYOID}

static Stmt q_fingerprints = {FINGERPRINTS_SQL(""), 6, FINGERPRINTS_TYPES, NULL};
static Stmt q_fingerprints_orphans = {
	FINGERPRINTS_SQL(" ON CONFLICT (tenant_id, device_id, recorded_at) DO UPDATE"
					 " SET scan_digest = EXCLUDED.scan_digest, scanned_at = EXCLUDED.scanned_at,"
					 " point_digest = EXCLUDED.point_digest"),
	6, FINGERPRINTS_TYPES, NULL
};

/*
 * Store.  No ON CONFLICT: every batch locks its devices before it looks
 * for their stored fixes, and only ingest_fixes() stores fixes, so a fix
 * of the same device and instant is either seen as a duplicate before or
 * cannot be there (the check before the insert was a tenth of its cost);
 * the one exception, a partition attached meanwhile, is retried whole (see
 * score_and_store()).
 * (unnest with several arrays is the FROM-clause form, which cannot be
 * schema-qualified; the search_path is pinned.  It returns the rows in
 * array order and the INSERT keeps it, so RETURNING does too -- checked
 * row by row in store_new(), so a plan that ever changed it would fail
 * loudly rather than swap ids; an ORDER BY for it cost a sort per batch.)
 */
static Stmt q_insert = {
	"WITH ins AS ("
	"INSERT INTO fieldops.fix AS f (tenant_id, device_id, worker_id, recorded_at, geom, accuracy_m, altitude_m,"
	"                               speed_mps, bearing_deg, provider, is_mock, satellites, cn0_mean_dbhz,"
	"                               cn0_sd_dbhz, wifi, cells, client_ip, integrity, customer_id,"
	"                               score, band, reasons, model_version)"
	"SELECT $1, u.dev, u.worker, u.at, public.ST_SetSRID(public.ST_MakePoint(u.lon, u.lat), 4326), u.acc, u.alt,"
	"       u.spd, u.brg, u.prov, u.mock, u.sats, u.cn0m, u.cn0sd, u.wifi, u.cells, u.ip, u.integrity, u.cust,"
	"       u.score, u.band, u.reasons, u.model"
	"  FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::float8[], $6::float8[], $7::real[],"
	"              $8::real[], $9::real[], $10::real[], $11::text[], $12::boolean[], $13::smallint[], $14::real[],"
	"              $15::real[], $16::jsonb[], $17::jsonb[], $18::inet[], $19::jsonb[], $20::bigint[],"
	"              $21::smallint[], $22::text[], $23::jsonb[], $24::text[])"
	"       AS u(dev, worker, at, lon, lat, acc, alt, spd, brg, prov, mock, sats, cn0m, cn0sd,"
	"            wifi, cells, ip, integrity, cust, score, band, reasons, model)"
	" RETURNING f.device_id, f.recorded_at, f.fix_id),"
	/* the devices' newest fixes after this batch ($25, $26: see device_recent) */
	"recent AS ("
	"INSERT INTO fieldops.device_recent AS r (tenant_id, device_id, fixes)"
	"SELECT $1, c.dev, c.fixes FROM unnest($25::bigint[], $26::bytea[]) AS c(dev, fixes)"
	"    ON CONFLICT (tenant_id, device_id) DO UPDATE SET fixes = EXCLUDED.fixes)"
	"SELECT i.device_id, i.recorded_at, i.fix_id FROM ins i",
	26, {INT8OID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
		FLOAT4ARRAYOID, FLOAT4ARRAYOID, FLOAT4ARRAYOID, FLOAT4ARRAYOID, TEXTARRAYOID, BOOLARRAYOID,
		INT2ARRAYOID, FLOAT4ARRAYOID, FLOAT4ARRAYOID, JSONBARRAYOID, JSONBARRAYOID, INETARRAYOID,
		JSONBARRAYOID, INT8ARRAYOID, INT2ARRAYOID, TEXTARRAYOID, JSONBARRAYOID, TEXTARRAYOID,
	INT8ARRAYOID, BYTEAARRAYOID}, NULL
};

/*
 * When each device was last heard of and, with sent_at ($4), its clock
 * offset.  Run by the batch's transaction itself, after the subtransaction
 * that stored the fixes: the batch locked the devices' rows, and an update
 * by a subtransaction of a row its parent locked makes a MultiXact (the
 * lock must survive the subtransaction's abort), which every later look at
 * that row -- the foreign-key check of each stored fix among them -- then
 * has to resolve.
 */
static Stmt q_seen = {
	"UPDATE fieldops.device d"
	"   SET last_seen_at = GREATEST(d.last_seen_at, m.last_at),"
	"       clock_skew_ms = COALESCE($4, d.clock_skew_ms)"
	"  FROM unnest($2::bigint[], $3::timestamptz[]) AS m(device_id, last_at)"
	" WHERE d.tenant_id OPERATOR(pg_catalog.=) $1 AND d.device_id OPERATOR(pg_catalog.=) m.device_id"
	"   AND (d.last_seen_at IS NULL OR d.last_seen_at OPERATOR(pg_catalog.<) m.last_at"
	"        OR d.clock_skew_ms IS DISTINCT FROM COALESCE($4, d.clock_skew_ms))",
	4, {INT8OID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, INT8OID}, NULL
};

static Stmt q_alerts = {
	"SELECT fieldops.raise_fix_alerts($1, $2, $3)",
	3, {INT8OID, INT8ARRAYOID, TIMESTAMPTZARRAYOID}, NULL
};

/* run a prepared statement (prepared on first use); returns SPI_processed */
static uint64
run(Stmt *s, Datum *args, const char *nulls, bool read_only, int expect)
{
	int			rc;

	if (s->plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(s->sql, s->nargs, s->types, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "ingest_fixes: could not prepare a statement: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "ingest_fixes: could not keep a statement");
		s->plan = p;
	}
	rc = SPI_execute_plan(s->plan, args, nulls, read_only, 0);
	if (rc != expect)
		elog(ERROR, "ingest_fixes: a statement returned %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* column col (1-based) of row i of the last result */
static Datum
col(uint64 i, int c, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c, isnull);
}

static int64
col_int8(uint64 i, int c)
{
	bool		isnull;
	Datum		d = col(i, c, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

static double
col_float8(uint64 i, int c, bool *isnull)
{
	Datum		d = col(i, c, isnull);

	return *isnull ? NAN : DatumGetFloat8(d);
}

static double
col_float4(uint64 i, int c)
{
	bool		isnull;
	Datum		d = col(i, c, &isnull);

	return isnull ? NAN : (double) DatumGetFloat4(d);
}

/* a one-dimensional array of n Datums of a built-in type */
static Datum
mk_array(Datum *v, bool *nulls, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;
	int			dims[1];
	int			lbs[1] = {1};

	switch (type)
	{
		case INT8OID:
		case TIMESTAMPTZOID:
			len = 8, byval = FLOAT8PASSBYVAL, align = TYPALIGN_DOUBLE;
			break;
		case FLOAT8OID:
			len = 8, byval = FLOAT8PASSBYVAL, align = TYPALIGN_DOUBLE;
			break;
		case INT4OID:
		case FLOAT4OID:
			len = 4, byval = true, align = TYPALIGN_INT;
			break;
		case INT2OID:
			len = 2, byval = true, align = TYPALIGN_SHORT;
			break;
		case BOOLOID:
			len = 1, byval = true, align = TYPALIGN_CHAR;
			break;
		case UUIDOID:
			len = UUID_LEN, byval = false, align = TYPALIGN_CHAR;
			break;
		default:				/* text, bytea, jsonb, inet */
			len = -1, byval = false, align = TYPALIGN_INT;
			break;
	}
	dims[0] = n;
	return PointerGetDatum(construct_md_array(v, nulls, 1, dims, lbs, type, len, byval, align));
}

/* a growable column of Datums for mk_array() */
typedef struct Column
{
	Datum	   *v;
	bool	   *nulls;
	int			n;
	int			cap;
} Column;

static void
column_init(Column *c, int cap)
{
	c->cap = Max(cap, 1);
	c->v = palloc(sizeof(Datum) * c->cap);
	c->nulls = palloc(sizeof(bool) * c->cap);
	c->n = 0;
}

static void
column_add(Column *c, Datum v, bool isnull)
{
	if (c->n == c->cap)
	{
		c->cap *= 2;
		c->v = repalloc(c->v, sizeof(Datum) * c->cap);
		c->nulls = repalloc(c->nulls, sizeof(bool) * c->cap);
	}
	c->v[c->n] = isnull ? (Datum) 0 : v;
	c->nulls[c->n] = isnull;
	c->n++;
}

static Datum
column_array(Column *c, Oid type)
{
	return mk_array(c->v, c->nulls, c->n, type);
}

/* jsonb_typeof() of a value (NULL: absent, which reads as null) */
static const char *
json_type(JsonbValue *v)
{
	if (v == NULL)
		return "null";
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "array" : "object";
		default:
			return "object";
	}
}

static bool
json_null(JsonbValue *v)
{
	return v == NULL || v->type == jbvNull;
}

/*
 * A JSON number as float8 or float4 the way the PL/pgSQL version cast it:
 * round(x, scale) first (so 1e-400 reads as 0 instead of failing the
 * cast), then the text to the float, as numeric_float8 does.  n is the
 * number read by fix_obs_num().
 */
static double
num_rounded(JsonbValue *v, const FixNum *n, int scale, bool as_float4)
{
	const char *s = n->text;

	if (n->ndec > scale)
		s = DatumGetCString(DirectFunctionCall1(numeric_out,
												DirectFunctionCall2(numeric_round, NumericGetDatum(v->val.numeric),
																	Int32GetDatum(scale))));
	return as_float4 ? (double) strtof(s, NULL) : strtod(s, NULL);
}

/*
 * A number field: within [lo, hi] (below hi when open), then as
 * num_rounded() converts it; false when not a number or out of range.
 */
static bool
num_field(JsonbValue *v, int64 lo, int64 hi, bool open, int scale, bool as_float4, double *out)
{
	FixNum		n;

	if (!fix_obs_num(v, &n) || !fix_obs_num_in(&n, lo, hi, false) ||
		(open && !fix_obs_num_below(v, &n, hi)))
		return false;
	*out = num_rounded(v, &n, scale, as_float4);
	return true;
}

/* is the number (read by fix_obs_num()) an integer? */
static bool
num_integral(JsonbValue *v, const FixNum *n)
{
	Datum		d = NumericGetDatum(v->val.numeric);

	if (!n->big)
		return !n->frac;
	return DatumGetBool(DirectFunctionCall2(numeric_eq, d, DirectFunctionCall2(numeric_trunc, d, Int32GetDatum(0))));
}

static int
digits(const char *s, int len, int at, int count)
{
	int			v = 0;

	if (at + count > len)
		return -1;
	for (int i = 0; i < count; i++)
	{
		if (s[at + i] < '0' || s[at + i] > '9')
			return -1;
		v = v * 10 + (s[at + i] - '0');
	}
	return v;
}

/*
 * An ISO 8601 timestamp with an offset or Z, as the PL/pgSQL version's
 * pattern ^YYYY-MM-DD[Tt ]HH:MI(:SS(.f{1,9})?)?(Z|+HH(:?MM)?)$ and its
 * range checks accepted it (a valid calendar date from 1970, offsets up to
 * 14 hours); the value is then what timestamptz input makes of it.
 */
static bool
parse_iso(const char *s, int len, TimestampTz *out)
{
	int			y,
				mo,
				d,
				h,
				mi,
				sec = 0,
				i;
	int			mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if ((y = digits(s, len, 0, 4)) < 0 || len < 16 || s[4] != '-' || (mo = digits(s, len, 5, 2)) < 0 ||
		s[7] != '-' || (d = digits(s, len, 8, 2)) < 0 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		(h = digits(s, len, 11, 2)) < 0 || s[13] != ':' || (mi = digits(s, len, 14, 2)) < 0)
		return false;
	i = 16;
	if (i < len && s[i] == ':')
	{
		if ((sec = digits(s, len, i + 1, 2)) < 0)
			return false;
		i += 3;
		if (i < len && s[i] == '.')
		{
			int			f = 0;

			i++;
			while (i < len && s[i] >= '0' && s[i] <= '9' && f < 10)
				i++, f++;
			if (f < 1 || f > 9)
				return false;
		}
	}
	if (i >= len)
		return false;
	if (s[i] == 'Z' || s[i] == 'z')
	{
		if (i + 1 != len)
			return false;
	}
	else if (s[i] == '+' || s[i] == '-')
	{
		int			oh = digits(s, len, i + 1, 2),
					om = 0;

		if (oh < 0 || oh > 14)
			return false;
		i += 3;
		if (i < len && s[i] == ':')
			i++;
		if (i < len)
		{
			if ((om = digits(s, len, i, 2)) < 0 || i + 2 != len || om > 59)
				return false;
		}
		else if (s[i - 1] == ':')
			return false;
	}
	else
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return false;
	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		mdays[1] = 29;
	if (d < 1 || d > mdays[mo - 1])
		return false;
	*out = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(pnstrdup(s, len)),
												   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	return true;
}

/* epoch milliseconds as a timestamptz */
static TimestampTz
from_unix_ms(int64 ms)
{
	return ms * 1000 - FIELDOPS_UNIX_TO_PG_US;
}

/* a timestamptz as epoch milliseconds, floored (the scorer's clock) */
static int64
to_unix_ms(TimestampTz t)
{
	int64		us = t + FIELDOPS_UNIX_TO_PG_US;

	return us >= 0 ? us / 1000 : -((-us + 999) / 1000);
}

/*
 * the options: on_error, sent_at, and store_off_duty (a visit's check-in
 * or check-out fix is evidence of work whenever it was taken: the visit
 * functions store it even outside working hours)
 */
static void
parse_options(Ingest *g, Jsonb *opt)
{
	JsonbValue *v;
	char	   *unknown = NULL;

	if (opt == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(opt))
	{
		JsonbValue	root;

		if (JB_ROOT_IS_SCALAR(opt))
		{
			JsonbExtractScalar(&opt->root, &root);
			v = &root;
		}
		else
			v = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_options must be a JSON object such as {\"on_error\": \"skip\"}, got %s",
						v ? json_type(v) : "array")));
	}
	{
		static const char *const option_keys[] = {"on_error", "sent_at", "store_off_duty"};

		unknown = fix_obs_unknown_key(&opt->root, option_keys, lengthof(option_keys));
	}
	if (unknown != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_options has an unknown key \"%s\" (known keys: on_error, sent_at, store_off_duty)", unknown)));
	v = fix_obs_key(&opt->root, "on_error");
	if (v != NULL && v->type != jbvNull)
	{
		bool		ok = v->type == jbvString &&
			((v->val.string.len == 4 && strncmp(v->val.string.val, "fail", 4) == 0) ||
			 (v->val.string.len == 4 && strncmp(v->val.string.val, "skip", 4) == 0));

		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_options.on_error must be \"fail\" or \"skip\", got %s",
							JsonbToCString(NULL, &JsonbValueToJsonb(v)->root, 0))));
		g->skip = strncmp(v->val.string.val, "skip", 4) == 0;
	}
	v = fix_obs_key(&opt->root, "store_off_duty");
	if (v != NULL && v->type != jbvNull)
	{
		if (v->type != jbvBool)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_options.store_off_duty must be true or false, got %s",
							JsonbToCString(NULL, &JsonbValueToJsonb(v)->root, 0))));
		g->store_off_forced = v->val.boolean;
	}

	/*
	 * sent_at: the phone's clock when it sent the batch, so the server
	 * learns the device's clock offset and sees it jump
	 */
	v = fix_obs_key(&opt->root, "sent_at");
	if (v != NULL && v->type != jbvNull)
	{
		bool		ok = false;
		TimestampTz sent = 0;

		if (v->type == jbvNumeric)
		{
			/* (as numeric::bigint: rounded, within a year checked below) */
			if (fix_obs_num_ok(v, -INT64CONST(1) << 50, INT64CONST(1) << 50, false))
			{
				Datum		r = DirectFunctionCall2(numeric_round, NumericGetDatum(v->val.numeric), Int32GetDatum(0));

				sent = from_unix_ms(DatumGetInt64(DirectFunctionCall1(numeric_int8, r)));
				ok = true;
			}
		}
		else if (v->type == jbvString)
			ok = parse_iso(v->val.string.val, v->val.string.len, &sent);
		if (!ok || (g->now - sent) > INT64CONST(31622400) * USECS_PER_SEC ||
			(sent - g->now) > INT64CONST(31622400) * USECS_PER_SEC)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_options.sent_at must be the phone's clock when it sent the batch, as an ISO 8601 timestamp with an offset or epoch milliseconds within a year of the server's clock, got %s",
							fix_obs_quote60(v))));
		g->has_skew = true;
		/* floor of the offset in ms */
		g->skew_ms = (g->now - sent) >= 0 ? (g->now - sent) / 1000 : -((sent - g->now + 999) / 1000);
	}
}

/* the first problem of element n that needs no table, or NULL; fills e */
static char *
parse_element(Ingest *g, JsonbValue *jv, int n, Elem *e)
{
	JsonbContainer *o;
	JsonbValue *v;
	char	   *unknown = NULL;

	e->prov = -1;
	e->mock = -1;
	e->dev = e->worker = e->cu = -1;
	if (jv->type != jbvBinary || !JsonContainerIsObject(jv->val.binary.data))
		return psprintf("p_fixes[%d] must be a JSON object, got %s", n, json_type(jv));
	o = e->obj = jv->val.binary.data;

	/* unknown keys: the smallest, as the database sorts text */
	unknown = fix_obs_unknown_key(o, elem_keys, lengthof(elem_keys));
	for (int j = 0; j < (int) lengthof(obs_keys) && !e->has_obs; j++)
		e->has_obs = fix_obs_key(o, obs_keys[j]) != NULL;

	/* (device_uid is read first: the devices are looked up even for bad elements) */
	v = fix_obs_key(o, "device_uid");
	if (v != NULL && v->type == jbvString)
		e->uid = pnstrdup(v->val.string.val, v->val.string.len);

	if (unknown != NULL)
	{
		unknown[pg_mbcharcliplen(unknown, strlen(unknown), 40)] = '\0';
		return psprintf("p_fixes[%d] has an unknown key \"%s\" (known keys: %s)", n, unknown,
						fix_obs_key_list(elem_keys, lengthof(elem_keys)));
	}
	if (json_null(v))
		return psprintf("p_fixes[%d].device_uid is required", n);
	if (v->type != jbvString)
		return psprintf("p_fixes[%d].device_uid must be a string, got %s", n, fix_obs_quote60(v));

	/* recorded_at: ISO 8601 with an offset, or epoch milliseconds */
	v = e->v_at = fix_obs_key(o, "recorded_at");
	if (json_null(v))
		return psprintf("p_fixes[%d].recorded_at is required", n);
	if (v->type == jbvString)
		e->has_at = parse_iso(v->val.string.val, v->val.string.len, &e->at);
	else if (v->type == jbvNumeric)
	{
		FixNum		ms;

		if (fix_obs_num(v, &ms) && fix_obs_num_in(&ms, 0, INT64CONST(253402300799999), true))
		{
			e->at = from_unix_ms(ms.ipart);
			e->has_at = true;
		}
	}
	if (!e->has_at)
		return psprintf("p_fixes[%d].recorded_at must be an ISO 8601 timestamp with an offset or Z (such as \"2026-11-09T10:30:00+08:00\") or epoch milliseconds, got %s",
						n, fix_obs_quote60(v));
	if (e->at > g->future_after)
		return psprintf("p_fixes[%d].recorded_at is in the future (more than 10 minutes after the server's clock), got %s",
						n, fix_obs_quote60(v));

	/* the position */
	v = fix_obs_key(o, "lat");
	if (json_null(v))
		return psprintf("p_fixes[%d].lat is required", n);
	if (!num_field(v, -90, 90, false, 12, false, &e->lat))
		return psprintf("p_fixes[%d].lat must be a number between -90 and 90, got %s", n, fix_obs_quote60(v));
	v = fix_obs_key(o, "lon");
	if (json_null(v))
		return psprintf("p_fixes[%d].lon is required", n);
	if (!num_field(v, -180, 180, false, 12, false, &e->lon))
		return psprintf("p_fixes[%d].lon must be a number between -180 and 180, got %s", n, fix_obs_quote60(v));

	/* what the phone says about the fix */
	v = fix_obs_key(o, "accuracy_m");
	if (!json_null(v))
	{
		double		x;

		if (!num_field(v, 0, 100000, false, 6, true, &x))
			return psprintf("p_fixes[%d].accuracy_m must be a number between 0 and 100000 (metres) or null, got %s", n, fix_obs_quote60(v));
		e->acc = (float4) x;
		e->has_acc = true;
	}
	v = fix_obs_key(o, "altitude_m");
	if (!json_null(v))
	{
		double		x;

		if (!num_field(v, -1000, 100000, false, 6, true, &x))
			return psprintf("p_fixes[%d].altitude_m must be a number between -1000 and 100000 (metres) or null, got %s", n, fix_obs_quote60(v));
		e->alt = (float4) x;
		e->has_alt = true;
	}
	v = fix_obs_key(o, "speed_mps");
	if (!json_null(v))
	{
		double		x;

		if (!num_field(v, 0, 500, false, 6, true, &x))
			return psprintf("p_fixes[%d].speed_mps must be a number between 0 and 500 (metres per second) or null, got %s", n, fix_obs_quote60(v));
		e->spd = (float4) x;
		e->has_spd = true;
	}
	v = fix_obs_key(o, "bearing_deg");
	if (!json_null(v))
	{
		double		x;

		if (!num_field(v, 0, 360, true, 6, true, &x))
			return psprintf("p_fixes[%d].bearing_deg must be a number from 0 up to (not including) 360 or null, got %s", n, fix_obs_quote60(v));
		/* (just below 360 rounds to 360 as a real: that is north, 0) */
		e->brg = (float4) x >= 360.0f ? 0.0f : (float4) x;
		e->has_brg = true;
	}
	v = fix_obs_key(o, "provider");
	if (json_null(v))
		return psprintf("p_fixes[%d].provider is required", n);
	if (v->type == jbvString)
		for (int i = 0; i < (int) lengthof(providers); i++)
			if (strlen(providers[i]) == (size_t) v->val.string.len &&
				strncmp(providers[i], v->val.string.val, v->val.string.len) == 0)
				e->prov = i;
	if (e->prov < 0)
		return psprintf("p_fixes[%d].provider must be one of gps, network, fused, wifi, cell, passive, got %s", n, fix_obs_quote60(v));
	v = fix_obs_key(o, "mock");
	if (!json_null(v))
	{
		if (v->type != jbvBool)
			return psprintf("p_fixes[%d].mock must be true, false or null, got %s", n, fix_obs_quote60(v));
		e->mock = v->val.boolean ? 1 : 0;
	}

	/* observations besides the position */
	if (e->has_obs)
	{
		char	   *problem = fix_obs_check(o, n, &e->obs);

		if (problem != NULL)
			return problem;
	}

	/* the visit's customer (whether it exists is checked with the tables) */
	v = fix_obs_key(o, "customer_id");
	if (!json_null(v))
	{
		FixNum		c;

		e->v_cust = v;
		if (!fix_obs_num(v, &c) || !num_integral(v, &c) || fix_obs_num_below(v, &c, 1))
			return psprintf("p_fixes[%d].customer_id must be a positive integer (the customer a check-in fix is for) or null, got %s",
							n, fix_obs_quote60(v));
		/* (a positive integer beyond bigint is well-formed, and no customer) */
		e->cust = fix_obs_num_in(&c, 1, PG_INT64_MAX, true) ? c.ipart : 0;
		e->cust_ok = true;
	}
	return NULL;
}

static int
cmp_dev_uid(const void *a, const void *b)
{
	return strcmp(((const Dev *) a)->uid, ((const Dev *) b)->uid);
}

static int
cmp_int64(int64 a, int64 b)
{
	return a < b ? -1 : a > b;
}

static int
cmp_worker(const void *a, const void *b)
{
	return cmp_int64(((const Worker *) a)->id, ((const Worker *) b)->id);
}

static int
cmp_cust(const void *a, const void *b)
{
	return cmp_int64(((const Cust *) a)->id, ((const Cust *) b)->id);
}

static int
cmp_ap(const void *a, const void *b)
{
	return strcmp(((const Ap *) a)->bssid, ((const Ap *) b)->bssid);
}

static int
cmp_cell(const void *a, const void *b)
{
	const Cell *x = a,
			   *y = b;

	for (int i = 0; i < 4; i++)
		if (x->key[i] != y->key[i])
			return cmp_int64(x->key[i], y->key[i]);
	return 0;
}

static int
cmp_track(const void *a, const void *b)
{
	return cmp_int64(((const TrackFix *) a)->at, ((const TrackFix *) b)->at);
}

/* element indexes ordered by (device, instant, index); arg is the elements */
static int
cmp_elem_key(const void *a, const void *b, void *arg)
{
	const Elem *e = arg;
	const Elem *x = &e[*(const int *) a],
			   *y = &e[*(const int *) b];
	int			c = cmp_int64(x->dev, y->dev);

	if (c == 0)
		c = cmp_int64(x->at, y->at);
	if (c == 0)
		c = cmp_int64(*(const int *) a, *(const int *) b);
	return c;
}

static int
find_device(Ingest *g, const char *uid)
{
	Dev			key;
	Dev		   *d;

	key.uid = (char *) uid;
	d = bsearch(&key, g->devs, g->ndev, sizeof(Dev), cmp_dev_uid);
	return d ? (int) (d - g->devs) : -1;
}

static int
find_worker(Ingest *g, int64 id)
{
	Worker		key;
	Worker	   *w;

	key.id = id;
	w = bsearch(&key, g->workers, g->nworker, sizeof(Worker), cmp_worker);
	return w ? (int) (w - g->workers) : -1;
}

static int
find_cust(Ingest *g, int64 id)
{
	Cust		key;
	Cust	   *c;

	key.id = id;
	c = bsearch(&key, g->custs, g->ncust, sizeof(Cust), cmp_cust);
	return c ? (int) (c - g->custs) : -1;
}

/*
 * device_recent.fixes: a version byte, a count, "since" (int64
 * microseconds: the fixes are the newest of those recorded since then,
 * -infinity for all), then per fix (oldest first, native byte order)
 * recorded_at and received_at (int64 microseconds), lat and lon (float8),
 * accuracy, altitude, speed and bearing (float4, NaN for none: the values
 * the fix table holds) and the provider (int32, an index of providers[]).
 * Anything else reads as unknown, and the fixes are read from the table
 * again.
 */
#define RECENT_VERSION	2
#define RECENT_HEAD		10
#define RECENT_REC		(8 + 8 + 8 + 8 + 4 * 4 + 4)

static void
recent_parse(Dev *d, bytea *b)
{
	const char *p = VARDATA_ANY(b);
	int			len = VARSIZE_ANY_EXHDR(b);
	int			n;

	d->recent_known = false;
	d->nrecent = 0;
	if (len < RECENT_HEAD || (uint8) p[0] != RECENT_VERSION)
		return;
	n = (uint8) p[1];
	if (n > TRACK_PREV || len != RECENT_HEAD + n * RECENT_REC)
		return;
	memcpy(&d->recent_since, p + 2, 8);
	d->recent = palloc(sizeof(TrackFix) * Max(n, 1));
	p += RECENT_HEAD;
	for (int i = 0; i < n; i++, p += RECENT_REC)
	{
		TrackFix   *t = &d->recent[i];
		int64		at,
					received;
		float4		f[4];
		int32		prov;

		memcpy(&at, p, 8);
		memcpy(&received, p + 8, 8);
		memcpy(&t->p.lat, p + 16, 8);
		memcpy(&t->p.lon, p + 24, 8);
		memcpy(f, p + 32, 16);
		memcpy(&prov, p + 48, 4);
		if (prov < 0 || prov >= (int32) lengthof(providers) || (i > 0 && at <= d->recent[i - 1].at))
			return;
		t->at = at;
		t->received = received;
		t->elem = -1;
		t->p.t_ms = to_unix_ms(at);
		t->p.received_ms = to_unix_ms(received);
		t->p.accuracy_m = f[0];
		t->p.altitude_m = f[1];
		t->p.speed_mps = f[2];
		t->p.bearing_deg = f[3];
		t->p.provider = (SpoofProvider) prov;
	}
	d->nrecent = n;
	d->recent_known = true;
}

/* one device_recent.fixes value: the newest TRACK_PREV of t[0..n) (by time) */
static bytea *
recent_bytes(const TrackFix *t, int n, TimestampTz since)
{
	int			first = Max(0, n - TRACK_PREV);
	int			len = RECENT_HEAD + (n - first) * RECENT_REC;
	bytea	   *b = palloc(VARHDRSZ + len);
	char	   *p = VARDATA(b);

	SET_VARSIZE(b, VARHDRSZ + len);
	p[0] = RECENT_VERSION;
	p[1] = (char) (n - first);
	memcpy(p + 2, &since, 8);
	p += RECENT_HEAD;
	for (int i = first; i < n; i++, p += RECENT_REC)
	{
		float4		f[4] = {(float4) t[i].p.accuracy_m, (float4) t[i].p.altitude_m,
		(float4) t[i].p.speed_mps, (float4) t[i].p.bearing_deg};
		int32		prov = (int32) t[i].p.provider;

		memcpy(p, &t[i].at, 8);
		memcpy(p + 8, &t[i].received, 8);
		memcpy(p + 16, &t[i].p.lat, 8);
		memcpy(p + 24, &t[i].p.lon, 8);
		memcpy(p + 32, f, 16);
		memcpy(p + 48, &prov, 4);
	}
	return b;
}

/* the devices of the batch, locked in device_id order, and their bindings */
static void
load_devices(Ingest *g)
{
	Column		uids;
	Datum		args[4];
	uint64		rows;
	TimestampTz lo = DT_NOEND,
				hi = DT_NOBEGIN;

	/* (a batch is mostly one phone's: repeats in a row are sent once) */
	column_init(&uids, g->n);
	for (int i = 0, last = -1; i < g->n; i++)
		if (g->e[i].uid != NULL)
		{
			if (last < 0 || strcmp(g->e[last].uid, g->e[i].uid) != 0)
				column_add(&uids, CStringGetTextDatum(g->e[i].uid), false);
			last = i;
		}
	if (uids.n == 0)
		return;

	/*
	 * Lock the batch's devices, in device_id order, before reading their
	 * bindings: a concurrent register_device() (which holds the device row)
	 * finishes first and its binding is seen, two batches of the same
	 * device are serialised (the second sees the first's fixes as
	 * duplicates), and last_seen_at is updated without deadlocks.  (The
	 * foreign-key checks of the INSERT then take KEY SHARE locks on the
	 * workers, which conflict with no lock the API takes on a worker.)
	 */
	args[0] = Int64GetDatum(g->tenant);
	args[1] = column_array(&uids, TEXTOID);
	rows = run(&q_devices, args, NULL, false, SPI_OK_SELECT);
	g->devs = palloc0(sizeof(Dev) * Max(rows, 1));
	for (uint64 r = 0; r < rows; r++)
	{
		Dev		   *d = &g->devs[g->ndev++];
		bool		isnull;
		Datum		v;

		d->id = col_int8(r, 1);
		d->uid = TextDatumGetCString(col(r, 2, &isnull));
		d->active = strcmp(TextDatumGetCString(col(r, 3, &isnull)), "active") == 0;
		v = col(r, 4, &isnull);
		d->shared_pool = !isnull && DatumGetBool(v);
		v = col(r, 5, &isnull);
		d->external_gnss = !isnull && DatumGetBool(v);
		v = col(r, 6, &isnull);
		d->has_skew = !isnull;
		d->skew_ms = isnull ? 0 : DatumGetInt64(v);
	}
	qsort(g->devs, g->ndev, sizeof(Dev), cmp_dev_uid);
	if (g->ndev == 0)
		return;

	/*
	 * Their bindings around the batch: the one each fix belongs to, and
	 * all those that touch a local day of the batch (a day is at most 26
	 * hours from any of its instants).
	 */
	for (int i = 0; i < g->n; i++)
		if (g->e[i].has_at && g->e[i].uid != NULL)
		{
			lo = Min(lo, g->e[i].at);
			hi = Max(hi, g->e[i].at);
		}
	if (lo > hi)
		return;
	{
		Column		ids;

		column_init(&ids, g->ndev);
		for (int k = 0; k < g->ndev; k++)
			column_add(&ids, Int64GetDatum(g->devs[k].id), false);
		args[1] = column_array(&ids, INT8OID);
	}
	args[2] = TimestampTzGetDatum(hi + 2 * USECS_PER_DAY);
	args[3] = TimestampTzGetDatum(lo - 2 * USECS_PER_DAY);
	rows = run(&q_bindings, args, NULL, false, SPI_OK_SELECT);
	g->binds = palloc(sizeof(Binding) * Max(rows, 1));
	for (uint64 r = 0; r < rows; r++)
	{
		Binding    *b = &g->binds[g->nbind++];
		bool		isnull;
		Datum		v;

		b->dev = col_int8(r, 1);
		b->worker = col_int8(r, 2);
		b->bound_at = DatumGetTimestampTz(col(r, 3, &isnull));
		v = col(r, 4, &isnull);
		b->open = isnull;
		b->unbound_at = isnull ? DT_NOEND : DatumGetTimestampTz(v);
	}
	/* each device's bindings: a run of binds[] (sorted by device, bound_at) */
	for (int k = 0; k < g->ndev; k++)
	{
		Dev		   *d = &g->devs[k];

		d->bind_lo = d->bind_hi = 0;
		for (int b = 0; b < g->nbind; b++)
			if (g->binds[b].dev == d->id)
			{
				if (d->bind_hi == 0)
					d->bind_lo = b;
				d->bind_hi = b + 1;
			}
	}
}

/* the worker a device was bound to at an instant (-1 none): the latest binding that covers it */
static int64
bound_worker(Ingest *g, const Dev *d, TimestampTz at)
{
	for (int b = d->bind_hi - 1; b >= d->bind_lo; b--)
		if (g->binds[b].bound_at <= at && (g->binds[b].open || g->binds[b].unbound_at > at))
			return g->binds[b].worker;
	return -1;
}

/* the workers of the batch: hire and leave dates, schedules */
static void
load_workers(Ingest *g, int64 *ids, int nids)
{
	Datum		args[2];
	uint64		rows;
	Column		c;

	if (nids == 0)
		return;
	column_init(&c, nids);
	for (int i = 0; i < nids; i++)
		column_add(&c, Int64GetDatum(ids[i]), false);
	args[0] = Int64GetDatum(g->tenant);
	args[1] = column_array(&c, INT8OID);
	rows = run(&q_workers, args, NULL, false, SPI_OK_SELECT);
	g->workers = palloc0(sizeof(Worker) * Max(rows, 1));
	for (uint64 r = 0; r < rows; r++)
	{
		Worker	   *w = &g->workers[g->nworker++];
		bool		isnull;
		Datum		v;

		w->id = col_int8(r, 1);
		v = col(r, 2, &isnull);
		w->has_hired = !isnull;
		w->hired = isnull ? 0 : DatumGetDateADT(v);
		v = col(r, 3, &isnull);
		w->has_left = !isnull;
		w->left = isnull ? 0 : DatumGetDateADT(v);
		v = col(r, 4, &isnull);
		w->schedule = isnull ? NULL : DatumGetJsonbPCopy(v);
	}
}

/* the customers the batch names: pins, and the sites' stable access points when asked */
static void
load_customers(Ingest *g, bool with_sites)
{
	Datum		args[2];
	uint64		rows;
	Column		c;

	column_init(&c, g->n);
	for (int i = 0; i < g->n; i++)
		if (g->e[i].err == NULL && g->e[i].cust_ok && g->e[i].cust > 0 &&
			(c.n == 0 || DatumGetInt64(c.v[c.n - 1]) != g->e[i].cust))
			column_add(&c, Int64GetDatum(g->e[i].cust), false);
	if (c.n == 0)
		return;
	args[0] = Int64GetDatum(g->tenant);
	args[1] = column_array(&c, INT8OID);
	rows = run(&q_customers, args, NULL, false, SPI_OK_SELECT);
	g->custs = palloc0(sizeof(Cust) * Max(rows, 1));
	for (uint64 r = 0; r < rows; r++)
	{
		Cust	   *cu = &g->custs[g->ncust++];
		bool		isnull;

		cu->id = col_int8(r, 1);
		cu->x = col_float8(r, 2, &isnull);
		cu->y = col_float8(r, 3, &isnull);
		cu->has_geom = !isnull;
	}
	if (!with_sites || g->ncust == 0)
		return;
	rows = run(&q_site_aps, args, NULL, false, SPI_OK_SELECT);
	for (uint64 r = 0; r < rows; r++)
	{
		int			k = find_cust(g, col_int8(r, 1));
		bool		isnull;
		char	   *b = TextDatumGetCString(col(r, 2, &isnull));
		Cust	   *cu;

		if (k < 0)
			continue;
		cu = &g->custs[k];
		if (cu->stable == NULL)
			cu->stable = palloc(sizeof(*cu->stable) * rows);
		strlcpy(cu->stable[cu->nstable++], b, 18);
	}
}

/* the local time of an instant in the tenant's time zone */
static Timestamp
local_time(Ingest *g, TimestampTz at)
{
	return DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, g->tz, TimestampTzGetDatum(at)));
}

/* the instant a local time is in the tenant's time zone */
static TimestampTz
zone_time(Ingest *g, Timestamp local)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, g->tz, TimestampGetDatum(local)));
}

static int32
local_date(Timestamp t)
{
	int64		d = t / USECS_PER_DAY;

	if (t % USECS_PER_DAY < 0)
		d--;
	return (int32) d;
}

static char *
format_date(DateADT d)
{
	int			y,
				m,
				dd;

	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
	return psprintf("%04d-%02d-%02d", y, m, dd);
}

/* is the local time inside the schedule (the worker's, else the tenant's)? */
static bool
on_duty(Ingest *g, Worker *w, Timestamp local)
{
	WtSchedule *s;
	int64		usec = local % USECS_PER_DAY;

	if (w != NULL && w->schedule != NULL)
	{
		if (w->parsed == NULL)
		{
			w->parsed = palloc(sizeof(WtSchedule));
			work_schedule_parse(w->schedule, w->parsed);
		}
		s = w->parsed;
	}
	else if (g->schedule != NULL)
	{
		if (g->schedule_parsed == NULL)
		{
			g->schedule_parsed = palloc(sizeof(WtSchedule));
			work_schedule_parse(g->schedule, g->schedule_parsed);
		}
		s = g->schedule_parsed;
	}
	else
		return true;			/* no schedule: always on duty */
	if (usec < 0)
		usec += USECS_PER_DAY;
	return wt_contains(s, local_date(local), (int32) (usec / USECS_PER_SEC));
}

/*
 * The problems only the tables reveal, then the outcome of every valid
 * element: duplicate within the batch, expired, off duty (stored or not)
 * or stored.
 */
static void
classify(Ingest *g)
{
	int64	   *wids = palloc(sizeof(int64) * Max(g->n, 1));
	int			nw = 0;
	int		   *order;
	int			nvalid = 0;

	/* device, worker */
	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];

		if (e->uid != NULL)
			e->dev = find_device(g, e->uid);
		if (e->err == NULL && e->dev >= 0 && e->has_at)
		{
			int64		w = bound_worker(g, &g->devs[e->dev], e->at);

			if (w >= 0)
			{
				e->worker_id = w;
				if (nw == 0 || wids[nw - 1] != w)
					wids[nw++] = w;
			}
		}
	}
	load_workers(g, wids, nw);
	qsort(g->workers, g->nworker, sizeof(Worker), cmp_worker);
	load_customers(g, true);

	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];

		if (e->worker_id != 0)
			e->worker = find_worker(g, e->worker_id);
		if (e->err == NULL && e->cust_ok && e->cust > 0)
			e->cu = find_cust(g, e->cust);
		if (e->err != NULL)
			continue;
		if (e->cust_ok && e->cu < 0)
			e->err = psprintf("p_fixes[%d].customer_id %s is not a customer of tenant " INT64_FORMAT,
							  i, pnstrdup(fix_obs_quote60(e->v_cust), 30), g->tenant);
		else if (e->dev < 0)
		{
			char	   *uid = pstrdup(e->uid);

			uid[pg_mbcharcliplen(uid, strlen(uid), 60)] = '\0';
			e->err = psprintf("p_fixes[%d].device_uid \"%s\" is not a device of tenant " INT64_FORMAT, i, uid, g->tenant);
		}
		else if (!g->devs[e->dev].active)
		{
			char	   *uid = pstrdup(e->uid);

			uid[pg_mbcharcliplen(uid, strlen(uid), 60)] = '\0';
			e->err = psprintf("p_fixes[%d].device_uid \"%s\" is a retired device", i, uid);
		}
		/* (an expired fix is not stored anyway: whom it belonged to does not matter) */
		else if (e->worker < 0 && e->at >= g->expired_before)
		{
			char	   *uid = pstrdup(e->uid);

			uid[pg_mbcharcliplen(uid, strlen(uid), 60)] = '\0';
			e->err = psprintf("p_fixes[%d]: device \"%s\" was not bound to a worker at recorded_at %s",
							  i, uid, fix_obs_quote60(e->v_at));
		}
	}

	/* the first valid element of each device and instant is the one that counts */
	order = palloc(sizeof(int) * Max(g->n, 1));
	for (int i = 0; i < g->n; i++)
	{
		g->e[i].first = -1;
		if (g->e[i].err == NULL)
			order[nvalid++] = i;
	}
	qsort_arg(order, nvalid, sizeof(int), cmp_elem_key, g->e);
	for (int k = 0; k < nvalid; k++)
	{
		Elem	   *e = &g->e[order[k]];
		Elem	   *p = k > 0 ? &g->e[order[k - 1]] : NULL;

		e->first = (p != NULL && p->dev == e->dev && p->at == e->at) ? p->first : order[k];
	}

	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];
		char	   *off = NULL;

		if (e->err != NULL)
		{
			e->status = ST_REJECTED;
			e->why = e->err;
			continue;
		}
		if (e->first != i)
		{
			e->status = ST_DUPLICATE;
			e->why = psprintf("same device and recorded_at as p_fixes[%d]", e->first);
			continue;
		}
		if (e->at < g->expired_before)
		{
			e->status = ST_EXPIRED;
			e->why = psprintf("older than the tenant's fix_retention_days (%d days)", g->retention);
			continue;
		}
		{
			Worker	   *w = e->worker >= 0 ? &g->workers[e->worker] : NULL;
			int64		wid = w ? w->id : 0;

			e->local_at = local_time(g, e->at);
			if (w && w->has_hired && local_date(e->local_at) < w->hired)
				off = psprintf("before worker " INT64_FORMAT " was hired (%s)", wid, format_date(w->hired));
			else if (w && w->has_left && local_date(e->local_at) >= w->left)
				off = psprintf("on or after the day worker " INT64_FORMAT " left (%s)", wid, format_date(w->left));
			else if (!on_duty(g, w, e->local_at))
			{
				struct pg_tm tm;
				fsec_t		fsec;

				if (timestamp2tm(e->local_at, NULL, &tm, &fsec, NULL, NULL) != 0)
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("timestamp out of range")));
				off = psprintf("outside the working hours of worker " INT64_FORMAT " (%s %04d-%02d-%02d %02d:%02d in %s)",
							   wid, day_abbrev[j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday))],
							   tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, g->tzname);
			}
		}
		if (off != NULL && g->store_off)
		{
			e->status = ST_OFF_DUTY_STORED;
			e->why = psprintf("%s; stored (store_off_duty_fixes is on)", off);
		}
		else if (off != NULL)
		{
			e->status = ST_OFF_DUTY;
			e->why = psprintf("%s; not stored (store_off_duty_fixes is off)", off);
		}
		else
			e->status = ST_STORED;
		e->store = e->status == ST_STORED || e->status == ST_OFF_DUTY_STORED;
	}
}

/* integrity verdict bits (1 basic, 2 device, 4 strong), -1 unknown: as integrity_bits() */
static int
integrity_bits(Jsonb *jb)
{
	static const char *const names[] = {"basic", "device", "strong"};
	static const char *const labels[] = {"MEETS_BASIC_INTEGRITY", "MEETS_DEVICE_INTEGRITY", "MEETS_STRONG_INTEGRITY"};
	JsonbValue *v;
	bool		any = false;
	int			bits = 0;

	if (jb == NULL || !JB_ROOT_IS_OBJECT(jb))
		return -1;
	for (int i = 0; i < 3; i++)
	{
		v = fix_obs_key(&jb->root, names[i]);
		if (v != NULL)
		{
			any = true;
			if (v->type == jbvBool && v->val.boolean)
				bits |= 1 << i;
		}
	}
	if (any)
		return bits;
	v = fix_obs_key(&jb->root, "device_recognition");
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		return -1;
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	x;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
			if (tok == WJB_ELEM && x.type == jbvString)
				for (int i = 0; i < 3; i++)
					if (strlen(labels[i]) == (size_t) x.val.string.len &&
						strncmp(labels[i], x.val.string.val, x.val.string.len) == 0)
						bits |= 1 << i;
	}
	return bits;
}

/* the workers a device was bound to during a local day */
static int
workers_on_day(Ingest *g, const Dev *d, TimestampTz start, TimestampTz next)
{
	int64		seen[64];
	int			n = 0;

	for (int b = d->bind_lo; b < d->bind_hi; b++)
	{
		const Binding *x = &g->binds[b];
		bool		dup = false;

		if (x->dev != d->id || x->bound_at >= next || (!x->open && x->unbound_at <= start))
			continue;
		for (int i = 0; i < n; i++)
			if (seen[i] == x->worker)
				dup = true;
		if (!dup && n < (int) lengthof(seen))
			seen[n++] = x->worker;
	}
	return n;
}

/* seconds since the binding the fix belongs to began; NAN none */
static double
rebound_seconds(Ingest *g, const Dev *d, TimestampTz at)
{
	for (int b = d->bind_hi - 1; b >= d->bind_lo; b--)
		if (g->binds[b].dev == d->id && g->binds[b].bound_at <= at)
			return (double) (at - g->binds[b].bound_at) / USECS_PER_SEC;
	return NAN;
}

/* device indexes ordered by device_id; arg is the devices */
static int
cmp_dev_id(const void *a, const void *b, void *arg)
{
	const Dev  *d = arg;

	return cmp_int64(d[*(const int *) a].id, d[*(const int *) b].id);
}

/* the index in devs[] of a device_id (by_id: cmp_dev_id order), -1 none */
static int
find_device_id(Ingest *g, const int *by_id, int64 id)
{
	int			lo = 0,
				hi = g->ndev - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int64		m = g->devs[by_id[mid]].id;

		if (m == id)
			return by_id[mid];
		if (m < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* the first index in st[0..n) (cmp_elem_key order) of device k at t, -1 none */
static int
find_stored_elem(const Elem *e, const int *st, int n, int k, TimestampTz t)
{
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;
		const Elem *m = &e[st[mid]];

		if (m->dev < k || (m->dev == k && m->at < t))
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < n && e[st[lo]].dev == k && e[st[lo]].at == t) ? lo : -1;
}

/* a stored fix of a track from the current result row */
static void
track_row(uint64 r, TrackFix *t)
{
	bool		isnull;
	char	   *prov;

	t->at = DatumGetTimestampTz(col(r, 2, &isnull));
	t->received = DatumGetTimestampTz(col(r, 3, &isnull));
	t->elem = -1;
	t->p.t_ms = to_unix_ms(t->at);
	t->p.received_ms = to_unix_ms(t->received);
	t->p.lat = col_float8(r, 4, &isnull);
	t->p.lon = col_float8(r, 5, &isnull);
	t->p.accuracy_m = col_float4(r, 6);
	t->p.altitude_m = col_float4(r, 7);
	t->p.speed_mps = col_float4(r, 8);
	t->p.bearing_deg = col_float4(r, 9);
	prov = TextDatumGetCString(col(r, 10, &isnull));
	t->p.provider = SPROV_PASSIVE;
	for (int i = 0; i < (int) lengthof(providers); i++)
		if (strcmp(prov, providers[i]) == 0)
			t->p.provider = (SpoofProvider) i;
}

/* take the stored fix's id and score from the current result row (columns from c) */
static void
stored_values(Elem *e, uint64 r, int c)
{
	bool		isnull;
	Datum		v;

	e->has_fix = true;
	e->fix_id = DatumGetInt64(col(r, c, &isnull));
	v = col(r, c + 1, &isnull);
	e->has_score = !isnull;
	e->score = isnull ? 0 : DatumGetInt16(v);
	v = col(r, c + 2, &isnull);
	e->band = isnull ? NULL : TextDatumGetCString(v);
	v = col(r, c + 3, &isnull);
	e->reasons = isnull ? (Datum) 0 : PointerGetDatum(DatumGetJsonbPCopy(v));
	v = col(r, c + 4, &isnull);
	e->model_version = isnull ? NULL : TextDatumGetCString(v);
}

/*
 * A 16-byte digest as the uuid fix_fingerprint stores it ((Datum) 0 for
 * none): fixed width, compared with one memcmp, a quarter narrower in the
 * index than a bytea.
 */
static Datum
digest_uuid(bytea *d)
{
	pg_uuid_t  *u;

	if (d == NULL)
		return (Datum) 0;
	if (VARSIZE_ANY_EXHDR(d) != UUID_LEN)
		elog(ERROR, "ingest_fixes: a fingerprint digest is not %d bytes", UUID_LEN);
	u = palloc(sizeof(pg_uuid_t));
	memcpy(u->data, VARDATA_ANY(d), UUID_LEN);
	return UUIDPGetDatum(u);
}

/*
 * Score the fixes to store that are not stored yet, each against its
 * device's fixes before it in fix time (stored or in the batch, so a late,
 * out-of-order upload is scored as if it had come in order), the radio map,
 * the replay fingerprints and the device's history, filled into the core's
 * structs.
 */
static void
score_new(Ingest *g)
{
	Datum		args[10];
	uint64		rows;
	Column		c1,
				c2,
				c3;
	int			ncand = 0;
	bool		any_new = false;
	SpoofModel	model;
	Ap		   *aps = NULL;
	int			naps = 0;
	Cell	   *cells = NULL;
	int			ncells = 0;
	TrackFix  **tracks;
	int		   *ntrack;
	int64	   (*serving)[4] = palloc(sizeof(*serving) * Max(g->n, 1));
	bool	   *has_serving = palloc0(sizeof(bool) * Max(g->n, 1));
	int		   *cell_of = palloc(sizeof(int) * Max(g->n, 1));

	/* each device's range of fixes to store */
	for (int k = 0; k < g->ndev; k++)
	{
		g->devs[k].has_new = false;
		g->devs[k].recent_new = NULL;
	}
	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];
		Dev		   *d;

		if (!e->store)
			continue;
		d = &g->devs[e->dev];
		if (!d->has_new)
			d->lo = d->hi = e->at;
		d->has_new = true;
		d->lo = Min(d->lo, e->at);
		d->hi = Max(d->hi, e->at);
		any_new = true;
	}
	if (!any_new)
		return;
	for (int k = 0; k < g->ndev; k++)
		if (g->devs[k].has_new)
			g->devs[k].back = g->devs[k].lo - TRACK_LOOKBACK_DAYS * USECS_PER_DAY;
	tracks = palloc0(sizeof(TrackFix *) * g->ndev);
	ntrack = palloc0(sizeof(int) * g->ndev);
	args[0] = Int64GetDatum(g->tenant);
	{
		int		   *by_id = palloc(sizeof(int) * g->ndev);
		int		   *row_dev;
		int		   *st = palloc(sizeof(int) * Max(g->n, 1));
		int			nst = 0;
		TimestampTz lo = DT_NOEND,
					hi = DT_NOBEGIN,
					since = DT_NOEND;

		for (int k = 0; k < g->ndev; k++)
			by_id[k] = k;
		qsort_arg(by_id, g->ndev, sizeof(int), cmp_dev_id, g->devs);

		/* what device_recent knows of them */
		column_init(&c1, g->ndev);
		for (int k = 0; k < g->ndev; k++)
		{
			g->devs[k].recent_known = false;
			if (g->devs[k].has_new)
				column_add(&c1, Int64GetDatum(g->devs[k].id), false);
		}
		args[1] = column_array(&c1, INT8OID);
		rows = run(&q_recent_rows, args, NULL, false, SPI_OK_SELECT);
		for (uint64 r = 0; r < rows; r++)
		{
			int			k = find_device_id(g, by_id, col_int8(r, 1));
			bool		isnull;
			Datum		v = col(r, 2, &isnull);

			if (k >= 0 && !isnull)
				recent_parse(&g->devs[k], DatumGetByteaPP(v));
		}

		/*
		 * The newest stored fixes of the devices device_recent does not know
		 * (newest first from the table, kept oldest first).
		 */
		column_init(&c1, g->ndev);
		column_init(&c2, g->ndev);
		for (int k = 0; k < g->ndev; k++)
			if (g->devs[k].has_new && !g->devs[k].recent_known)
			{
				column_add(&c1, Int64GetDatum(g->devs[k].id), false);
				column_add(&c2, TimestampTzGetDatum(g->devs[k].back), false);
				since = Min(since, g->devs[k].back);
			}
		if (c1.n > 0)
		{
			bool	   *rebuilt = palloc0(sizeof(bool) * g->ndev);

			args[1] = column_array(&c1, INT8OID);
			args[2] = column_array(&c2, TIMESTAMPTZOID);
			args[3] = TimestampTzGetDatum(since);
			rows = run(&q_recent, args, NULL, false, SPI_OK_SELECT);
			for (int k = 0; k < g->ndev; k++)
				if (g->devs[k].has_new && !g->devs[k].recent_known)
				{
					g->devs[k].recent = palloc(sizeof(TrackFix) * TRACK_PREV);
					g->devs[k].nrecent = 0;
					g->devs[k].recent_since = g->devs[k].back;
					g->devs[k].recent_known = true;
					rebuilt[k] = true;
				}
			for (uint64 r = 0; r < rows; r++)
			{
				int			k = find_device_id(g, by_id, col_int8(r, 1));
				Dev		   *d = k >= 0 ? &g->devs[k] : NULL;

				if (d != NULL && d->nrecent < TRACK_PREV)
					track_row(r, &d->recent[d->nrecent++]);
			}
			for (int k = 0; k < g->ndev; k++)
				if (rebuilt[k])
					qsort(g->devs[k].recent, g->devs[k].nrecent, sizeof(TrackFix), cmp_track);
		}

		/*
		 * A device whose fixes to store are all newer than its newest
		 * stored fix (the usual upload) has no duplicates among them, and
		 * its fixes before them are the newest ones: no need to ask the
		 * table.  The others (a late, out-of-order upload, a re-send) are
		 * looked up.
		 */
		column_init(&c1, g->ndev);
		column_init(&c2, g->ndev);
		column_init(&c3, g->ndev);
		for (int k = 0; k < g->ndev; k++)
		{
			Dev		   *d = &g->devs[k];

			if (!d->has_new)
				continue;
			/*
			 * (what it holds is complete for this batch when it is 16 fixes,
			 * or all of them since the batch's lookback)
			 */
			d->use_recent = (d->nrecent == 0 || d->lo > d->recent[d->nrecent - 1].at) &&
				(d->nrecent == TRACK_PREV || d->recent_since <= d->back);
			if (d->use_recent)
			{
				for (int j = 0; j < d->nrecent; j++)
					if (d->recent[j].at >= d->back)
						ntrack[k]++;
				continue;
			}
			column_add(&c1, Int64GetDatum(d->id), false);
			column_add(&c2, TimestampTzGetDatum(d->lo), false);
			column_add(&c3, TimestampTzGetDatum(d->hi), false);
			lo = Min(lo, d->lo);
			hi = Max(hi, d->hi);
		}

		/* the stored fixes around the batch; those among it are duplicates */
		rows = 0;
		if (c1.n > 0)
		{
			Interval   *back = palloc0(sizeof(Interval));

			back->time = TRACK_LOOKBACK_DAYS * USECS_PER_DAY;
			args[1] = column_array(&c1, INT8OID);
			args[2] = column_array(&c2, TIMESTAMPTZOID);
			args[3] = column_array(&c3, TIMESTAMPTZOID);
			args[4] = TimestampTzGetDatum(lo - TRACK_LOOKBACK_DAYS * USECS_PER_DAY);
			args[5] = TimestampTzGetDatum(hi);
			args[6] = IntervalPGetDatum(back);
			rows = run(&q_track, args, NULL, false, SPI_OK_SELECT);
		}
		row_dev = palloc(sizeof(int) * Max(rows, 1));

		/* each device's track sized to its stored rows and its new fixes */
		for (uint64 r = 0; r < rows; r++)
			if ((row_dev[r] = find_device_id(g, by_id, col_int8(r, 1))) >= 0)
				ntrack[row_dev[r]]++;
		for (int i = 0; i < g->n; i++)
			if (g->e[i].store)
			{
				ntrack[g->e[i].dev]++;
				st[nst++] = i;
			}
		for (int k = 0; k < g->ndev; k++)
		{
			Dev		   *d = &g->devs[k];

			tracks[k] = palloc(sizeof(TrackFix) * Max(ntrack[k], 1));
			ntrack[k] = 0;
			if (d->has_new && d->use_recent)
				for (int j = 0; j < d->nrecent; j++)
					if (d->recent[j].at >= d->back)
						tracks[k][ntrack[k]++] = d->recent[j];
		}

		/* the stored ones; those among the batch's make duplicates */
		qsort_arg(st, nst, sizeof(int), cmp_elem_key, g->e);
		for (uint64 r = 0; r < rows; r++)
		{
			int			k = row_dev[r];
			bool		isnull;
			TrackFix   *t;

			if (k < 0)
				continue;
			t = &tracks[k][ntrack[k]++];
			track_row(r, t);
			if (DatumGetBool(col(r, 11, &isnull)))
			{
				int			j = find_stored_elem(g->e, st, nst, k, t->at);

				/* (valid elements of a device and instant are one: first_n) */
				if (j >= 0)
				{
					g->e[st[j]].existing = true;
					stored_values(&g->e[st[j]], r, 12);
				}
			}
		}
	}

	/* the fixes to score, with their digests and serving cells */
	column_init(&c1, g->n);
	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];
		Timestamp	midnight;

		if (!e->store || e->existing)
			continue;
		ncand++;
		midnight = e->local_at; /* (classify() set it for every fix to store) */
		midnight -= midnight % USECS_PER_DAY + (midnight % USECS_PER_DAY < 0 ? USECS_PER_DAY : 0);
		e->day_start = zone_time(g, midnight);
		e->next_day_start = zone_time(g, midnight + USECS_PER_DAY);
		e->integrity = integrity_bits(e->obs.integrity);
		if (e->obs.wifi != NULL)
		{
			JsonbIterator *it = JsonbIteratorInit(&e->obs.wifi->root);
			JsonbValue	x;
			JsonbIteratorToken tok;

			e->sdig = fix_obs_scan_digest(e->obs.wifi, &e->scan_age);
			while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
			{
				JsonbValue *b;

				if (tok != WJB_ELEM || x.type != jbvBinary)
					continue;
				b = fix_obs_key(x.val.binary.data, "bssid");
				if (b != NULL && b->type == jbvString)
					column_add(&c1, PointerGetDatum(cstring_to_text_with_len(b->val.string.val, b->val.string.len)), false);
			}
		}
		/*
		 * the position digest of fresh solutions: GNSS fixes, and fixes
		 * with a scan of 3+ access points (an RSSI-weighted estimate; a
		 * cell-only lookup returns the same stored point every day)
		 */
		if (e->prov == SPROV_GPS || (e->obs.wifi != NULL && JB_ROOT_IS_ARRAY(e->obs.wifi) &&
									 JB_ROOT_COUNT(e->obs.wifi) >= 3))
			e->pdig = fix_obs_point_digest(e->lat, e->lon);
		{
			JsonbValue	cell;

			has_serving[i] = fix_obs_serving_cell(e->obs.cells, serving[i], &cell);
		}
		cell_of[i] = -1;
	}
	if (ncand == 0)
		return;

	/* the radio map: the batch's access points, then its serving cells */
	if (c1.n > 0)
	{
		args[1] = column_array(&c1, TEXTOID);
		rows = run(&q_aps, args, NULL, false, SPI_OK_SELECT);
		aps = palloc(sizeof(Ap) * Max(rows, 1));
		for (uint64 r = 0; r < rows; r++)
		{
			bool		isnull;
			Ap		   *a = &aps[naps++];

			strlcpy(a->bssid, TextDatumGetCString(col(r, 1, &isnull)), sizeof(a->bssid));
			a->lat = col_float8(r, 2, &isnull);
			a->lon = col_float8(r, 3, &isnull);
			a->spread = col_float4(r, 4);
		}
		qsort(aps, naps, sizeof(Ap), cmp_ap);
	}
	{
		Column		k4[4];

		for (int j = 0; j < 4; j++)
			column_init(&k4[j], g->n);
		for (int i = 0; i < g->n; i++)
			if (has_serving[i] && g->e[i].store && !g->e[i].existing)
			{
				for (int j = 0; j < 3; j++)
					column_add(&k4[j], Int32GetDatum((int32) serving[i][j]), false);
				column_add(&k4[3], Int64GetDatum(serving[i][3]), false);
			}
		if (k4[0].n > 0)
		{
			args[1] = column_array(&k4[0], INT4OID);
			args[2] = column_array(&k4[1], INT4OID);
			args[3] = column_array(&k4[2], INT4OID);
			args[4] = column_array(&k4[3], INT8OID);
			rows = run(&q_cells, args, NULL, false, SPI_OK_SELECT);
			cells = palloc(sizeof(Cell) * Max(rows, 1));
			for (uint64 r = 0; r < rows; r++)
			{
				bool		isnull;
				Cell	   *x = &cells[ncells++];

				for (int j = 0; j < 4; j++)
					x->key[j] = j < 3 ? DatumGetInt32(col(r, j + 1, &isnull)) : col_int8(r, 4);
				x->lat = col_float8(r, 5, &isnull);
				x->lon = col_float8(r, 6, &isnull);
				x->radius = col_float4(r, 7);
			}
			qsort(cells, ncells, sizeof(Cell), cmp_cell);
		}
	}

	/* unknown serving cells: of a country the map has not seen around here? */
	{
		Column		k,
					lon,
					lat,
					mcc;

		column_init(&k, g->n);
		column_init(&lon, g->n);
		column_init(&lat, g->n);
		column_init(&mcc, g->n);
		for (int i = 0; i < g->n; i++)
		{
			Cell		key;
			Cell	   *hit;

			if (!has_serving[i] || !g->e[i].store || g->e[i].existing)
				continue;
			memcpy(key.key, serving[i], sizeof(key.key));
			hit = ncells > 0 ? bsearch(&key, cells, ncells, sizeof(Cell), cmp_cell) : NULL;
			if (hit != NULL)
			{
				cell_of[i] = (int) (hit - cells);
				continue;
			}
			column_add(&k, Int32GetDatum(i), false);
			column_add(&lon, Float8GetDatum(g->e[i].lon), false);
			column_add(&lat, Float8GetDatum(g->e[i].lat), false);
			column_add(&mcc, Int32GetDatum((int32) serving[i][0]), false);
		}
		if (k.n > 0)
		{
			args[1] = column_array(&k, INT4OID);
			args[2] = column_array(&lon, FLOAT8OID);
			args[3] = column_array(&lat, FLOAT8OID);
			args[4] = column_array(&mcc, INT4OID);
			rows = run(&q_foreign, args, NULL, false, SPI_OK_SELECT);
			for (uint64 r = 0; r < rows; r++)
			{
				bool		isnull;
				int			i = DatumGetInt32(col(r, 1, &isnull));
				Datum		v = col(r, 2, &isnull);

				if (i >= 0 && i < g->n)
					g->e[i].mcc_foreign = !isnull && DatumGetBool(v);
			}
		}
	}

	/* replays: the scans and positions seen before (fix_replay.c); then the new ones are stored */
	{
		ReplayProbe *probes = palloc0(sizeof(ReplayProbe) * g->n);
		int		   *elem_of = palloc(sizeof(int) * g->n);
		int			np = 0;
		Column		dev,
					at,
					sd,
					sat,
					pd;

		column_init(&dev, g->n);
		column_init(&at, g->n);
		column_init(&sd, g->n);
		column_init(&sat, g->n);
		column_init(&pd, g->n);
		for (int i = 0; i < g->n; i++)
		{
			Elem	   *e = &g->e[i];
			ReplayProbe *p = &probes[np];

			if (!e->store || e->existing || (e->sdig == NULL && e->pdig == NULL))
				continue;
			p->device_id = g->devs[e->dev].id;
			p->scanned_at = e->at;
			p->day_start = e->day_start;
			if (e->sdig != NULL)
			{
				p->has_scan = true;
				memcpy(p->scan.data, DatumGetUUIDP(digest_uuid(e->sdig))->data, UUID_LEN);
				if (!isnan(e->scan_age))
					p->scanned_at -= (TimestampTz) llround(e->scan_age * USECS_PER_SEC);
			}
			/* (an external receiver's exact repeats are not replays) */
			if (e->pdig != NULL && !g->devs[e->dev].external_gnss)
			{
				p->look_point = true;
				memcpy(p->point.data, DatumGetUUIDP(digest_uuid(e->pdig))->data, UUID_LEN);
			}
			column_add(&dev, Int64GetDatum(p->device_id), false);
			column_add(&at, TimestampTzGetDatum(e->at), false);
			column_add(&sd, digest_uuid(e->sdig), e->sdig == NULL);
			column_add(&sat, TimestampTzGetDatum(p->scanned_at), e->sdig == NULL);
			column_add(&pd, digest_uuid(e->pdig), e->pdig == NULL);
			elem_of[np++] = i;
		}
		if (np > 0)
		{
			fix_replay_probe(g->tenant, probes, np);
			for (int j = 0; j < np; j++)
			{
				g->e[elem_of[j]].scan_replay = probes[j].scan_replay;
				g->e[elem_of[j]].same_coords = probes[j].same_coords;
			}
			args[1] = column_array(&dev, INT8OID);
			args[2] = column_array(&at, TIMESTAMPTZOID);
			args[3] = column_array(&sd, UUIDOID);
			args[4] = column_array(&sat, TIMESTAMPTZOID);
			args[5] = column_array(&pd, UUIDOID);
			run(g->orphan_fingerprints ? &q_fingerprints_orphans : &q_fingerprints, args, NULL, false, SPI_OK_INSERT);
		}
	}

	/* the model in force, then each device's track in one pass */
	model = g->model;
	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];
		TrackFix   *t;

		if (!e->store || e->existing)
			continue;
		t = &tracks[e->dev][ntrack[e->dev]++];
		t->at = e->at;
		t->received = g->now;
		t->elem = i;
		t->p.t_ms = to_unix_ms(e->at);
		t->p.received_ms = to_unix_ms(g->now);
		t->p.lat = e->lat;
		t->p.lon = e->lon;
		t->p.accuracy_m = e->has_acc ? e->acc : NAN;
		t->p.altitude_m = e->has_alt ? e->alt : NAN;
		t->p.speed_mps = e->has_spd ? e->spd : NAN;
		t->p.bearing_deg = e->has_brg ? e->brg : NAN;
		t->p.provider = (SpoofProvider) e->prov;
	}
	for (int k = 0; k < g->ndev; k++)
	{
		Dev		   *d = &g->devs[k];
		TrackFix   *tr = tracks[k];
		int			nt = ntrack[k];
		SpoofPrev  *prev;
		TimestampTz last = DT_NOBEGIN;

		if (nt == 0)
			continue;
		qsort(tr, nt, sizeof(TrackFix), cmp_track);
		prev = palloc(sizeof(SpoofPrev) * nt);
		for (int j = 0; j < nt; j++)
		{
			prev[j] = tr[j].p;
			if (tr[j].elem >= 0)
				last = Max(last, tr[j].at);
		}

		/* its newest fixes once these are stored: the known ones and the new ones, by time */
		if (d->has_new && d->recent_known)
		{
			TrackFix   *m = palloc(sizeof(TrackFix) * (d->nrecent + nt));
			int			nm = 0,
						a = 0;

			for (int j = 0; j < nt; j++)
			{
				if (tr[j].elem < 0)
					continue;
				while (a < d->nrecent && d->recent[a].at < tr[j].at)
					m[nm++] = d->recent[a++];
				if (a < d->nrecent && d->recent[a].at == tr[j].at)
					continue;	/* (cannot be: it would be a duplicate) */
				m[nm++] = tr[j];
			}
			while (a < d->nrecent)
				m[nm++] = d->recent[a++];
			d->recent_new = recent_bytes(m, nm, d->recent_since);
		}
		for (int j = 0; j < nt; j++)
		{
			Elem	   *e;
			SpoofFix	fix;
			SpoofRadio	radio;
			SpoofHistory hist;
			SpoofResult res;
			int			first = Max(0, j - TRACK_PREV);
			bool		has_radio;

			if (tr[j].elem < 0)
				continue;
			e = &g->e[tr[j].elem];
			spoof_context_init(&fix, &radio, &hist);
			fix.t_ms = tr[j].p.t_ms;
			fix.received_ms = tr[j].p.received_ms;
			fix.lat = e->lat;
			fix.lon = e->lon;
			fix.accuracy_m = tr[j].p.accuracy_m;
			fix.altitude_m = tr[j].p.altitude_m;
			fix.speed_mps = tr[j].p.speed_mps;
			fix.bearing_deg = tr[j].p.bearing_deg;
			fix.provider = tr[j].p.provider;
			fix.mock = e->mock;
			fix.satellites = e->obs.has_sats ? e->obs.sats : -1;
			fix.cn0_mean_dbhz = e->obs.has_cn0[0] ? e->obs.cn0[0] : NAN;
			fix.cn0_sd_dbhz = e->obs.has_cn0[1] ? e->obs.cn0[1] : NAN;
			fix.integrity = e->integrity;
			fix.external_receiver = d->external_gnss;

			/* what the radio map says about the scan and the serving cell */
			has_radio = e->obs.wifi != NULL || e->obs.cells != NULL;
			if (has_radio)
			{
				Cust	   *cu = e->cu >= 0 ? &g->custs[e->cu] : NULL;
				int			i = tr[j].elem;

				if (e->obs.wifi != NULL)
				{
					JsonbIterator *it = JsonbIteratorInit(&e->obs.wifi->root);
					JsonbValue	x;
					JsonbIteratorToken tok;

					while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
					{
						JsonbValue *b;
						Ap			key;
						Ap		   *hit = NULL;
						SpoofAp    *ap;

						if (tok != WJB_ELEM || x.type != jbvBinary)
							continue;
						if (radio.n_ap >= SPOOF_MAX_AP)
							continue;	/* the core weighs at most SPOOF_MAX_AP */
						b = fix_obs_key(x.val.binary.data, "bssid");
						if (b != NULL && b->type == jbvString && b->val.string.len == 17 && naps > 0)
						{
							memcpy(key.bssid, b->val.string.val, 17);
							key.bssid[17] = '\0';
							hit = bsearch(&key, aps, naps, sizeof(Ap), cmp_ap);
						}
						ap = &radio.ap[radio.n_ap++];
						ap->known = hit != NULL;
						ap->distance_m = hit ? geo_distance(hit->lat, hit->lon, e->lat, e->lon) : NAN;
						ap->spread_m = hit ? hit->spread : NAN;
					}

					/* the visit's site: how many of its stable access points were heard */
					if (cu != NULL && cu->has_geom && cu->nstable > 0)
					{
						radio.site_stable_count = cu->nstable;
						radio.site_overlap = 0;
						for (int s = 0; s < cu->nstable; s++)
						{
							JsonbIterator *it2 = JsonbIteratorInit(&e->obs.wifi->root);
							JsonbValue	y;

							while ((tok = JsonbIteratorNext(&it2, &y, true)) != WJB_DONE)
							{
								JsonbValue *b;

								if (tok != WJB_ELEM || y.type != jbvBinary)
									continue;
								b = fix_obs_key(y.val.binary.data, "bssid");
								if (b != NULL && b->type == jbvString && b->val.string.len == 17 &&
									memcmp(b->val.string.val, cu->stable[s], 17) == 0)
								{
									radio.site_overlap++;
									break;
								}
							}
						}
					}
				}
				radio.scan_replay = e->scan_replay;
				radio.has_cell = has_serving[i];
				radio.cell_known = cell_of[i] >= 0;
				if (radio.cell_known)
				{
					Cell	   *c = &cells[cell_of[i]];

					radio.cell_distance_m = geo_distance(c->lat, c->lon, e->lat, e->lon);
					radio.cell_radius_m = c->radius;
				}
				radio.mcc_foreign = e->mcc_foreign;
			}

			/* the device's and the customer's history */
			hist.workers_on_device_today = d->shared_pool ? -1 :
				workers_on_day(g, d, e->day_start, e->next_day_start);
			hist.same_coords_earlier_day = e->same_coords;
			if (e->cu >= 0)
			{
				Cust	   *cu = &g->custs[e->cu];

				hist.at_customer_pin = cu->has_geom && fabs(cu->x - e->lon) <= 1e-7 && fabs(cu->y - e->lat) <= 1e-7;
			}
			hist.skew_jump_s = (g->has_skew && d->has_skew) ? (double) (g->skew_ms - d->skew_ms) / 1000.0 : NAN;
			/* a later fix of the same device in this upload: an offline queue */
			hist.queued = e->at < last;
			hist.rebound_s = rebound_seconds(g, d, e->at);

			if (spoof_score(&fix, prev + first, j - first, has_radio ? &radio : NULL, &hist, &model, &res) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("p_fixes[%d] could not be scored (check its coordinates and the spoof model in force)", tr[j].elem)));
			e->has_score = true;
			e->score = res.score;
			e->band = (char *) spoof_band_name(res.band);
			e->reasons = spoof_reasons_jsonb(&res);
			e->model_version = pstrdup(model.version);
		}
	}
}

/* store the new fixes; the fingerprints, alerts and devices' last contact follow */
static void
store_new(Ingest *g)
{
	enum
	{
		C_DEV, C_WORKER, C_AT, C_LON, C_LAT, C_ACC, C_ALT, C_SPD, C_BRG, C_PROV, C_MOCK, C_SATS,
		C_CN0M, C_CN0SD, C_WIFI, C_CELLS, C_IP, C_INTEGRITY, C_CUST, C_SCORE, C_BAND, C_REASONS,
		C_MODEL, C__N
	};
	static const Oid types[C__N] = {
		INT8OID, INT8OID, TIMESTAMPTZOID, FLOAT8OID, FLOAT8OID, FLOAT4OID, FLOAT4OID, FLOAT4OID,
		FLOAT4OID, TEXTOID, BOOLOID, INT2OID, FLOAT4OID, FLOAT4OID, JSONBOID, JSONBOID, INETOID,
		JSONBOID, INT8OID, INT2OID, TEXTOID, JSONBOID, TEXTOID
	};
	Column		c[C__N];
	Datum		args[C__N + 3];
	char		nulls[C__N + 3];
	uint64		rows;
	int			nnew = 0;
	Column		dev,
				at,
				rdev,
				rfixes;

	for (int j = 0; j < C__N; j++)
		column_init(&c[j], g->n);
	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];

		if (!e->store || e->existing)
			continue;
		nnew++;
		column_add(&c[C_DEV], Int64GetDatum(g->devs[e->dev].id), false);
		column_add(&c[C_WORKER], Int64GetDatum(g->workers[e->worker].id), false);
		column_add(&c[C_AT], TimestampTzGetDatum(e->at), false);
		column_add(&c[C_LON], Float8GetDatum(e->lon), false);
		column_add(&c[C_LAT], Float8GetDatum(e->lat), false);
		column_add(&c[C_ACC], Float4GetDatum(e->acc), !e->has_acc);
		column_add(&c[C_ALT], Float4GetDatum(e->alt), !e->has_alt);
		column_add(&c[C_SPD], Float4GetDatum(e->spd), !e->has_spd);
		column_add(&c[C_BRG], Float4GetDatum(e->brg), !e->has_brg);
		column_add(&c[C_PROV], CStringGetTextDatum(providers[e->prov]), false);
		column_add(&c[C_MOCK], BoolGetDatum(e->mock == 1), e->mock < 0);
		column_add(&c[C_SATS], Int16GetDatum(e->obs.sats), !e->obs.has_sats);
		column_add(&c[C_CN0M], Float4GetDatum(e->obs.cn0[0]), !e->obs.has_cn0[0]);
		column_add(&c[C_CN0SD], Float4GetDatum(e->obs.cn0[1]), !e->obs.has_cn0[1]);
		column_add(&c[C_WIFI], PointerGetDatum(e->obs.wifi), e->obs.wifi == NULL);
		column_add(&c[C_CELLS], PointerGetDatum(e->obs.cells), e->obs.cells == NULL);
		column_add(&c[C_IP], e->obs.client_ip, !e->obs.has_client_ip);
		column_add(&c[C_INTEGRITY], PointerGetDatum(e->obs.integrity), e->obs.integrity == NULL);
		column_add(&c[C_CUST], Int64GetDatum(e->cu >= 0 ? g->custs[e->cu].id : 0), e->cu < 0);
		column_add(&c[C_SCORE], Int16GetDatum((int16) e->score), !e->has_score);
		column_add(&c[C_BAND], e->band ? CStringGetTextDatum(e->band) : (Datum) 0, e->band == NULL);
		column_add(&c[C_REASONS], e->reasons, e->reasons == (Datum) 0);
		column_add(&c[C_MODEL], e->model_version ? CStringGetTextDatum(e->model_version) : (Datum) 0,
				   e->model_version == NULL);
	}
	if (nnew == 0)
		return;
	args[0] = Int64GetDatum(g->tenant);
	for (int j = 0; j < C__N; j++)
		args[j + 1] = column_array(&c[j], types[j]);
	memset(nulls, ' ', sizeof(nulls));
	column_init(&rdev, g->ndev);
	column_init(&rfixes, g->ndev);
	for (int k = 0; k < g->ndev; k++)
		if (g->devs[k].recent_new != NULL)
		{
			column_add(&rdev, Int64GetDatum(g->devs[k].id), false);
			column_add(&rfixes, PointerGetDatum(g->devs[k].recent_new), false);
		}
	args[C__N + 1] = column_array(&rdev, INT8OID);
	args[C__N + 2] = column_array(&rfixes, BYTEAOID);
	rows = run(&q_insert, args, nulls, false, SPI_OK_SELECT);

	/* the new fixes' ids (RETURNING gives them in the order of the rows: checked) */
	if (rows != (uint64) nnew)
		elog(ERROR, "ingest_fixes: stored " UINT64_FORMAT " of %d fixes", rows, nnew);
	{
		uint64		r = 0;

		for (int i = 0; i < g->n; i++)
		{
			Elem	   *e = &g->e[i];
			bool		isnull;

			if (!e->store || e->existing)
				continue;
			if (col_int8(r, 1) != g->devs[e->dev].id || DatumGetTimestampTz(col(r, 2, &isnull)) != e->at)
				elog(ERROR, "ingest_fixes: the stored fixes came back in another order");
			e->has_fix = true;
			e->fix_id = col_int8(r, 3);
			r++;
		}
	}

	/* alerts and events for the red ones */
	column_init(&dev, g->n);
	column_init(&at, g->n);
	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];

		if (e->store && !e->existing && e->band != NULL && strcmp(e->band, "red") == 0)
		{
			column_add(&dev, Int64GetDatum(g->devs[e->dev].id), false);
			column_add(&at, TimestampTzGetDatum(e->at), false);
		}
	}
	if (dev.n > 0)
	{
		args[1] = column_array(&dev, INT8OID);
		args[2] = column_array(&at, TIMESTAMPTZOID);
		run(&q_alerts, args, NULL, false, SPI_OK_SELECT);
	}
}

/*
 * Score and store, in a subtransaction, again when it fails only because
 * the fix_partitions job attached a day's partition meanwhile.  The lookups
 * of this attempt were planned with the old partitions and missed the
 * day's fixes the attach moved out of the default partition; the INSERT
 * then either routed that day's rows to the default partition, whose new
 * constraint rejects them (23514 on fix_default), or to the new partition,
 * where a fix it did not know about is (23505 on that partition's key: the
 * batch holds its devices, so no other batch can have stored it).  Nothing
 * of the attempt is kept; the next one is planned anew and sees the new
 * partition and those fixes.  A fingerprint that outlived its fix (23505
 * on fix_fingerprint) makes the next attempt replace it.
 */
static void
score_and_store(Ingest *g)
{
	volatile int attempt;

	for (attempt = 1;; attempt++)
	{
		MemoryContext cxt = CurrentMemoryContext;
		ResourceOwner owner = CurrentResourceOwner;
		volatile bool retry = false;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			score_new(g);
			store_new(g);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			if (attempt < 3 && edata->table_name != NULL && edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION &&
				strcmp(edata->table_name, "fix_fingerprint") == 0 && !g->orphan_fingerprints)
			{
				/* a fingerprint that outlived its fix: again, replacing it */
				FreeErrorData(edata);
				g->orphan_fingerprints = true;
				retry = true;
			}
			else if (attempt < 3 && edata->table_name != NULL &&
					 ((edata->sqlerrcode == ERRCODE_CHECK_VIOLATION && strcmp(edata->table_name, "fix_default") == 0) ||
					  (edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION && strncmp(edata->table_name, "fix_", 4) == 0 &&
					   strcmp(edata->table_name, "fix_fingerprint") != 0 && strcmp(edata->table_name, "fix_alert") != 0)))
			{
				FreeErrorData(edata);
				retry = true;
			}
			else
				ReThrowError(edata);
		}
		PG_END_TRY();
		if (!retry)
			return;
		/* forget what the failed attempt found */
		for (int i = 0; i < g->n; i++)
		{
			Elem	   *e = &g->e[i];

			e->existing = e->has_fix = e->has_score = false;
			e->fix_id = 0;
			e->band = e->model_version = NULL;
			e->reasons = (Datum) 0;
			e->sdig = e->pdig = NULL;
			e->scan_replay = e->same_coords = e->mcc_foreign = false;
		}
	}
}

/*
 * The devices' last contact and clock offset after the batch (q_seen), by
 * the batch's own transaction: see q_seen for why not in the
 * subtransaction that stored the fixes.
 */
static void
mark_seen(Ingest *g)
{
	TimestampTz *last = palloc0(sizeof(TimestampTz) * Max(g->ndev, 1));
	bool	   *has = palloc0(sizeof(bool) * Max(g->ndev, 1));
	Column		dev,
				at;
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	for (int i = 0; i < g->n; i++)
	{
		Elem	   *e = &g->e[i];

		if (e->has_fix && !e->existing && (!has[e->dev] || e->at > last[e->dev]))
		{
			has[e->dev] = true;
			last[e->dev] = e->at;
		}
	}
	column_init(&dev, g->ndev);
	column_init(&at, g->ndev);
	for (int k = 0; k < g->ndev; k++)
		if (has[k])
		{
			column_add(&dev, Int64GetDatum(g->devs[k].id), false);
			column_add(&at, TimestampTzGetDatum(last[k]), false);
		}
	if (dev.n == 0)
		return;
	args[0] = Int64GetDatum(g->tenant);
	args[1] = column_array(&dev, INT8OID);
	args[2] = column_array(&at, TIMESTAMPTZOID);
	args[3] = Int64GetDatum(g->skew_ms);
	nulls[3] = g->has_skew ? ' ' : 'n';
	run(&q_seen, args, nulls, false, SPI_OK_UPDATE);
}

/*
 * fieldops.ingest_fixes(p_tenant_id bigint, p_fixes jsonb, p_options jsonb)
 * RETURNS TABLE (idx, fix_id, status, reason, score, band, reasons).
 */
Datum
fieldops_ingest_fixes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Ingest		g;
	Jsonb	   *fixes;
	int			nbad = 0;
	int			firstbad = -1;

	memset(&g, 0, sizeof(g));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("p_tenant_id must not be null")));
	g.tenant = PG_GETARG_INT64(0);
	DirectFunctionCall1(fieldops_require_tenant, Int64GetDatum(g.tenant));
	g.now = GetCurrentTransactionStartTimestamp();
	g.future_after = g.now + 10 * USECS_PER_MINUTE;

	parse_options(&g, PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2));

	/* the batch */
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("p_fixes must not be null")));
	fixes = PG_GETARG_JSONB_P(1);
	if (!JB_ROOT_IS_ARRAY(fixes) || JB_ROOT_IS_SCALAR(fixes))
	{
		JsonbValue	root;
		const char *t = "object";

		if (JB_ROOT_IS_SCALAR(fixes))
		{
			JsonbExtractScalar(&fixes->root, &root);
			t = json_type(&root);
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_fixes must be a JSON array of fix objects, got %s", t)));
	}
	g.n = JB_ROOT_COUNT(fixes);
	if (g.n > MAX_ELEMENTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_fixes must have at most %d elements, got %d", MAX_ELEMENTS, g.n),
				 errhint("Send larger backlogs in several calls.")));

	InitMaterializedSRF(fcinfo, 0);
	if (g.n == 0)
		PG_RETURN_NULL();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "ingest_fixes: SPI_connect failed");

	/* the tenant's settings and the spoof model in force */
	{
		Datum		args[1] = {Int64GetDatum(g.tenant)};
		bool		isnull;
		Datum		v;

		if (run(&q_settings, args, NULL, false, SPI_OK_SELECT) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("tenant " INT64_FORMAT " does not exist or is not visible to this session", g.tenant),
					 errhint("Call fieldops.set_tenant() first.")));
		g.tz = PointerGetDatum(DatumGetTextPCopy(col(0, 1, &isnull)));
		g.tzname = TextDatumGetCString(g.tz);
		v = col(0, 2, &isnull);
		g.schedule = isnull ? NULL : DatumGetJsonbPCopy(v);
		if (g.schedule != NULL && JB_ROOT_IS_SCALAR(g.schedule))
		{
			JsonbValue	s;

			JsonbExtractScalar(&g.schedule->root, &s);
			if (s.type == jbvNull)
				g.schedule = NULL;
		}
		v = col(0, 3, &isnull);
		g.retention = isnull ? 0 : DatumGetInt32(v);
		v = col(0, 4, &isnull);
		g.store_off = g.store_off_forced || (!isnull && DatumGetBool(v));
		/*
		 * The model in force, parsed once per backend and version: a
		 * version is never edited (the row's xmin tells a row made again
		 * under the same name).
		 */
		v = col(0, 5, &isnull);
		if (isnull)
			spoof_model_from_jsonb(NULL, &g.model);
		else
		{
			static bool cached = false;
			static char cached_version[SPOOF_VERSION_LEN];
			static TransactionId cached_xmin;
			static SpoofModel cached_model;
			bool		vnull;
			char	   *version = TextDatumGetCString(col(0, 6, &vnull));
			TransactionId xmin = DatumGetTransactionId(col(0, 7, &vnull));

			if (!cached || xmin != cached_xmin || strncmp(version, cached_version, SPOOF_VERSION_LEN) != 0)
			{
				cached = false;
				spoof_model_from_jsonb(DatumGetJsonbP(v), &cached_model);
				strlcpy(cached_version, version, SPOOF_VERSION_LEN);
				cached_xmin = xmin;
				cached = true;
			}
			g.model = cached_model;
		}
		{
			/* (now() - make_interval(days => retention): calendar days in the session's zone) */
			Interval	days = {.time = 0,.day = g.retention,.month = 0};

			g.expired_before = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																	   TimestampTzGetDatum(g.now),
																	   PointerGetDatum(&days)));
		}
	}

	/* parse and check every element */
	g.e = palloc0(sizeof(Elem) * g.n);
	{
		JsonbIterator *it = JsonbIteratorInit(&fixes->root);
		JsonbValue	v;
		JsonbIteratorToken tok;
		int			i = 0;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
			if (tok == WJB_ELEM)
			{
				g.e[i].err = parse_element(&g, &v, i, &g.e[i]);
				i++;
			}
	}
	load_devices(&g);
	classify(&g);

	/*
	 * Bad elements: by default the call fails on the first one (nothing is
	 * stored); with {"on_error": "skip"} they are reported as rejected.
	 */
	for (int i = 0; i < g.n; i++)
		if (g.e[i].err != NULL)
		{
			if (firstbad < 0)
				firstbad = i;
			nbad++;
		}
	if (nbad > 0 && !g.skip)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", g.e[firstbad].err),
				 errdetail("%d of the %d elements of p_fixes are invalid; nothing was stored.", nbad, g.n),
				 errhint("Correct the element, or pass p_options => '{\"on_error\": \"skip\"}' to store the valid fixes and get the others back as rejected.")));

	score_and_store(&g);
	mark_seen(&g);

	/* one row per element */
	for (int i = 0; i < g.n; i++)
	{
		Elem	   *e = &g.e[i];
		Elem	   *f = e->status == ST_DUPLICATE ? &g.e[e->first] : e;
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		values[0] = Int32GetDatum(i);
		values[1] = Int64GetDatum(f->fix_id);
		nulls[1] = !f->has_fix;
		if (e->existing)
		{
			values[2] = CStringGetTextDatum("duplicate");
			values[3] = CStringGetTextDatum("already stored");
		}
		else
		{
			values[2] = CStringGetTextDatum(status_names[e->status]);
			values[3] = e->why ? CStringGetTextDatum(e->why) : (Datum) 0;
			nulls[3] = e->why == NULL;
		}
		nulls[4] = nulls[5] = nulls[6] = true;
		if (f->has_fix)
		{
			values[4] = Int32GetDatum(f->score);
			nulls[4] = !f->has_score;
			values[5] = f->band ? CStringGetTextDatum(f->band) : (Datum) 0;
			nulls[5] = f->band == NULL;
			values[6] = f->reasons;
			nulls[6] = f->reasons == (Datum) 0;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	SPI_finish();
	PG_RETURN_NULL();
}
