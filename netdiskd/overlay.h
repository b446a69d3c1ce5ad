/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * A copy-on-write overlay: one identity's writes over the read-only base of
 * one export. Written once, here, for netdiskd and for netdiskctl overlay.
 *
 * On disk, in DIR/EXPORT/: IDENTITY.img holds written blocks at their own
 * offsets (sparse); IDENTITY.map is a 4 KiB header naming the export and
 * the base it was made from, then one bit per 4 KiB block saying which
 * blocks the overlay holds. Neither exists until the identity first writes.
 *
 * Crash safety: a map bit reaches the disk only after the data it covers.
 * Writes set bits in memory; a flush syncs IDENTITY.img, then writes the
 * changed parts of the map, then syncs IDENTITY.map. After a power loss
 * every block reads as what the last completed flush left, or as data
 * written after it; flushed data is never lost.
 *
 * Every write is also recorded in the map journal (overlay-journal.h)
 * before its data goes to the image, and so before it is acknowledged:
 * when only the process dies, the next open finds every acknowledged
 * write, since the journal and the data are both in the page cache, which
 * outlives the process.
 *
 * Locking: an flock on IDENTITY.map, taken after opening it and checked to
 * still be the file at that path, so that a reset racing an open is seen.
 */
#ifndef NETDISKD_OVERLAY_H
#define NETDISKD_OVERLAY_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "overlay-journal.h"
#include <netdisk/wire.h>

#define OVERLAY_BLOCK 4096
#define OVERLAY_CHUNK 4096		/* map bytes loaded and written as one */

struct overlay {
	struct backend *base;		/* read-only, not owned */
	uint64_t size;
	uint64_t blocks;
	struct backend_identity base_id;	/* what the map's header must say */
	char export_name[ND_NAME_SIZE];
	char dir[PATH_MAX];		/* DIR/EXPORT */
	char identity[ND_NAME_SIZE];

	pthread_mutex_t lock;		/* I/O against the map; everything below */
	int data_fd;			/* -1: no overlay on disk yet */
	int map_fd;
	bool created;			/* files made since the last flush */
	uint8_t **chunks;		/* the map, OVERLAY_CHUNK bytes each, NULL: all 0 */
	size_t nchunks;
	uint8_t *dirty;			/* a bit per chunk changed since the last flush */
	struct overlay_journal journal;	/* appends and the switch under lock */

	pthread_mutex_t flush_lock;	/* one flush at a time, so map writes stay in order */
};

/*
 * Opens the overlay of identity on export in cow_dir over base, and locks it
 * if it exists. Returns 0, or -errno with a message in err: -EBUSY in use,
 * -ESTALE made from another base or for another export.
 */
int overlay_open(struct overlay *o, const char *cow_dir, const char *export_name,
		 const char *identity, struct backend *base, char *err, size_t err_len);
/* Flushes and closes; 0, or the flush's -errno (the overlay is closed either way). */
int overlay_close(struct overlay *o);

/* Return 0 or -errno. */
int overlay_read(struct overlay *o, void *buf, uint64_t len, uint64_t off);
int overlay_write(struct overlay *o, const void *buf, uint64_t len, uint64_t off);
int overlay_write_zeroes(struct overlay *o, uint64_t len, uint64_t off);
int overlay_flush(struct overlay *o);
uint64_t overlay_blocks_used(struct overlay *o);

/*
 * Discards an idle overlay. Returns 0, -ENOENT if there is none, -EBUSY if
 * a server holds it, or -errno.
 */
int overlay_reset(const char *cow_dir, const char *export_name, const char *identity);

/* Reads a map's header and counts its blocks without locking it. */
int overlay_inspect(const char *map_path, char export_name[ND_NAME_SIZE],
		    uint64_t *blocks_used, bool *in_use);

#endif
