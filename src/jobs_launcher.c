/*-------------------------------------------------------------------------
 *
 * jobs_launcher.c
 *		The fieldops launcher: a background worker that calls
 *		fieldops.run_due_jobs() every fieldops.naptime, plus the SQL functions
 *		fieldops.wake() and fieldops.launcher_status().
 *
 * The launcher is deliberately thin: jobs are SQL functions and the
 * procedure fieldops.run_due_jobs() decides what is due, guards against two
 * runners and records every run, so pg_cron or any cron can drive the same
 * jobs with fieldops.scheduler = external.  The launcher only connects to
 * the database named by fieldops.database, checks that the extension is
 * installed, and CALLs the procedure in a non-atomic SPI connection so the
 * procedure can commit per job.  It starts only after recovery has finished
 * (BgWorkerStart_RecoveryFinished), so it never runs on a standby and starts
 * by itself after promotion.  A small shared-memory area lets any backend
 * wake it and lets DBAs see what it is doing.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/jobs_launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(fieldops_wake);
PG_FUNCTION_INFO_V1(fieldops_launcher_status);

/* values of fieldops.scheduler */
typedef enum SchedulerMode
{
	SCHEDULER_INTERNAL,
	SCHEDULER_EXTERNAL,
	SCHEDULER_OFF
}			SchedulerMode;

static const struct config_enum_entry scheduler_options[] = {
	{"internal", SCHEDULER_INTERNAL, false},
	{"external", SCHEDULER_EXTERNAL, false},
	{"off", SCHEDULER_OFF, false},
	{NULL, 0, false}
};

static const char *const scheduler_names[] = {"internal", "external", "off"};

/* GUC variables */
static char *launcher_database = NULL;
static int	scheduler_mode = SCHEDULER_INTERNAL;
static int	launcher_naptime = 30;	/* seconds */

/* what the launcher tells other backends through shared memory */
typedef struct LauncherShared
{
	slock_t		mutex;
	pid_t		pid;			/* 0 while no launcher runs */
	int			naptime;		/* seconds, as the launcher applies it */
	int			mode;			/* SchedulerMode the launcher applies */
	char		state[64];		/* what it is doing right now */
	TimestampTz started_at;
	TimestampTz last_loop_at;
	TimestampTz last_wake_at;
	int64		loops;			/* iterations of the main loop */
	int64		calls;			/* CALLs of run_due_jobs that committed */
	int64		errors;			/* CALLs that raised an error */
	int64		wakes;			/* fieldops.wake() requests */
	bool		wake_pending;	/* a committed wake() not yet acted upon */
} LauncherShared;

static LauncherShared *launcher_shared = NULL;

/* this backend called fieldops.wake() in the current transaction */
static bool wake_requested = false;

static void launcher_wake_at_commit(XactEvent event, void *arg);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * Define the launcher's reloadable GUCs in every backend, so SHOW works and
 * run_due_jobs() can read fieldops.scheduler whether or not the library was
 * preloaded.  fieldops.database is a postmaster setting, which the server
 * only accepts while preloading: it is defined in jobs_launcher_init_preload.
 */
void
jobs_launcher_init_gucs(void)
{
	DefineCustomEnumVariable("fieldops.scheduler",
							 "Who runs fieldops jobs: internal (the launcher), external (pg_cron or cron), or off.",
							 "With off, fieldops.run_due_jobs() returns without running anything.",
							 &scheduler_mode,
							 SCHEDULER_INTERNAL,
							 scheduler_options,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("fieldops.naptime",
							"Time the fieldops launcher sleeps between calls of run_due_jobs().",
							NULL,
							&launcher_naptime,
							30, 1, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* shmem_request_hook: reserve the launcher's shared state */
static void
launcher_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(LauncherShared)));
}

/* shmem_startup_hook: create or attach to the launcher's shared state */
static void
launcher_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	launcher_shared = ShmemInitStruct("fieldops launcher", sizeof(LauncherShared), &found);
	if (!found)
	{
		memset(launcher_shared, 0, sizeof(LauncherShared));
		SpinLockInit(&launcher_shared->mutex);
		strlcpy(launcher_shared->state, "not started", sizeof(launcher_shared->state));
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Called from _PG_init while shared_preload_libraries is processed: install
 * the shared-memory hooks and register the one static launcher.  The
 * launcher is registered even when fieldops.scheduler is not internal,
 * because that setting can change on reload and the launcher then simply
 * idles.
 */
void
jobs_launcher_init_preload(void)
{
	BackgroundWorker worker;

	DefineCustomStringVariable("fieldops.database",
							   "Database in which the fieldops launcher runs jobs.",
							   "The launcher connects to this one database at server start.",
							   &launcher_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	/* inherited by every backend: fieldops.wake() takes effect at commit */
	RegisterXactCallback(launcher_wake_at_commit, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = launcher_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = launcher_shmem_startup;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "fieldops", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "fieldops_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "fieldops launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "fieldops launcher", BGW_MAXLEN);
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

/* Record what the launcher is doing, for fieldops.launcher_status() */
static void
launcher_set_state(const char *state)
{
	SpinLockAcquire(&launcher_shared->mutex);
	strlcpy(launcher_shared->state, state, sizeof(launcher_shared->state));
	launcher_shared->naptime = launcher_naptime;
	launcher_shared->mode = scheduler_mode;
	SpinLockRelease(&launcher_shared->mutex);
}

/* before_shmem_exit callback: a launcher that is gone cannot be woken */
static void
launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&launcher_shared->mutex);
	launcher_shared->pid = 0;
	strlcpy(launcher_shared->state, "stopped", sizeof(launcher_shared->state));
	SpinLockRelease(&launcher_shared->mutex);
}

/*
 * Is the extension installed in this database?  If so, take a session-level
 * share lock on the extension object and return its OID.  Checked in its own
 * short transaction each loop, so CREATE EXTENSION or DROP EXTENSION by
 * anyone is noticed at the next wake-up, and a database without the
 * extension is left alone (nothing is read or written there).  The lock
 * makes a concurrent DROP EXTENSION wait until the jobs are done instead of
 * deadlocking with them table by table; it is taken before the second look
 * so that a DROP that committed while we waited is seen.
 */
static Oid
launcher_lock_extension(void)
{
	Oid			extoid;
	LOCKTAG		tag;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	extoid = get_extension_oid("fieldops", true);
	if (OidIsValid(extoid))
	{
		SET_LOCKTAG_OBJECT(tag, MyDatabaseId, ExtensionRelationId, extoid, 0);
		(void) LockAcquire(&tag, AccessShareLock, true, false);
		AcceptInvalidationMessages();
		if (get_extension_oid("fieldops", true) != extoid)
		{
			LockRelease(&tag, AccessShareLock, true);
			extoid = InvalidOid;
		}
	}
	CommitTransactionCommand();
	return extoid;
}

/* Release the lock taken by launcher_lock_extension() */
static void
launcher_unlock_extension(Oid extoid)
{
	LOCKTAG		tag;

	SET_LOCKTAG_OBJECT(tag, MyDatabaseId, ExtensionRelationId, extoid, 0);
	LockRelease(&tag, AccessShareLock, true);
}

/*
 * Execute one utility statement the way a client's simple query would: in
 * a portal, at top level.  CALL of a procedure that COMMITs needs that: the
 * procedure's transactions are only allowed in a non-atomic top-level
 * context, and after each COMMIT PL/pgSQL re-establishes its snapshot
 * through the active portal.  SPI alone cannot provide either.  Parse and
 * plan trees live in 'cxt', which outlives the procedure's transactions.
 */
static void
launcher_exec_toplevel(const char *sql, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *parsetrees = pg_parse_query(sql);
	RawStmt    *raw;
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *receiver;
	QueryCompletion qc;

	if (list_length(parsetrees) != 1)
		elog(ERROR, "launcher statement must be a single statement");
	raw = linitial_node(RawStmt, parsetrees);
	querytrees = pg_analyze_and_rewrite_fixedparams(raw, sql, NULL, 0, NULL);
	plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	MemoryContextSwitchTo(old);

	portal = CreatePortal("fieldops launcher", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, CMDTAG_CALL, plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	receiver = CreateDestReceiver(DestNone);
	InitializeQueryCompletion(&qc);
	(void) PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &qc);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);
}

/*
 * One CALL of fieldops.run_due_jobs(), which commits after each job run.
 * An error is reported and swallowed: the launcher must outlive a broken
 * job or a broken procedure and try again after the next nap.
 */
static void
launcher_run_jobs(MemoryContext cxt)
{
	static const char sql[] = "CALL fieldops.run_due_jobs()";

	launcher_set_state("running jobs");
	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		debug_query_string = sql;
		pgstat_report_activity(STATE_RUNNING, sql);
		launcher_exec_toplevel(sql, cxt);
		CommitTransactionCommand();
		debug_query_string = NULL;
		pgstat_report_activity(STATE_IDLE, NULL);
		pgstat_report_stat(true);

		SpinLockAcquire(&launcher_shared->mutex);
		launcher_shared->calls++;
		SpinLockRelease(&launcher_shared->mutex);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		AbortCurrentTransaction();
		FlushErrorState();
		debug_query_string = NULL;

		/*
		 * Session advisory locks survive the abort; a job lock kept here
		 * would stop that job from ever running again.
		 */
		LockReleaseSession(USER_LOCKMETHOD);
		pgstat_report_activity(STATE_IDLE, NULL);

		SpinLockAcquire(&launcher_shared->mutex);
		launcher_shared->errors++;
		SpinLockRelease(&launcher_shared->mutex);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextReset(cxt);
}

/*
 * Entry point of the launcher.  The loop is the canonical one: wait on the
 * latch with WL_EXIT_ON_PM_DEATH, reset it, handle interrupts and reloads,
 * do one unit of work.  SIGTERM uses die(), so the process exits with
 * status 1 and the postmaster restarts it after bgw_restart_time.
 */
void
fieldops_launcher_main(Datum main_arg)
{
	MemoryContext cxt;
	TimestampTz last_run = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(launcher_database, NULL, 0);
	SetConfigOption("application_name", "fieldops launcher", PGC_USERSET, PGC_S_SESSION);

	SpinLockAcquire(&launcher_shared->mutex);
	launcher_shared->pid = MyProcPid;
	launcher_shared->started_at = GetCurrentTimestamp();
	launcher_shared->naptime = launcher_naptime;
	launcher_shared->mode = scheduler_mode;
	SpinLockRelease(&launcher_shared->mutex);
	before_shmem_exit(launcher_detach, (Datum) 0);
	cxt = AllocSetContextCreate(TopMemoryContext, "fieldops launcher",
								ALLOCSET_DEFAULT_SIZES);

	ereport(LOG,
			(errmsg("fieldops launcher started in database \"%s\" (scheduler %s, naptime %d s)",
					launcher_database, scheduler_names[scheduler_mode], launcher_naptime)));

	for (;;)
	{
		bool		woken;
		long		remaining;

		CHECK_FOR_INTERRUPTS();

		/*
		 * The latch is also set by the server itself (for instance to make
		 * us read invalidation messages), so it is not a reason to run:
		 * only a wake() that committed, a reload (the scheduler mode may
		 * have become internal) or the end of the nap is.
		 */
		woken = false;
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			woken = true;
		}

		SpinLockAcquire(&launcher_shared->mutex);
		woken |= launcher_shared->wake_pending;
		launcher_shared->wake_pending = false;
		launcher_shared->naptime = launcher_naptime;
		launcher_shared->mode = scheduler_mode;
		SpinLockRelease(&launcher_shared->mutex);

		remaining = last_run == 0 ? 0 :
			launcher_naptime * 1000L -
			(long) ((GetCurrentTimestamp() - last_run) / 1000);
		if (!woken && remaining > 0)
		{
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 remaining,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			continue;
		}
		last_run = GetCurrentTimestamp();

		SpinLockAcquire(&launcher_shared->mutex);
		launcher_shared->loops++;
		launcher_shared->last_loop_at = last_run;
		SpinLockRelease(&launcher_shared->mutex);

		if (scheduler_mode != SCHEDULER_INTERNAL)
			launcher_set_state(scheduler_mode == SCHEDULER_OFF ?
							   "idle: fieldops.scheduler is off" :
							   "idle: fieldops.scheduler is external");
		else
		{
			Oid			extoid = launcher_lock_extension();

			if (!OidIsValid(extoid))
				launcher_set_state("waiting for CREATE EXTENSION fieldops");
			else
			{
				launcher_run_jobs(cxt);
				launcher_unlock_extension(extoid);
				launcher_set_state("sleeping");
			}
		}
	}
}

/*
 * Transaction callback: a wake() takes effect when the transaction that
 * asked for it commits, so that the launcher sees what that transaction
 * made due (run_job_now sets next_run_at, then wakes).  Waking earlier lets
 * the launcher look, find nothing, and sleep a whole naptime.  An aborted
 * transaction wakes nobody.
 */
static void
launcher_wake_at_commit(XactEvent event, void *arg)
{
	pid_t		pid = 0;

	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		wake_requested = false;
		return;
	}
	if (event != XACT_EVENT_COMMIT || !wake_requested || launcher_shared == NULL)
		return;
	wake_requested = false;

	SpinLockAcquire(&launcher_shared->mutex);
	if (launcher_shared->pid != 0)
	{
		pid = launcher_shared->pid;
		launcher_shared->wake_pending = true;
		launcher_shared->wakes++;
		launcher_shared->last_wake_at = GetCurrentTimestamp();
	}
	SpinLockRelease(&launcher_shared->mutex);

	if (pid != 0)
	{
		PGPROC	   *proc = BackendPidGetProc(pid);

		if (proc != NULL)
			SetLatch(&proc->procLatch);
	}
}

/*
 * fieldops.wake(): make the launcher run due jobs as soon as the calling
 * transaction commits, instead of after its nap (e.g. right after an import
 * that made a job due).  Returns false when no launcher will act on it: the
 * library is not preloaded, no launcher is running, or the launcher applies
 * a scheduler mode other than internal.  Callers can then CALL
 * fieldops.run_due_jobs() themselves.
 */
Datum
fieldops_wake(PG_FUNCTION_ARGS)
{
	bool		running;

	if (launcher_shared == NULL)
		PG_RETURN_BOOL(false);

	SpinLockAcquire(&launcher_shared->mutex);
	running = launcher_shared->pid != 0 && launcher_shared->mode == SCHEDULER_INTERNAL;
	SpinLockRelease(&launcher_shared->mutex);

	if (!running)
		PG_RETURN_BOOL(false);
	wake_requested = true;
	PG_RETURN_BOOL(true);
}

/*
 * fieldops.launcher_status(): one row describing the launcher as it sees
 * itself (the naptime and mode it applies after the last reload), or no row
 * when the library was not preloaded.
 */
Datum
fieldops_launcher_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	Datum		values[11];
	bool		nulls[11];
	LauncherShared snap;

	InitMaterializedSRF(fcinfo, 0);
	if (launcher_shared == NULL)
		return (Datum) 0;

	SpinLockAcquire(&launcher_shared->mutex);
	memcpy(&snap, launcher_shared, sizeof(snap));
	SpinLockRelease(&launcher_shared->mutex);

	tupdesc = rsinfo->setDesc;
	memset(nulls, 0, sizeof(nulls));
	if (snap.pid != 0)
		values[0] = Int32GetDatum(snap.pid);
	else
		nulls[0] = true;
	values[1] = CStringGetTextDatum(launcher_database);
	values[2] = CStringGetTextDatum(scheduler_names[snap.mode]);
	values[3] = Int32GetDatum(snap.naptime);
	values[4] = CStringGetTextDatum(snap.state);
	if (snap.started_at != 0)
		values[5] = TimestampTzGetDatum(snap.started_at);
	else
		nulls[5] = true;
	if (snap.last_loop_at != 0)
		values[6] = TimestampTzGetDatum(snap.last_loop_at);
	else
		nulls[6] = true;
	values[7] = Int64GetDatum(snap.loops);
	values[8] = Int64GetDatum(snap.calls);
	values[9] = Int64GetDatum(snap.errors);
	values[10] = Int64GetDatum(snap.wakes);
	tuplestore_putvalues(rsinfo->setResult, tupdesc, values, nulls);
	return (Datum) 0;
}
