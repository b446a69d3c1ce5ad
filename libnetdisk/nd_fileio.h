/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* Positional file I/O that finishes what it starts. */
#ifndef ND_FILEIO_H
#define ND_FILEIO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads len bytes at off, retrying short reads and EINTR; what lies past
 * the end of the file reads as zeroes. Returns 0 or -errno.
 */
int nd_pread_full(int fd, void *buf, size_t len, uint64_t off);
/* Writes len bytes at off; a write that makes no progress is -ENOSPC. */
int nd_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* Syncs a directory, so that the names made in it survive a crash; 0 or -errno. */
int nd_sync_dir(const char *dir);

#endif
