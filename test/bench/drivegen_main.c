/*-------------------------------------------------------------------------
 *
 * drivegen_main.c
 *		Command-line front end of the synthetic drive generator: writes the
 *		fixes as CSV for COPY into PostgreSQL, and the truth on stderr.
 *
 * The mileage benchmark loads generated drives into the database and
 * compares the distance the extension computes with the true distance,
 * so the output is exactly the MileageFix columns in a COPY-friendly CSV
 * (NaN as an empty field, i.e. NULL) and the truth is a separate, easily
 * parsed line.  Optional files give the per-row labels and the 10 Hz true
 * track for diagnosing where an algorithm goes wrong.
 *
 *	 drivegen --scenario mixed --env urban --tau 60 --sample 1 --lat 45
 *			  --lon 7 --duration 3600 --faults all --seed 42 > fixes.csv
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/bench/drivegen_main.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivegen.h"

/* the usage text, printed by --help and after a bad argument */
static void
usage(FILE *f)
{
	fputs("usage: drivegen [options] > fixes.csv\n"
		  "  --scenario NAME       city|highway|creep|parking|parked|mixed (mixed)\n"
		  "  --env NAME            open|suburban|urban (suburban)\n"
		  "  --tau S               GNSS error correlation time, s (60)\n"
		  "  --sample S            fix interval, s; 0 needs --distance-filter (1)\n"
		  "  --distance-filter M   report a fix only after M m of true motion (0)\n"
		  "  --lat DEG --lon DEG   origin (45, 7)\n"
		  "  --heading DEG         initial direction of travel (from the seed)\n"
		  "  --duration S          (3600)\n"
		  "  --faults LIST         all|none|multipath,outliers,stale,zero-first,\n"
		  "                        duplicates,shuffle,wifi-cell (none)\n"
		  "  --seed N              (1)\n"
		  "  --source-names        source column as gps|fused|wifi|cell, not numbers\n"
		  "  --labels FILE         per-row truth: row,t_us,true_lat,true_lon,\n"
		  "                        true_odo_m,true_speed_mps,cover,kinds\n"
		  "  --track FILE          10 Hz true path: t_us,lat,lon,dist_m,speed_mps,\n"
		  "                        cover,gnss\n"
		  "  --timing              add the generation CPU time to the summary\n"
		  "CSV on stdout: t_us,lat,lon,acc_m,speed_mps,source (t_us: microseconds\n"
		  "since 2000-01-01 UTC; empty = unknown).  Summary on stderr:\n"
		  "# true_m=..., parked_s=..., moving_s=..., ...\n", f);
}

/* a number argument, or exit with a message */
static double
num_arg(const char *opt, const char *s)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v))
	{
		fprintf(stderr, "drivegen: %s: not a number: %s\n", opt, s);
		exit(2);
	}
	return v;
}

/* write the per-row labels file (same row order as stdout) */
static int
write_labels(const char *path, const Drive *d)
{
	FILE	   *f = fopen(path, "w");
	size_t		i;

	if (!f)
		return -1;
	fputs("row,t_us,true_lat,true_lon,true_odo_m,true_speed_mps,cover,kinds\n", f);
	for (i = 0; i < d->n; i++)
		fprintf(f, "%zu,%lld,%.17g,%.17g,%.6f,%.9g,%d,%u\n", i + 1,
				(long long) d->fixes[i].t_us, d->truth[i].lat, d->truth[i].lon,
				d->truth[i].odo_m, (double) d->truth[i].speed_mps, (int) d->truth[i].cover,
				(unsigned) d->truth[i].kinds);
	return fclose(f) == 0 ? 0 : -1;
}

/* write the 10 Hz true track file */
static int
write_track(const char *path, const Drive *d)
{
	FILE	   *f = fopen(path, "w");
	size_t		i;

	if (!f)
		return -1;
	fputs("t_us,lat,lon,dist_m,speed_mps,cover,gnss\n", f);
	for (i = 0; i < d->n_track; i++)
	{
		const DriveTrackPoint *p = &d->track[i];

		fprintf(f, "%lld,%.17g,%.17g,%.6f,%.9g,%d,%d\n", (long long) p->t_us,
				p->lat, p->lon, p->dist_m, (double) p->speed_mps, (int) p->cover,
				(int) p->gnss);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* parse options, generate, print; exit 0, 1 (generation/IO) or 2 (usage) */
int
main(int argc, char **argv)
{
	DriveSpec	spec;
	Drive		d;
	const char *labels = NULL,
			   *track = NULL;
	int			source_names = 0,
				timing = 0,
				i,
				rc;
	clock_t		c0,
				c1;

	drive_spec_init(&spec);
	for (i = 1; i < argc; i++)
	{
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
		{
			usage(stdout);
			return 0;
		}
		if (strcmp(opt, "--source-names") == 0)
		{
			source_names = 1;
			continue;
		}
		if (strcmp(opt, "--timing") == 0)
		{
			timing = 1;
			continue;
		}
		if (!val)
		{
			fprintf(stderr, "drivegen: %s needs a value\n", opt);
			usage(stderr);
			return 2;
		}
		i++;
		if (strcmp(opt, "--scenario") == 0)
		{
			if ((spec.scenario = drive_scenario_parse(val)) < 0)
			{
				fprintf(stderr, "drivegen: unknown scenario %s\n", val);
				return 2;
			}
		}
		else if (strcmp(opt, "--env") == 0)
		{
			if ((spec.environment = drive_environment_parse(val)) < 0)
			{
				fprintf(stderr, "drivegen: unknown environment %s\n", val);
				return 2;
			}
		}
		else if (strcmp(opt, "--faults") == 0)
		{
			if (drive_faults_parse(val, &spec.faults) != 0)
			{
				fprintf(stderr, "drivegen: bad fault list %s\n", val);
				return 2;
			}
		}
		else if (strcmp(opt, "--seed") == 0)
		{
			char	   *end;

			errno = 0;
			spec.seed = strtoull(val, &end, 0);
			if (errno || end == val || *end != '\0' || *val == '-')
			{
				fprintf(stderr, "drivegen: bad seed %s\n", val);
				return 2;
			}
		}
		else if (strcmp(opt, "--tau") == 0)
			spec.tau_s = num_arg(opt, val);
		else if (strcmp(opt, "--sample") == 0)
			spec.sample_s = num_arg(opt, val);
		else if (strcmp(opt, "--distance-filter") == 0)
			spec.distance_filter_m = num_arg(opt, val);
		else if (strcmp(opt, "--lat") == 0)
			spec.origin_lat = num_arg(opt, val);
		else if (strcmp(opt, "--lon") == 0)
			spec.origin_lon = num_arg(opt, val);
		else if (strcmp(opt, "--heading") == 0)
			spec.heading_deg = num_arg(opt, val);
		else if (strcmp(opt, "--duration") == 0)
			spec.duration_s = num_arg(opt, val);
		else if (strcmp(opt, "--labels") == 0)
			labels = val;
		else if (strcmp(opt, "--track") == 0)
			track = val;
		else
		{
			fprintf(stderr, "drivegen: unknown option %s\n", opt);
			usage(stderr);
			return 2;
		}
	}
	spec.keep_track = track != NULL;

	c0 = clock();
	rc = drive_generate(&spec, &d);
	c1 = clock();
	if (rc != DG_OK)
	{
		fprintf(stderr, "drivegen: %s\n", drive_strerror(rc));
		return rc == DG_EINVAL ? 2 : 1;
	}
	if (drive_write_csv(stdout, &d, source_names) != 0 || fflush(stdout) != 0)
	{
		fprintf(stderr, "drivegen: write error\n");
		drive_free(&d);
		return 1;
	}
	if ((labels && write_labels(labels, &d) != 0) ||
		(track && write_track(track, &d) != 0))
	{
		fprintf(stderr, "drivegen: cannot write %s\n", labels ? labels : track);
		drive_free(&d);
		return 1;
	}
	fprintf(stderr, "# true_m=%.3f, parked_s=%.1f, moving_s=%.1f, fixes=%zu, "
			"tunnels=%d, tunnel_m=%.1f, t0_us=%lld, scenario=%s, env=%s, "
			"seed=%llu, digest=%016llx",
			d.true_m, d.parked_s, d.moving_s, d.n, d.n_tunnels, d.tunnel_m,
			(long long) d.t0_us, drive_scenario_name(spec.scenario),
			drive_environment_name(spec.environment),
			(unsigned long long) spec.seed, (unsigned long long) drive_digest(&d));
	if (timing)
		fprintf(stderr, ", gen_ms=%.1f", 1000.0 * (double) (c1 - c0) / CLOCKS_PER_SEC);
	fputc('\n', stderr);
	drive_free(&d);
	return 0;
}
