/*-------------------------------------------------------------------------
 *
 * spoof.h
 *		What the SQL wrappers of the spoof scorer (spoof.c) share with the
 *		C ingest (fix_ingest.c).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/spoof.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SPOOF_H
#define SPOOF_H

#include "postgres.h"
#include "utils/jsonb.h"

#include "spoof_core.h"

/* the model in force from its jsonb (NULL: the built-in model); 22023 if unusable */
extern void spoof_model_from_jsonb(Jsonb *jb, SpoofModel *m);
/* everything "not reported" / "unknown" */
extern void spoof_context_init(SpoofFix *fix, SpoofRadio *radio, SpoofHistory *hist);
extern Datum spoof_reasons_jsonb(const SpoofResult *res);

#endif							/* SPOOF_H */
