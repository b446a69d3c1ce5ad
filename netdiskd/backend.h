/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * What an export reads and writes through, in nbdkit's manner: a backend
 * (backend-file.c) or a filter layered over one (filter-cow.c). Every
 * operation returns 0 or -errno; the protocol maps errno to a status once.
 */
#ifndef NETDISKD_BACKEND_H
#define NETDISKD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct backend;

/* Which base an overlay was made from, as far as the backend can tell. */
struct backend_identity {
	uint64_t size;
	uint64_t ino;
	int64_t mtime_ns;
};

struct backend_ops {
	int (*pread)(struct backend *b, void *buf, uint32_t len, uint64_t off);
	int (*pwrite)(struct backend *b, const void *buf, uint32_t len, uint64_t off,
		      bool fua);
	int (*flush)(struct backend *b);
	/* the range may read back as anything afterwards */
	int (*trim)(struct backend *b, uint64_t off, uint64_t len);
	/* the range reads back as zeroes; no_hole: and stays allocated */
	int (*zero)(struct backend *b, uint64_t off, uint64_t len, bool fua,
		    bool no_hole);
	int (*identify)(struct backend *b, struct backend_identity *id);
};

struct backend {
	const struct backend_ops *ops;
	uint64_t size;
	uint32_t block_size;
	const char *path;		/* for messages */
};

/* A regular file or a block device. */
struct file_backend {
	struct backend b;
	int fd;
	bool read_only;
};

/*
 * Opens path, locked against a second writer (LOCK_EX) or, read-only,
 * against writers (LOCK_SH). On error returns -1 with a message in err.
 */
int file_backend_open(struct file_backend *f, const char *path, bool read_only,
		      char *err, size_t err_len);
/*
 * Opens path read-only and unlocked, for netdiskd --check: it runs beside
 * a netdiskd that holds the lock. Errors as for file_backend_open.
 */
int file_backend_probe(struct file_backend *f, const char *path, char *err, size_t err_len);
/* Syncs a writable backend; returns 0 or -errno. */
int file_backend_close(struct file_backend *f);

#endif
