/*-------------------------------------------------------------------------
 *
 * mileage_core.h
 *		Pure C mileage from raw location fixes: types shared by the core,
 *		its fmgr wrappers, the unit tests and the benchmark generator.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/mileage_core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MILEAGE_CORE_H
#define MILEAGE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* where a fix comes from, as the phone reports it */
typedef enum MileageSource
{
	MS_GPS = 0,					/* GNSS receiver */
	MS_FUSED,					/* platform fusion (Android fused provider) */
	MS_NETWORK,					/* network location (Wi-Fi and/or cell) */
	MS_WIFI,
	MS_CELL,
	MS_PASSIVE,					/* another app's fix; quality unknown */
	MS_UNKNOWN
} MileageSource;

/* one fix as the core sees it */
typedef struct MileageFix
{
	int64_t		t_us;			/* microseconds since 2000-01-01 00:00 UTC */
	double		lat;			/* degrees, WGS-84 */
	double		lon;			/* degrees, WGS-84 */
	float		acc_m;			/* 68 % horizontal radius in metres; NaN = unknown */
	float		speed_mps;		/* reported ground speed; NaN = unknown */
	uint8_t		source;			/* MileageSource */
} MileageFix;

#endif							/* MILEAGE_CORE_H */
