// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "backend.h"

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

#include "nd_fileio.h"

static struct file_backend *file_of(struct backend *b)
{
	return (struct file_backend *)b;
}

static int file_pread(struct backend *b, void *buf, uint32_t len, uint64_t off)
{
	/* a file that shrank under us reads as zeroes past its end */
	return nd_pread_full(file_of(b)->fd, buf, len, off);
}

static int file_flush(struct backend *b)
{
	return fdatasync(file_of(b)->fd) ? -errno : 0;
}

static int file_pwrite(struct backend *b, const void *buf, uint32_t len, uint64_t off,
		       bool fua)
{
	int ret = nd_pwrite_full(file_of(b)->fd, buf, len, off);

	return !ret && fua ? file_flush(b) : ret;
}

/* fallocate() modes the file system does not have */
static bool unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENODEV || err == ENOSYS;
}

static int file_trim(struct backend *b, uint64_t off, uint64_t len)
{
	if (!fallocate(file_of(b)->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		return 0;
	/* discard is advisory: a file system that cannot punch holes keeps data */
	return unsupported(errno) ? 0 : -errno;
}

static int write_zero_buffers(struct backend *b, uint64_t off, uint64_t len)
{
	size_t chunk = len < (1 << 20) ? (size_t)len : (1 << 20);
	void *zeros = calloc(1, chunk);
	int ret = 0;

	if (!zeros)
		return -ENOMEM;
	while (len && !ret) {
		uint32_t n = len < chunk ? (uint32_t)len : (uint32_t)chunk;

		ret = file_pwrite(b, zeros, n, off, false);
		off += n;
		len -= n;
	}
	free(zeros);
	return ret;
}

/*
 * ZERO_RANGE keeps the blocks allocated (a block device: zeroout without
 * unmapping); a hole is punched only where the client allows it.
 */
static int file_zero(struct backend *b, uint64_t off, uint64_t len, bool fua,
		     bool no_hole)
{
	int fd = file_of(b)->fd, ret;

	if (!fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		       (off_t)len) ||
	    (!no_hole && !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				    (off_t)off, (off_t)len)))
		ret = 0;
	else if (unsupported(errno) || errno == EINVAL)
		ret = write_zero_buffers(b, off, len);
	else
		return -errno;
	return !ret && fua ? file_flush(b) : ret;
}

static int file_identify(struct backend *b, struct backend_identity *id)
{
	struct stat st;

	if (fstat(file_of(b)->fd, &st))
		return -errno;
	id->size = b->size;
	id->ino = (uint64_t)st.st_ino;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

static const struct backend_ops file_ops = {
	.pread = file_pread,
	.pwrite = file_pwrite,
	.flush = file_flush,
	.trim = file_trim,
	.zero = file_zero,
	.identify = file_identify,
};

/*
 * Under netdiskd.service, what in the unit's sandbox refuses such an open,
 * and how to allow it; "" when not under systemd or nothing fits.
 */
static const char *sandbox_hint(const char *path, bool read_only, int err)
{
	bool dev = !strncmp(path, "/dev/", 5);

	if (!getenv("INVOCATION_ID"))
		return "";
	if (dev && (err == ENOENT || err == EACCES || err == EPERM))
		return "; under netdiskd.service, PrivateDevices=yes and DevicePolicy=closed "
		       "hide block devices: allow this one with DeviceAllow=PATH rw, "
		       "PrivateDevices=no, PrivateUsers=no and SupplementaryGroups=disk in a "
		       "drop-in (systemctl edit netdiskd), as in the example "
		       NETDISK_EXAMPLESDIR "/block-device.conf";
	if (!read_only && err == EROFS)
		return "; under netdiskd.service, ProtectSystem=strict makes every path read-only "
		       "but /var/lib/netdisk: add its directory with ReadWritePaths= in a drop-in "
		       "(systemctl edit netdiskd; see netdiskd(8))";
	if (err == ENOENT || err == EACCES)
		return "; under netdiskd.service, ProtectHome=yes and PrivateTmp=yes hide /home, "
		       "/root and /tmp: keep images elsewhere, such as /var/lib/netdisk";
	return "";
}

static int open_file(struct file_backend *f, const char *path, bool read_only, bool lock,
		     char *err, size_t err_len)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->b.ops = &file_ops;
	f->b.path = path;
	f->read_only = read_only;
	f->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (f->fd < 0) {
		int e = errno;

		snprintf(err, err_len, "cannot open %s: %s%s", path, strerror(e),
			 sandbox_hint(path, read_only, e));
		return -1;
	}
	/* two writers on one image would corrupt it; readers may share */
	if (lock && flock(f->fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		snprintf(err, err_len, "%s is in use by another process (%s)", path,
			 strerror(errno));
		goto fail;
	}
	if (fstat(f->fd, &st)) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		f->b.size = (uint64_t)st.st_size;
		f->b.block_size = 512;
	} else if (S_ISBLK(st.st_mode)) {
		int ssz = 512;

		if (ioctl(f->fd, BLKGETSIZE64, &f->b.size) || ioctl(f->fd, BLKSSZGET, &ssz)) {
			snprintf(err, err_len, "%s: %s", path, strerror(errno));
			goto fail;
		}
		f->b.block_size = (uint32_t)ssz;
	} else {
		snprintf(err, err_len, "%s is not a regular file or block device", path);
		goto fail;
	}
	if (f->b.size < f->b.block_size) {
		snprintf(err, err_len, "%s is smaller than one %u-byte block", path,
			 f->b.block_size);
		goto fail;
	}
	return 0;
fail:
	close(f->fd);
	f->fd = -1;
	return -1;
}

int file_backend_open(struct file_backend *f, const char *path, bool read_only,
		      char *err, size_t err_len)
{
	return open_file(f, path, read_only, true, err, err_len);
}

int file_backend_probe(struct file_backend *f, const char *path, char *err, size_t err_len)
{
	return open_file(f, path, true, false, err, err_len);
}

int file_backend_close(struct file_backend *f)
{
	int ret = 0;

	if (f->fd < 0)
		return 0;
	if (!f->read_only && fdatasync(f->fd))
		ret = -errno;
	close(f->fd);
	f->fd = -1;
	return ret;
}
