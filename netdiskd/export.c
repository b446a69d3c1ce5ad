// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "nd_fileio.h"

int export_open(struct export *e, const struct export_config *cfg, char *err,
		size_t err_len)
{
	struct stat st;
	bool base_ro = cfg->read_only || cfg->cow_dir;
	int flags = base_ro ? O_RDONLY : O_RDWR;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->read_only = cfg->read_only;
	e->cow = cfg->cow_dir != NULL;
	pthread_mutex_init(&e->overlays_lock, NULL);
	if (e->cow && (stat(cfg->cow_dir, &st) || !S_ISDIR(st.st_mode) ||
		       access(cfg->cow_dir, W_OK))) {
		snprintf(err, err_len, "export '%s': overlay directory %s is not a writable directory",
			 cfg->name, cfg->cow_dir);
		e->fd = -1;
		return -1;
	}
	e->fd = open(cfg->path, flags | O_CLOEXEC);
	if (e->fd < 0) {
		snprintf(err, err_len, "export '%s': cannot open %s: %s", cfg->name,
			 cfg->path, strerror(errno));
		return -1;
	}
	/* Two writers on one image would corrupt it; readers may share. */
	if (flock(e->fd, (base_ro ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		snprintf(err, err_len, "export '%s': %s is in use by another process (%s)",
			 cfg->name, cfg->path, strerror(errno));
		goto fail;
	}
	if (fstat(e->fd, &st)) {
		snprintf(err, err_len, "export '%s': %s: %s", cfg->name, cfg->path,
			 strerror(errno));
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		e->size = (uint64_t)st.st_size;
		e->block_size = 512;
	} else if (S_ISBLK(st.st_mode)) {
		int ssz = 512;

		e->is_block_device = true;
		if (ioctl(e->fd, BLKGETSIZE64, &e->size) ||
		    ioctl(e->fd, BLKSSZGET, &ssz)) {
			snprintf(err, err_len, "export '%s': %s: %s", cfg->name,
				 cfg->path, strerror(errno));
			goto fail;
		}
		e->block_size = (uint32_t)ssz;
	} else {
		snprintf(err, err_len, "export '%s': %s is not a regular file or block device",
			 cfg->name, cfg->path);
		goto fail;
	}
	if (e->size < e->block_size) {
		snprintf(err, err_len, "export '%s': %s is smaller than one %u-byte block",
			 cfg->name, cfg->path, e->block_size);
		goto fail;
	}
	return 0;
fail:
	close(e->fd);
	e->fd = -1;
	return -1;
}

static uint32_t errno_status(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return ND_ERR_NOSPC;
	case EROFS:
	case EPERM:
	case EACCES:
		return ND_ERR_READ_ONLY;
	default:
		return ND_ERR_IO;
	}
}

static uint32_t io_failed(struct export *e, const char *what, uint64_t off)
{
	int err = errno;

	log_err("export '%s': %s at offset %llu of %s failed: %s", e->cfg->name,
		what, (unsigned long long)off, e->cfg->path, strerror(err));
	return errno_status(err);
}

struct overlay *export_overlay_get(struct export *e, const char *identity,
				   char *err, size_t err_len)
{
	struct export_overlay *o;

	pthread_mutex_lock(&e->overlays_lock);
	for (o = e->overlays; o; o = o->next)
		if (!strcmp(o->identity, identity))
			break;
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o) {
			snprintf(err, err_len, "out of memory");
		} else if (overlay_open(&o->ov, e->cfg->cow_dir, e->cfg->name, identity,
					e->fd, e->size, err, err_len)) {
			free(o);
			o = NULL;
		} else {
			strcpy(o->identity, identity);
			o->next = e->overlays;
			e->overlays = o;
		}
	}
	if (o)
		o->refs++;
	pthread_mutex_unlock(&e->overlays_lock);
	return o ? &o->ov : NULL;
}

void export_overlay_put(struct export *e, struct overlay *ov)
{
	struct export_overlay **pp, *o;

	pthread_mutex_lock(&e->overlays_lock);
	for (pp = &e->overlays; (o = *pp); pp = &o->next) {
		if (&o->ov == ov) {
			if (!--o->refs) {
				*pp = o->next;
				overlay_close(&o->ov);
				free(o);
			}
			break;
		}
	}
	pthread_mutex_unlock(&e->overlays_lock);
}

uint32_t export_error_status(struct export *e, const char *what, int err,
			       uint64_t off)
{
	errno = -err;
	return io_failed(e, what, off);
}

void export_close(struct export *e)
{
	if (e->fd >= 0) {
		if (!e->read_only && !e->cow && fdatasync(e->fd))
			log_err("export '%s': final sync of %s failed: %m",
				e->cfg->name, e->cfg->path);
		close(e->fd);
	}
	e->fd = -1;
}

uint32_t export_read(struct export *e, void *buf, uint32_t len, uint64_t off)
{
	/* a file that shrank under us reads as zeroes past its end */
	int ret = nd_pread_full(e->fd, buf, len, off);

	return ret ? export_error_status(e, "read", ret, off) : ND_OK;
}

uint32_t export_write(struct export *e, const void *buf, uint32_t len,
		      uint64_t off, bool fua)
{
	int ret = nd_pwrite_full(e->fd, buf, len, off);

	if (ret)
		return export_error_status(e, "write", ret, off);
	return fua ? export_flush(e) : ND_OK;
}

uint32_t export_flush(struct export *e)
{
	if (fdatasync(e->fd))
		return io_failed(e, "flush", 0);
	return ND_OK;
}

uint32_t export_trim(struct export *e, uint64_t off, uint64_t len)
{
	if (!fallocate(e->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		return ND_OK;
	/* Discard is advisory: a backend that cannot punch holes keeps data. */
	if (errno == EOPNOTSUPP || errno == ENODEV || errno == ENOSYS)
		return ND_OK;
	return io_failed(e, "trim", off);
}

static uint32_t write_zero_buffers(struct export *e, uint64_t off, uint64_t len)
{
	size_t chunk = len < (1 << 20) ? (size_t)len : (1 << 20);
	void *zeros = calloc(1, chunk);
	uint32_t st = ND_OK;

	if (!zeros)
		return ND_ERR_IO;
	while (len && st == ND_OK) {
		uint32_t n = len < chunk ? (uint32_t)len : (uint32_t)chunk;

		st = export_write(e, zeros, n, off, false);
		off += n;
		len -= n;
	}
	free(zeros);
	return st;
}

uint32_t export_write_zeroes(struct export *e, uint64_t off, uint64_t len,
			     bool fua)
{
	uint32_t st;

	if (!fallocate(e->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len) ||
	    !fallocate(e->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		st = ND_OK;
	else if (errno == EOPNOTSUPP || errno == ENODEV || errno == ENOSYS ||
		 errno == EINVAL)
		st = write_zero_buffers(e, off, len);
	else
		return io_failed(e, "write zeroes", off);
	return st == ND_OK && fua ? export_flush(e) : st;
}
