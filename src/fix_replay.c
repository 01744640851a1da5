/*-------------------------------------------------------------------------
 *
 * fix_replay.c
 *		The replay lookups of ingest_fixes(): has this exact Wi-Fi scan, or
 *		this exact position, been seen before?
 *
 * fieldops.fix_fingerprint keeps, per stored fix, the MD5 of its exact
 * scan (and when that scan was taken) and of its exact position, each
 * under a hash index.  A new fix is a replay when its scan was seen by
 * another device of the tenant, or by the same device in a scan taken
 * more than REPLAY_SCAN_APART_S apart; or when its position is the one
 * of a fix recorded before the start of its local day.
 *
 * The lookups probe the hash indexes directly instead of through SQL.  As
 * a subquery per fix, the generic plan was at the planner's mercy: planned
 * while the table had no statistics (a new installation, a restored
 * database), it served the row-level-security qual "tenant_id =
 * current_tenant_id()" from the primary key and filtered every row of the
 * tenant by digest -- a scan of the whole table per fix, a hundred times a
 * batch.  A probe here costs the hash bucket and the few heap tuples in it,
 * whatever the statistics say, and no executor start per fix.
 *
 * The probes use a snapshot taken now, as the SQL statement in their place
 * did: rows of other batches committed before it are seen, the batch's own
 * fingerprints (stored after the probes) are not.  Each row's tenant is
 * checked: a digest is a hash of content, which two tenants may share.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/fix_replay.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "fix_replay.h"

typedef struct ReplayTable
{
	Relation	heap;
	TupleTableSlot *slot;
	AttrNumber	tenant,
				device,
				recorded,
				scan,
				scanned,
				point;
} ReplayTable;

/* a column of fieldops.fix_fingerprint by name (attribute numbers are not assumed) */
static AttrNumber
replay_attnum(Oid relid, const char *name)
{
	AttrNumber	a = get_attnum(relid, name);

	if (a == InvalidAttrNumber)
		elog(ERROR, "fieldops.fix_fingerprint has no column %s", name);
	return a;
}

/* an index of fieldops.fix_fingerprint by name */
static Oid
replay_index(Oid nsp, const char *name)
{
	Oid			idx = get_relname_relid(name, nsp);

	if (!OidIsValid(idx))
		elog(ERROR, "index fieldops.%s does not exist", name);
	return idx;
}

/*
 * Does any row under index idx with this digest satisfy the probe?  kind
 * 's': the scan of another device, or of a scan taken more than
 * REPLAY_SCAN_APART_S from p->scanned_at; 'p': a fix recorded before
 * p->day_start.
 */
static bool
replay_seen(ReplayTable *t, IndexScanDesc scan, int64 tenant, const pg_uuid_t *digest,
			const ReplayProbe *p, char kind)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, HTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(digest));
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, t->slot))
	{
		bool		isnull;
		Datum		v;

		/* (a hash index returns the rows of the hash code: compare the digest) */
		v = slot_getattr(t->slot, kind == 's' ? t->scan : t->point, &isnull);
		if (isnull || memcmp(DatumGetUUIDP(v)->data, digest->data, UUID_LEN) != 0)
			continue;
		v = slot_getattr(t->slot, t->tenant, &isnull);
		if (isnull || DatumGetInt64(v) != tenant)
			continue;
		if (kind == 's')
		{
			TimestampTz at;

			v = slot_getattr(t->slot, t->device, &isnull);
			if (!isnull && DatumGetInt64(v) != p->device_id)
				return true;
			v = slot_getattr(t->slot, t->scanned, &isnull);
			if (isnull)
				continue;
			at = DatumGetTimestampTz(v);
			if (at < p->scanned_at - REPLAY_SCAN_APART_S * USECS_PER_SEC ||
				at > p->scanned_at + REPLAY_SCAN_APART_S * USECS_PER_SEC)
				return true;
		}
		else
		{
			v = slot_getattr(t->slot, t->recorded, &isnull);
			if (!isnull && DatumGetTimestampTz(v) < p->day_start)
				return true;
		}
	}
	return false;
}

/*
 * Set scan_replay and same_coords of each of the n probes of a batch of
 * tenant: see the file's header.
 */
void
fix_replay_probe(int64 tenant, ReplayProbe *probes, int n)
{
	Oid			nsp = get_namespace_oid("fieldops", false);
	Oid			relid = get_relname_relid("fix_fingerprint", nsp);
	Relation	sidx,
				pidx;
	IndexScanDesc sscan,
				pscan;
	Snapshot	snap;
	ReplayTable t;

	if (n <= 0)
		return;
	if (!OidIsValid(relid))
		elog(ERROR, "table fieldops.fix_fingerprint does not exist");
	t.heap = table_open(relid, AccessShareLock);
	t.tenant = replay_attnum(relid, "tenant_id");
	t.device = replay_attnum(relid, "device_id");
	t.recorded = replay_attnum(relid, "recorded_at");
	t.scan = replay_attnum(relid, "scan_digest");
	t.scanned = replay_attnum(relid, "scanned_at");
	t.point = replay_attnum(relid, "point_digest");
	t.slot = table_slot_create(t.heap, NULL);
	sidx = index_open(replay_index(nsp, "fix_fingerprint_scan_hash"), AccessShareLock);
	pidx = index_open(replay_index(nsp, "fix_fingerprint_point_hash"), AccessShareLock);
	/* (as SPI does before a statement: what this transaction wrote so far is seen) */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetTransactionSnapshot());
	sscan = index_beginscan(t.heap, sidx, snap, 1, 0);
	pscan = index_beginscan(t.heap, pidx, snap, 1, 0);

	for (int i = 0; i < n; i++)
	{
		ReplayProbe *p = &probes[i];

		CHECK_FOR_INTERRUPTS();
		p->scan_replay = p->has_scan && replay_seen(&t, sscan, tenant, &p->scan, p, 's');
		p->same_coords = p->look_point && replay_seen(&t, pscan, tenant, &p->point, p, 'p');
	}

	index_endscan(sscan);
	index_endscan(pscan);
	UnregisterSnapshot(snap);
	index_close(sidx, AccessShareLock);
	index_close(pidx, AccessShareLock);
	ExecDropSingleTupleTableSlot(t.slot);
	table_close(t.heap, AccessShareLock);
}
