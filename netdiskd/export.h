/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* An open export: the backing file or block device and its I/O operations. */
#ifndef NETDISKD_EXPORT_H
#define NETDISKD_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include "config.h"
#include "overlay.h"

struct export_overlay {
	struct export_overlay *next;
	char identity[ND_NAME_SIZE];
	unsigned int refs;		/* connections using it */
	struct overlay ov;
};

struct export {
	const struct export_config *cfg;
	int fd;				/* for copy-on-write: the base, read-only */
	uint64_t size;
	uint32_t block_size;
	bool is_block_device;
	bool read_only;
	bool cow;
	pthread_mutex_t overlays_lock;
	struct export_overlay *overlays;
};

int export_open(struct export *e, const struct export_config *cfg, char *err,
		size_t err_len);
void export_close(struct export *e);

/*
 * The overlay of identity on a copy-on-write export, shared by all of that
 * identity's connections. NULL with a message in err when it cannot be had.
 */
struct overlay *export_overlay_get(struct export *e, const char *identity,
				   char *err, size_t err_len);
void export_overlay_put(struct export *e, struct overlay *ov);

/* Each returns an ND_OK or ND_ERR_* status. Ranges are checked by the caller. */
/* The status for a failed operation given as -errno; logs it. */
uint32_t export_error_status(struct export *e, const char *what, int err,
			       uint64_t off);
uint32_t export_read(struct export *e, void *buf, uint32_t len, uint64_t off);
uint32_t export_write(struct export *e, const void *buf, uint32_t len,
		      uint64_t off, bool fua);
uint32_t export_flush(struct export *e);
uint32_t export_trim(struct export *e, uint64_t off, uint64_t len);
uint32_t export_write_zeroes(struct export *e, uint64_t off, uint64_t len,
			     bool fua);

#endif
