/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * A copy-on-write overlay: one client's writes over a read-only base image.
 * In the overlay directory, IDENTITY.img holds written blocks at their own
 * offsets (sparse) and IDENTITY.map has one bit per block saying which
 * blocks the overlay holds. A block's data reaches IDENTITY.img before its
 * bit is set, so after a crash every block is either the new data or the
 * base; FLUSH syncs the data, then the map.
 */
#ifndef ND_OVERLAY_H
#define ND_OVERLAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ND_OVERLAY_BLOCK 4096

struct nd_overlay {
	int base_fd;		/* read-only base image, not owned */
	int data_fd;
	int map_fd;
	uint64_t size;
	uint64_t blocks;
	uint8_t *map;		/* in-memory copy of IDENTITY.map */
	pthread_mutex_t lock;	/* serialises I/O against map updates */
};

/*
 * Opens (creating if needed) the overlay of identity in dir and locks it
 * against other users. Returns 0, or -errno with a message in err
 * (-EWOULDBLOCK: in use).
 */
int nd_overlay_open(struct nd_overlay *o, const char *dir, const char *identity,
		    int base_fd, uint64_t size, char *err, size_t err_len);
void nd_overlay_close(struct nd_overlay *o);

/* Return 0 or -errno. */
int nd_overlay_read(struct nd_overlay *o, void *buf, uint64_t len, uint64_t off);
int nd_overlay_write(struct nd_overlay *o, const void *buf, uint64_t len, uint64_t off);
int nd_overlay_write_zeroes(struct nd_overlay *o, uint64_t len, uint64_t off);
int nd_overlay_flush(struct nd_overlay *o);
uint64_t nd_overlay_blocks_used(const struct nd_overlay *o);

#endif
