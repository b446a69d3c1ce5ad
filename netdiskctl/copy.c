// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskctl copy: a whole image between a local file, device or pipe and an export. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <time.h>

#include "nd_fileio.h"
#include "nd_keys.h"
#include "netdiskctl.h"

#define COPY_WINDOW 8		/* requests in flight per connection */

/* One copy job, shared by the worker threads. */
struct copy {
	const struct client_opts *o;
	const struct nd_uri *uri;
	const uint8_t *key;
	bool upload;
	int local_fd;
	bool sparse_ok;		/* local side is a fresh file: skip zero chunks */
	/*
	 * local side is a pipe (-), in order: one worker; a download keeps one
	 * request in flight, an upload ends early at the end of its input
	 * (size shrinks, and only that worker reads it)
	 */
	bool stream;
	uint64_t size;
	uint32_t chunk;
	atomic_uint_fast64_t next;	/* next offset to hand out */
	atomic_uint_fast64_t done;	/* bytes finished */
	atomic_bool failed;
	atomic_uint workers;	/* started: the first takes probe */
	struct nd_client *probe; /* open, admitted; the first worker's to close */
	char error[1024];	/* a host and a session's error, whole */
	pthread_mutex_t lock;
};

static void copy_fail(struct copy *cp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void copy_fail(struct copy *cp, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&cp->lock);
	if (!atomic_exchange(&cp->failed, true)) {
		va_start(ap, fmt);
		vsnprintf(cp->error, sizeof(cp->error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&cp->lock);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return !len || (p[0] == 0 && !memcmp(p, p + 1, len - 1));
}

static uint32_t chunk_len(const struct copy *cp, uint64_t off)
{
	return cp->size - off < cp->chunk ? (uint32_t)(cp->size - off) : cp->chunk;
}

static bool take_chunk(struct copy *cp, uint64_t *off, uint32_t *len)
{
	uint64_t o = atomic_fetch_add(&cp->next, cp->chunk);

	if (o >= cp->size || atomic_load(&cp->failed))
		return false;
	*off = o;
	*len = chunk_len(cp, o);
	return true;
}

/* Reads up to len bytes of a stream: fewer only at its end. */
static ssize_t read_stream(int fd, uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int write_stream(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 0: sent; 1: nothing to send, the input ended; -1: failed. */
static int send_chunk(struct copy *cp, struct nd_client *c, uint64_t off, uint32_t len)
{
	uint8_t *data;
	ssize_t n;

	if (!cp->upload)
		return nd_client_send(c, ND_CMD_READ, 0, off, off, len, NULL) ? -1 : 0;
	data = nd_client_write_data(c);
	if (cp->stream) {
		n = read_stream(cp->local_fd, data, len);
		if (n >= 0 && n < (ssize_t)len) {
			cp->size = off + (uint64_t)n;
			len = (uint32_t)n;
			if (!n)
				return 1;
		}
	} else {
		n = pread(cp->local_fd, data, len, (off_t)off);
	}
	if (n != (ssize_t)len) {
		copy_fail(cp, "reading source at offset %llu: %s",
			  (unsigned long long)off, n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	if (all_zero(data, len) && (c->info.flags & ND_INFO_WRITE_ZEROES))
		return nd_client_send(c, ND_CMD_WRITE_ZEROES, 0, off, off, len, NULL) ? -1 : 0;
	return nd_client_send(c, ND_CMD_WRITE, 0, off, off, len, data) ? -1 : 0;
}

static int finish_chunk(struct copy *cp, const struct nd_client_reply *r)
{
	uint64_t off = r->handle;

	if (off >= cp->size || off % cp->chunk) {
		copy_fail(cp, "server answered a request that was never sent");
		return -1;
	}
	if (r->status) {
		copy_fail(cp, "%s at offset %llu: %s", cp->upload ? "write" : "read",
			  (unsigned long long)off, nd_status_name(r->status));
		return -1;
	}
	if (!cp->upload) {
		if (r->length != chunk_len(cp, off)) {
			copy_fail(cp, "server sent %u bytes for a %u-byte read",
				  r->length, chunk_len(cp, off));
			return -1;
		}
		int ret = 0;

		if (cp->stream)
			ret = write_stream(cp->local_fd, r->data, r->length) ? -errno : 0;
		else if (!(cp->sparse_ok && all_zero(r->data, r->length)))
			ret = nd_pwrite_full(cp->local_fd, r->data, r->length, off);
		if (ret) {
			copy_fail(cp, "writing destination at offset %llu: %s",
				  (unsigned long long)off, strerror(-ret));
			return -1;
		}
	}
	atomic_fetch_add(&cp->done, chunk_len(cp, off));
	return 0;
}

static void *copy_worker(void *arg)
{
	struct copy *cp = arg;
	struct nd_client c;
	struct nd_client_reply r;
	unsigned int inflight = 0, window = cp->stream && !cp->upload ? 1 : COPY_WINDOW;
	char err[512];
	int opened;

	/*
	 * The first worker goes on with the connection that waited for a busy
	 * server. The others try once: the copy runs on the connections it
	 * got, rather than hold some while it waits for more
	 * (docs/protocol.md, "Admission").
	 */
	if (atomic_fetch_add(&cp->workers, 1) == 0) {
		c = *cp->probe;
	} else {
		opened = nd_client_open(&c, cp->uri, cp->o->identity,
					cp->o->server_name[0] ? cp->o->server_name : NULL,
					cp->key, err, sizeof(err));
		if (opened == ND_CLIENT_SERVER_BUSY)
			return NULL;
		if (opened) {
			copy_fail(cp, "%s", err);
			return NULL;
		}
		nd_client_set_timeout(&c, IO_TIMEOUT_S);
		if (cp->o->rekey_records)
			c.s.rekey_records = cp->o->rekey_records;
	}
	for (;;) {
		uint64_t off;
		uint32_t len;

		while (inflight < window && take_chunk(cp, &off, &len)) {
			int ret = send_chunk(cp, &c, off, len);

			if (ret > 0)
				break;
			if (ret) {
				if (c.s.send_error[0])
					copy_fail(cp, "%s: %s", cp->uri->host, c.s.send_error);
				goto out;
			}
			inflight++;
		}
		if (!inflight)
			break;
		if (nd_client_recv(&c, &r)) {
			copy_fail(cp, "%s: %s", cp->uri->host, c.s.error);
			goto out;
		}
		inflight--;
		if (finish_chunk(cp, &r))
			goto out;
	}
	if (cp->upload && !atomic_load(&cp->failed)) {
		if (nd_client_send(&c, ND_CMD_FLUSH, 0, UINT64_MAX, 0, 0, NULL))
			copy_fail(cp, "flush: %s", c.s.send_error);
		else if (nd_client_recv(&c, &r))
			copy_fail(cp, "flush: %s", c.s.error);
		else if (r.status)
			copy_fail(cp, "flush: %s", nd_status_name(r.status));
	}
out:
	nd_client_close(&c);
	return NULL;
}

static void show_progress(const struct copy *cp, double elapsed, bool final)
{
	uint64_t done = atomic_load(&cp->done);
	double pct = cp->size ? 100.0 * (double)done / (double)cp->size : 100.0;
	int width = 30, fill = (int)(pct / 100.0 * width);

	fprintf(stderr, "\r[%.*s%*s] %5.1f%% %8.1f MiB %7.1f MiB/s%s",
		fill, "##############################", width - fill, "", pct,
		(double)done / 1048576.0,
		elapsed > 0 ? (double)done / 1048576.0 / elapsed : 0.0,
		final ? "\n" : "");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t local_size(int fd, const char *path)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st))
		die_status(EXIT_IO, "%s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size))
			die_status(EXIT_IO, "%s: %s", path, strerror(errno));
		return size;
	}
	return (uint64_t)st.st_size;
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* Creates DIR/.NAME.XXXXXX beside path, for a download to be renamed over it. */
static int open_temp_beside(const char *path, char *temp, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n = slash ? (int)(slash - path + 1) : 0;
	int fd;

	if (snprintf(temp, len, "%.*s.%s.XXXXXX", n, path, slash ? slash + 1 : path) >=
	    (int)len)
		die("%s: name too long", path);
	fd = mkostemp(temp, O_CLOEXEC);
	if (fd < 0)
		die_status(EXIT_IO, "cannot create a file beside %s: %s", path, strerror(errno));
	fchmod(fd, 0644 & ~current_umask());
	return fd;
}

int cmd_copy(const struct client_opts *o, const char *src, const char *dst)
{
	struct copy cp = { .o = o, .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t threads[64];
	uint8_t key[ND_KEY_SIZE];
	struct nd_client probe;
	struct nd_uri uri;
	unsigned int started = 0;
	const char *remote, *local;
	bool show;
	double t0;
	char err[512], temp[PATH_MAX] = "";
	struct stat st;
	unsigned int connections = o->connections;
	uint64_t probe_size;

	if (nd_is_uri(src) == nd_is_uri(dst))
		die("copy needs exactly one netdisk:// URI and one local path "
		    "(to copy between servers, copy through a local file)");
	cp.upload = nd_is_uri(dst);
	remote = cp.upload ? dst : src;
	local = cp.upload ? src : dst;
	if (nd_uri_parse(remote, &uri, err, sizeof(err)))
		die_status(EXIT_USAGE, "%s", err);
	load_key(o, key);
	cp.uri = &uri;
	cp.key = key;
	client_open(&probe, &uri, o, key);
	cp.chunk = probe.info.max_io;
	cp.stream = !strcmp(local, "-");
	if (cp.upload && probe.info.flags & ND_INFO_READ_ONLY)
		die_status(EXIT_NO_EXPORT, "%s: export is read-only", remote);
	if (cp.stream) {
		cp.local_fd = cp.upload ? STDIN_FILENO : STDOUT_FILENO;
		cp.size = probe.info.size;
		connections = 1;
	} else if (cp.upload) {
		cp.local_fd = open(local, O_RDONLY | O_CLOEXEC);
		if (cp.local_fd < 0)
			die_status(EXIT_IO, "%s: %s", local, strerror(errno));
		cp.size = local_size(cp.local_fd, local);
		if (cp.size > probe.info.size)
			die("%s (%llu bytes) does not fit in %s (%llu bytes); nothing written",
			    local, (unsigned long long)cp.size, remote,
			    (unsigned long long)probe.info.size);
	} else {
		cp.size = probe.info.size;
		if (!stat(local, &st) && !S_ISREG(st.st_mode)) {
			/* a block device is written in place */
			cp.local_fd = open(local, O_WRONLY | O_CLOEXEC);
			if (cp.local_fd < 0)
				die_status(EXIT_IO, "%s: %s", local, strerror(errno));
			if (local_size(cp.local_fd, local) < cp.size)
				die("%s is smaller than %s (%llu bytes)", local, remote,
				    (unsigned long long)cp.size);
		} else {
			/* a file: written aside, renamed over the target only when whole */
			cp.local_fd = open_temp_beside(local, temp, sizeof(temp));
			if (ftruncate(cp.local_fd, (off_t)cp.size))
				die_status(EXIT_IO, "%s: %s", temp, strerror(errno));
			cp.sparse_ok = true;
		}
	}
	probe_size = probe.info.size;
	cp.probe = &probe;

	/* a stream's size may shrink under its worker: no progress bar */
	show = !cp.stream && (o->progress || isatty(2));
	t0 = now();
	for (; started < connections; started++)
		if (pthread_create(&threads[started], NULL, copy_worker, &cp))
			break;
	if (!started) {
		nd_client_close(&probe);
		if (temp[0])
			unlink(temp);
		die("cannot start threads");
	}
	if (show) {
		while (atomic_load(&cp.done) < cp.size && !atomic_load(&cp.failed)) {
			show_progress(&cp, now() - t0, false);
			usleep(200 * 1000);
		}
	}
	for (unsigned int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (show)
		show_progress(&cp, now() - t0, true);
	nd_wipe(key, sizeof(key));
	if (cp.stream && cp.upload && !cp.failed && cp.size == probe_size &&
	    read_stream(cp.local_fd, (uint8_t[1]){ 0 }, 1) > 0)
		copy_fail(&cp, "standard input is longer than the export (%llu bytes); "
			  "its first %llu bytes were written", (unsigned long long)cp.size,
			  (unsigned long long)cp.size);
	if (!cp.upload && !cp.stream && !cp.failed && fsync(cp.local_fd))
		copy_fail(&cp, "%s: %s", local, strerror(errno));
	if (close(cp.local_fd) && !cp.upload)
		copy_fail(&cp, "%s: %s", local, strerror(errno));
	if (temp[0] && !cp.failed && rename(temp, local))
		copy_fail(&cp, "renaming %s to %s: %s", temp, local, strerror(errno));
	if (temp[0] && cp.failed)
		unlink(temp);	/* a partial image must not look like a whole one */
	if (cp.failed)
		die_status(EXIT_IO, "copy failed: %s%s", cp.error,
			   temp[0] ? "; the target is unchanged" : "");
	return 0;
}
