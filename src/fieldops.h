/*-------------------------------------------------------------------------
 *
 * fieldops.h
 *		Declarations shared by the fmgr layer of the fieldops extension.
 *
 * Each subsystem (tenant context, job launcher, work schedules) has its own
 * file; _PG_init in fieldops.c only dispatches to their init functions,
 * which are declared here.  Pure C cores have their own headers and do not
 * include this file, so they can be unit-tested without a server.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/fieldops.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FIELDOPS_H
#define FIELDOPS_H

#include "postgres.h"

#include "utils/jsonb.h"

/* PostgreSQL 15 does not export these itself */
extern PGDLLEXPORT void _PG_init(void);
extern PGDLLEXPORT void fieldops_launcher_main(Datum main_arg);

/* GUC prefix reserved by the extension */
#define FIELDOPS_GUC_PREFIX "fieldops"

/* fieldops.c: true when loaded through shared_preload_libraries */
extern bool fieldops_preloaded;

/* microseconds from the Unix epoch to PostgreSQL's (2000-01-01) */
#define FIELDOPS_UNIX_TO_PG_US	(INT64CONST(946684800) * 1000000)

/* fieldops.c: a palloc'd bytea holding a copy of len bytes */
extern bytea *fieldops_bytea(const void *data, size_t len);

/* fieldops.c: call fn(name, value, arg) for every key of a jsonb object */
/* worktime.c: parse and validate a work schedule (errors are 22023) */
struct WtSchedule;
extern void work_schedule_parse(Jsonb *jb, struct WtSchedule *s);

extern void fieldops_jsonb_each_key(JsonbContainer *jc,
									void (*fn) (const char *name, JsonbValue *v, void *arg),
									void *arg);

/* tenant_context.c */
extern void tenant_context_init(void);

/* photo_sig.c, photo_receipt.c */
extern void photo_sig_init(void);
extern int	fieldops_algorithm_arg(text *t, const char *argname);
extern void photo_receipt_init_preload(void);

/* jobs_launcher.c */
extern void jobs_launcher_init_gucs(void);
extern void jobs_launcher_init_preload(void);

#endif							/* FIELDOPS_H */
