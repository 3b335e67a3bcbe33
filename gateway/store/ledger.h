/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The camera ledger CSV (docs/configuration.md#camera-ledger): parse and validate every row, then
 * import all or nothing. */
#ifndef ALARMGW_LEDGER_H
#define ALARMGW_LEDGER_H

#include "config.h"
#include "store.h"

#define AGW_LEDGER_MAX_BYTES (64 * 1024 * 1024)
#define AGW_LEDGER_MAX_ROWS 200000
#define AGW_LEDGER_MAX_ERRORS 50

/* Parses and validates the whole file. Returns the number of cameras and fills *ret_cameras
 * (free with agw_cameras_free); on any bad row returns -EINVAL with every error (up to
 * AGW_LEDGER_MAX_ERRORS) as "file:line: reason" in errs. */
int agw_ledger_parse(const char *path, struct agw_camera **ret_cameras, size_t *ret_n, struct agw_errors *errs);
/* Parses, then replaces the store's ledger in one transaction. Returns the number imported. */
int agw_ledger_import(struct agw_store *store, const char *path, struct agw_errors *errs);

#endif
