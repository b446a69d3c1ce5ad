/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * An open export: its configuration and the backend chain clients reach it
 * through, a file or block device, with the copy-on-write filter on top for
 * copy-on-write exports.
 */
#ifndef NETDISKD_EXPORT_H
#define NETDISKD_EXPORT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "filter-cow.h"

/*
 * Room for an export's error whole: its name, a path of up to PATH_MAX
 * bytes, the reason and a hint of what to change.
 */
#define EXPORT_ERROR_SIZE (PATH_MAX + 1024)

struct export {
	char name[ND_NAME_SIZE];
	char *path;
	char *cow_dir;			/* copy-on-write: the overlays; else NULL */
	bool read_only;
	bool cow;
	uint64_t verifier;		/* docs/protocol.md, "Write verifier" */
	uint8_t uuid[16];		/* export-uuid.h; per identity if cow */
	struct file_backend file;	/* for copy-on-write: the base, read-only */
	struct cow_filters cow_filters;
	unsigned int refs;		/* generations that list it; under server.lock */
};

/*
 * Opens what cfg names; it keeps copies of the names, not cfg. epoch is the
 * verifiers' (verifier.h).
 */
struct export *export_open(const struct export_config *cfg, const char *epoch,
			   char *err, size_t err_len);
/*
 * What export_open would find, without opening for good: the file opened
 * read-only and unlocked, the overlay directory checked (netdiskd --check).
 * 0 with the size, or -1 with a message in err.
 */
int export_probe(const struct export_config *cfg, uint64_t *size, char *err, size_t err_len);
/* Whether e serves what cfg names: the same file in the same mode. */
bool export_matches(const struct export *e, const struct export_config *cfg);
/* Syncs, closes and frees e; 0, or -errno when a final sync failed. */
int export_close(struct export *e);

/*
 * What one identity reads and writes through, shared by its connections;
 * NULL with -errno in *error (-EBUSY: another process holds it) and a
 * message in err when it cannot be had. Give it back with
 * export_backend_put().
 */
struct backend *export_backend_get(struct export *e, const char *identity, int *error,
				   char *err, size_t err_len);
void export_backend_put(struct export *e, struct backend *b);

#endif
