// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "nd_overlay.h"
#include "nd_fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK ND_OVERLAY_BLOCK

static bool has_block(const struct nd_overlay *o, uint64_t b)
{
	return o->map[b / 8] & (1u << (b % 8));
}

int nd_overlay_open(struct nd_overlay *o, const char *dir, const char *identity,
		    int base_fd, uint64_t size, char *err, size_t err_len)
{
	char path[4096];
	struct stat st;
	size_t map_len;
	int ret;

	memset(o, 0, sizeof(*o));
	o->data_fd = o->map_fd = -1;
	o->base_fd = base_fd;
	o->size = size;
	o->blocks = (size + BLK - 1) / BLK;
	map_len = (size_t)((o->blocks + 7) / 8);
	/* identities cannot contain '/' or start with '.': see nd_valid_identity */
	snprintf(path, sizeof(path), "%s/%s.map", dir, identity);
	o->map_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o->map_fd < 0)
		goto fail_errno;
	if (flock(o->map_fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		snprintf(err, err_len, "overlay %s is in use", path);
		goto fail;
	}
	if (fstat(o->map_fd, &st))
		goto fail_errno;
	if (st.st_size != 0 && (uint64_t)st.st_size != map_len) {
		ret = -EINVAL;
		snprintf(err, err_len, "overlay %s does not match the base image's size", path);
		goto fail;
	}
	if (!st.st_size && ftruncate(o->map_fd, (off_t)map_len))
		goto fail_errno;
	o->map = calloc(1, map_len ? map_len : 1);
	if (!o->map) {
		ret = -ENOMEM;
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	ret = nd_pread_full(o->map_fd, o->map, map_len, 0);
	if (ret) {
		snprintf(err, err_len, "%s: %s", path, strerror(-ret));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s.img", dir, identity);
	o->data_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o->data_fd < 0)
		goto fail_errno;
	pthread_mutex_init(&o->lock, NULL);
	return 0;
fail_errno:
	ret = -errno;
	snprintf(err, err_len, "%s: %s", path, strerror(errno));
fail:
	free(o->map);
	if (o->map_fd >= 0)
		close(o->map_fd);
	if (o->data_fd >= 0)
		close(o->data_fd);
	memset(o, 0, sizeof(*o));
	o->data_fd = o->map_fd = -1;
	return ret;
}

void nd_overlay_close(struct nd_overlay *o)
{
	if (o->map_fd < 0)
		return;
	fdatasync(o->data_fd);
	fdatasync(o->map_fd);
	close(o->data_fd);
	close(o->map_fd);	/* drops the lock */
	free(o->map);
	pthread_mutex_destroy(&o->lock);
	o->data_fd = o->map_fd = -1;
}

int nd_overlay_read(struct nd_overlay *o, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;
	int ret = 0;

	/* the map changes under writers; reads take the same lock */
	pthread_mutex_lock(&o->lock);
	while (len && !ret) {
		uint64_t b = off / BLK, run_end = (b + 1) * BLK;
		bool ours = has_block(o, b);
		uint64_t n;

		/* extend the run while blocks come from the same file */
		while (run_end < off + len && has_block(o, run_end / BLK) == ours)
			run_end += BLK;
		n = (run_end < off + len ? run_end : off + len) - off;
		ret = nd_pread_full(ours ? o->data_fd : o->base_fd, p, (size_t)n, off);
		p += n;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

/* Writes one block's worth of [off, off+len) within block b; buf NULL: zeroes. */
static int write_in_block(struct nd_overlay *o, uint64_t b, const uint8_t *buf,
			  uint64_t len, uint64_t off)
{
	uint8_t block[BLK];
	uint64_t start = b * BLK, in = off - start;
	size_t blen = start + BLK <= o->size ? BLK : (size_t)(o->size - start);
	int ret;

	if (in == 0 && len == blen) {
		if (buf)
			return nd_pwrite_full(o->data_fd, buf, (size_t)len, off);
		memset(block, 0, blen);
		return nd_pwrite_full(o->data_fd, block, blen, start);
	}
	/* partial block: start from what the client sees now */
	ret = nd_pread_full(has_block(o, b) ? o->data_fd : o->base_fd, block, blen, start);
	if (ret)
		return ret;
	if (buf)
		memcpy(block + in, buf, (size_t)len);
	else
		memset(block + in, 0, (size_t)len);
	return nd_pwrite_full(o->data_fd, block, blen, start);
}

static int set_blocks(struct nd_overlay *o, uint64_t first, uint64_t last)
{
	uint64_t lo = first / 8, hi = last / 8;
	bool changed = false;

	for (uint64_t b = first; b <= last; b++) {
		if (!has_block(o, b)) {
			o->map[b / 8] |= (uint8_t)(1u << (b % 8));
			changed = true;
		}
	}
	return changed ? nd_pwrite_full(o->map_fd, o->map + lo, (size_t)(hi - lo + 1), lo) : 0;
}

/* Full blocks [first, last] in one go: data, or a hole that reads as zeroes. */
static int write_full_blocks(struct nd_overlay *o, const uint8_t *buf,
			     uint64_t first, uint64_t last)
{
	uint64_t start = first * BLK, end = (last + 1) * BLK;

	if (end > o->size)
		end = o->size;
	if (buf)
		return nd_pwrite_full(o->data_fd, buf, (size_t)(end - start), start);
	if (!fallocate(o->data_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)start, (off_t)(end - start)))
		return 0;
	for (uint64_t b = first; b <= last; b++) {
		int ret = write_in_block(o, b, NULL, BLK, b * BLK);

		if (ret)
			return ret;
	}
	return 0;
}

static int write_range(struct nd_overlay *o, const uint8_t *buf, uint64_t len,
		       uint64_t off)
{
	uint64_t first = off / BLK, last = (off + len - 1) / BLK;
	uint64_t full_first = (off + BLK - 1) / BLK, end = off + len;
	/* the image's last block counts as whole when the range reaches the end */
	uint64_t full_last_plus1 = end == o->size ? o->blocks : end / BLK;
	int ret = 0;

	if (!len)
		return 0;
	pthread_mutex_lock(&o->lock);
	if (full_first >= full_last_plus1) {
		/* no whole block: one or two partial ones */
		for (uint64_t b = first; b <= last && !ret; b++) {
			uint64_t s = b == first ? off : b * BLK;
			uint64_t e = b == last ? end : (b + 1) * BLK;

			ret = write_in_block(o, b, buf ? buf + (s - off) : NULL, e - s, s);
		}
	} else {
		if (off % BLK)
			ret = write_in_block(o, first, buf, full_first * BLK - off, off);
		if (!ret)
			ret = write_full_blocks(o, buf ? buf + (full_first * BLK - off) : NULL,
						full_first, full_last_plus1 - 1);
		if (!ret && full_last_plus1 <= last)
			ret = write_in_block(o, last, buf ? buf + (last * BLK - off) : NULL,
					     end - last * BLK, last * BLK);
	}
	/* data before map: a crash leaves each block old or new, never torn */
	if (!ret)
		ret = set_blocks(o, first, last);
	pthread_mutex_unlock(&o->lock);
	return ret;
}

int nd_overlay_write(struct nd_overlay *o, const void *buf, uint64_t len, uint64_t off)
{
	return write_range(o, buf, len, off);
}

int nd_overlay_write_zeroes(struct nd_overlay *o, uint64_t len, uint64_t off)
{
	return write_range(o, NULL, len, off);
}

int nd_overlay_flush(struct nd_overlay *o)
{
	if (fdatasync(o->data_fd) || fdatasync(o->map_fd))
		return -errno;
	return 0;
}

uint64_t nd_overlay_blocks_used(const struct nd_overlay *o)
{
	uint64_t n = 0;

	for (uint64_t b = 0; b < o->blocks; b++)
		n += has_block(o, b);
	return n;
}
