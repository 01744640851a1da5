/*-------------------------------------------------------------------------
 *
 * fix_replay.h
 *		The replay lookups of ingest_fixes() (src/fix_replay.c).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/fix_replay.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FIX_REPLAY_H
#define FIX_REPLAY_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* the same scan of one device is a replay when taken this far apart */
#define REPLAY_SCAN_APART_S 600

/* one new fix's lookups: in scan and point, out scan_replay and same_coords */
typedef struct ReplayProbe
{
	bool		has_scan;		/* scan is its scan's digest */
	pg_uuid_t	scan;
	TimestampTz scanned_at;		/* when that scan was taken */
	int64		device_id;
	bool		look_point;		/* point is its position's digest, to look up */
	pg_uuid_t	point;
	TimestampTz day_start;		/* the start of its local day */
	bool		scan_replay;
	bool		same_coords;
} ReplayProbe;

extern void fix_replay_probe(int64 tenant, ReplayProbe *probes, int n);

#endif							/* FIX_REPLAY_H */
