/*-------------------------------------------------------------------------
 *
 * tenant_id.h
 *		Pure C parsing of tenant ids (no server headers).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/tenant_id.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_ID_H
#define TENANT_ID_H

#include <stdbool.h>
#include <stdint.h>

extern bool tenant_id_parse(const char *s, int64_t *out);

#endif							/* TENANT_ID_H */
