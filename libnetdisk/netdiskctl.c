// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskctl: the userspace client of netdisk exports. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nd_client.h"
#include "nd_fileio.h"
#include "nd_keys.h"
#include "overlay.h"

#define DEFAULT_CLIENT_KEY_FILE "/etc/netdisk/netdisk.key"
#define SYSFS_CONTROL "/sys/kernel/netdisk"
#define COPY_WINDOW 8		/* requests in flight per connection */
#define IO_TIMEOUT_S 120	/* a server silent this long is gone */

struct client_opts {
	const char *key_file;
	char identity[ND_NAME_SIZE];
	char server_name[ND_NAME_SIZE];	/* "": the URI's host */
	unsigned int connections;
	bool progress;
	bool json;
	uint64_t rekey_records;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("netdiskctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: netdiskctl keygen\n"
"       netdiskctl info [OPTIONS] netdisk://[IDENTITY@]HOST[:PORT][/EXPORT]\n"
"       netdiskctl copy [OPTIONS] SRC DST\n"
"       netdiskctl attach [OPTIONS] netdisk://[IDENTITY@]HOST[:PORT][/EXPORT]\n"
"       netdiskctl detach netdiskN|/dev/netdisk/NAME\n"
"       netdiskctl list\n"
"       netdiskctl overlay list DIR\n"
"       netdiskctl overlay reset DIR EXPORT IDENTITY\n"
"       netdiskctl overlay merge DIR EXPORT IDENTITY BASE NEW-IMAGE\n"
"\n"
"copy transfers a whole image; one of SRC and DST is a local file or block\n"
"device, or - for standard input or output, the other a netdisk:// URI.\n"
"\n"
"  -K, --key-file=PATH    key file: a bare key, or 'identity key' lines\n"
"                         (default: $NETDISK_KEY_FILE or " DEFAULT_CLIENT_KEY_FILE ")\n"
"  -i, --identity=NAME    identity to present (default: short host name)\n"
"  -S, --server-name=NAME the name the server must answer to (default: the\n"
"                         URI's host; an address in canonical form)\n"
"  -j, --connections=N    parallel connections (copy: 4; attach: the\n"
"                         module's default, min(CPUs, 4))\n"
"  -p, --progress         show progress (default when stderr is a terminal)\n"
"      --json             info, list: print JSON\n"
"  -h, --help             show this help\n");
}

static void load_key(const struct client_opts *o, uint8_t key[ND_KEY_SIZE])
{
	const char *path = o->key_file ? o->key_file : getenv("NETDISK_KEY_FILE");
	struct nd_keyring kr;
	char err[512];

	if (!path)
		path = DEFAULT_CLIENT_KEY_FILE;
	if (nd_keyring_load(&kr, path, false, err, sizeof(err)))
		die("%s", err);
	if (nd_keyring_lookup(&kr, o->identity, key) == ND_KEY_NONE)
		die("%s has no key for identity '%s'", path, o->identity);
	nd_keyring_free(&kr);
}

static void client_open(struct nd_client *c, const struct nd_uri *uri,
			const struct client_opts *o, const uint8_t key[ND_KEY_SIZE])
{
	char err[512];

	if (nd_client_open(c, uri, o->identity, o->server_name[0] ? o->server_name : NULL,
			   key, err, sizeof(err)))
		die("%s", err);
	nd_client_set_timeout(c, IO_TIMEOUT_S);
	if (o->rekey_records)
		c->s.rekey_records = o->rekey_records;
}

static int cmd_keygen(void)
{
	uint8_t key[ND_KEY_SIZE];
	char hex[2 * ND_KEY_SIZE + 1];

	if (nd_random(key, sizeof(key)))
		die("no random bytes available");
	nd_format_hex_key(key, hex);
	nd_wipe(key, sizeof(key));
	printf("%s\n", hex);
	return 0;
}

/* A JSON string: the names here are plain, but a URI is the user's text. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_info_json(const char *target, const struct nd_export_info *info)
{
	static const struct { uint32_t flag; const char *name; } features[] = {
		{ ND_INFO_FLUSH, "flush" },
		{ ND_INFO_FUA, "fua" },
		{ ND_INFO_TRIM, "trim" },
		{ ND_INFO_WRITE_ZEROES, "write-zeroes" },
	};
	const char *sep = "";

	printf("{\"uri\": ");
	json_string(target);
	printf(", \"size\": %llu, \"block_size\": %u, \"max_request\": %u, "
	       "\"read_only\": %s, \"features\": [",
	       (unsigned long long)info->size, info->block_size, info->max_io,
	       info->flags & ND_INFO_READ_ONLY ? "true" : "false");
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (info->flags & features[i].flag) {
			printf("%s\"%s\"", sep, features[i].name);
			sep = ", ";
		}
	}
	printf("]}\n");
}

static int cmd_info(const struct client_opts *o, const char *target)
{
	uint8_t key[ND_KEY_SIZE];
	struct nd_client c;
	struct nd_uri uri;
	char err[512];
	uint32_t f;

	if (nd_uri_parse(target, &uri, err, sizeof(err)))
		die("%s", err);
	load_key(o, key);
	client_open(&c, &uri, o, key);
	f = c.info.flags;
	if (o->json) {
		print_info_json(target, &c.info);
		goto out;
	}
	printf("size: %llu\n", (unsigned long long)c.info.size);
	printf("block size: %u\n", c.info.block_size);
	printf("max request: %u\n", c.info.max_io);
	printf("read-only: %s\n", f & ND_INFO_READ_ONLY ? "yes" : "no");
	printf("features:%s%s%s%s\n", f & ND_INFO_FLUSH ? " flush" : "",
	       f & ND_INFO_FUA ? " fua" : "", f & ND_INFO_TRIM ? " trim" : "",
	       f & ND_INFO_WRITE_ZEROES ? " write-zeroes" : "");
out:
	nd_client_close(&c);
	nd_wipe(key, sizeof(key));
	return 0;
}

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
	char error[512];
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

	if (nd_client_open(&c, cp->uri, cp->o->identity,
			   cp->o->server_name[0] ? cp->o->server_name : NULL, cp->key,
			   err, sizeof(err))) {
		copy_fail(cp, "%s", err);
		return NULL;
	}
	nd_client_set_timeout(&c, IO_TIMEOUT_S);
	if (cp->o->rekey_records)
		c.s.rekey_records = cp->o->rekey_records;
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
		die("%s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size))
			die("%s: %s", path, strerror(errno));
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
		die("cannot create a file beside %s: %s", path, strerror(errno));
	fchmod(fd, 0644 & ~current_umask());
	return fd;
}

static int cmd_copy(const struct client_opts *o, const char *src, const char *dst)
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
	unsigned int o_connections = o->connections;
	uint64_t probe_size;

	if (nd_is_uri(src) == nd_is_uri(dst))
		die("copy needs exactly one netdisk:// URI and one local path "
		    "(to copy between servers, copy through a local file)");
	cp.upload = nd_is_uri(dst);
	remote = cp.upload ? dst : src;
	local = cp.upload ? src : dst;
	if (nd_uri_parse(remote, &uri, err, sizeof(err)))
		die("%s", err);
	load_key(o, key);
	cp.uri = &uri;
	cp.key = key;
	client_open(&probe, &uri, o, key);
	cp.chunk = probe.info.max_io;
	cp.stream = !strcmp(local, "-");
	if (cp.upload && probe.info.flags & ND_INFO_READ_ONLY)
		die("%s: export is read-only", remote);
	if (cp.stream) {
		cp.local_fd = cp.upload ? STDIN_FILENO : STDOUT_FILENO;
		cp.size = probe.info.size;
		o_connections = 1;
	} else if (cp.upload) {
		cp.local_fd = open(local, O_RDONLY | O_CLOEXEC);
		if (cp.local_fd < 0)
			die("%s: %s", local, strerror(errno));
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
				die("%s: %s", local, strerror(errno));
			if (local_size(cp.local_fd, local) < cp.size)
				die("%s is smaller than %s (%llu bytes)", local, remote,
				    (unsigned long long)cp.size);
		} else {
			/* a file: written aside, renamed over the target only when whole */
			cp.local_fd = open_temp_beside(local, temp, sizeof(temp));
			if (ftruncate(cp.local_fd, (off_t)cp.size))
				die("%s: %s", temp, strerror(errno));
			cp.sparse_ok = true;
		}
	}
	probe_size = probe.info.size;
	nd_client_close(&probe);

	/* a stream's size may shrink under its worker: no progress bar */
	show = !cp.stream && (o->progress || isatty(2));
	t0 = now();
	for (; started < o_connections; started++)
		if (pthread_create(&threads[started], NULL, copy_worker, &cp))
			break;
	if (!started) {
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
		die("copy failed: %s%s", cp.error, temp[0] ? "; the target is unchanged" : "");
	return 0;
}

static int write_control(const char *file, const char *text)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", SYSFS_CONTROL, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void ensure_module(void)
{
	struct stat st;

	if (!stat(SYSFS_CONTROL, &st))
		return;
	if (system("modprobe netdisk") != 0 || stat(SYSFS_CONTROL, &st))
		die("the netdisk kernel module is not loaded and 'modprobe netdisk' failed");
}

/* Disk names present now, as a bit per index below 256. */
static void disk_set(uint8_t set[32])
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	unsigned int n;

	memset(set, 0, 32);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (sscanf(e->d_name, "netdisk%u", &n) == 1 && n < 256)
			set[n / 8] |= (uint8_t)(1 << (n % 8));
	closedir(d);
}

static int cmd_attach(const struct client_opts *o, const char *target)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char err[512], addr[INET6_ADDRSTRLEN], hex[2 * ND_KEY_SIZE + 1];
	char cmd[512], conns[32] = "", server[ND_NAME_SIZE];
	uint8_t key[ND_KEY_SIZE], before[32], after[32];
	struct nd_uri uri;
	int rc;

	if (nd_uri_parse(target, &uri, err, sizeof(err)))
		die("%s", err);
	rc = getaddrinfo(uri.host, NULL, &hints, &ai);
	if (rc)
		die("cannot resolve %s: %s", uri.host, gai_strerror(rc));
	getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(ai);
	if (o->server_name[0])
		strcpy(server, o->server_name);
	else if (nd_server_name_of(uri.host, server))
		die("'%s' cannot be sent as the server's name; give --server-name", uri.host);
	load_key(o, key);
	nd_format_hex_key(key, hex);
	nd_wipe(key, sizeof(key));
	if (o->connections)
		snprintf(conns, sizeof(conns), " connections=%u", o->connections);
	snprintf(cmd, sizeof(cmd), "address=%s port=%s export=%s identity=%s server=%s%s key=%s",
		 addr, uri.port, uri.export_name, o->identity, server, conns, hex);
	nd_wipe(hex, sizeof(hex));
	ensure_module();
	disk_set(before);
	rc = write_control("attach", cmd);
	nd_wipe(cmd, sizeof(cmd));
	if (rc == -EKEYREJECTED)
		die("%s rejected the key for identity '%s'", target, o->identity);
	if (rc == -ENOENT)
		die("%s: no such export", target);
	if (rc == -EACCES)
		die("%s: identity '%s' is not allowed on this export", target, o->identity);
	if (rc)
		die("attaching %s failed: %s (see the kernel log)", target, strerror(-rc));
	disk_set(after);
	for (unsigned int i = 0; i < 256; i++)
		if ((after[i / 8] & ~before[i / 8]) & (1 << (i % 8)))
			printf("netdisk%u\n", i);
	return 0;
}

static int cmd_detach(const char *name)
{
	char resolved[PATH_MAX];
	const char *base;
	int rc;

	if (strchr(name, '/') && realpath(name, resolved))
		name = resolved;
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (strncmp(base, "netdisk", 7))
		die("'%s' is not a netdisk device", name);
	rc = write_control("detach", base);
	if (rc)
		die("detaching %s failed: %s", base, rc == -ENODEV ? "no such disk" :
		    strerror(-rc));
	return 0;
}

static void read_attr(const char *disk, const char *attr, char *out, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/netdisk/%s", disk, attr);
	out[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static int cmd_list(const struct client_opts *o)
{
	struct dirent **names;
	int n = scandir("/sys/block", &names, NULL, versionsort);
	const char *sep = "";

	if (n < 0)
		die("/sys/block: %s", strerror(errno));
	if (o->json)
		printf("[");
	else
		printf("%-10s %-24s %-6s %-16s %-16s %s\n", "DISK", "HOST", "PORT",
		       "EXPORT", "IDENTITY", "STATE");
	for (int i = 0; i < n; i++) {
		char host[80], port[16], exp[80], id[80], state[32];
		const char *d = names[i]->d_name;

		if (!strncmp(d, "netdisk", 7)) {
			read_attr(d, "host", host, sizeof(host));
			read_attr(d, "port", port, sizeof(port));
			read_attr(d, "export", exp, sizeof(exp));
			read_attr(d, "identity", id, sizeof(id));
			read_attr(d, "state", state, sizeof(state));
			if (o->json) {
				/* sysfs gives names the module validated: no escapes */
				printf("%s{\"disk\": \"%s\", \"host\": \"%s\", \"port\": %s, "
				       "\"export\": \"%s\", \"identity\": \"%s\", "
				       "\"state\": \"%s\"}", sep, d, host, port[0] ? port : "0",
				       exp, id, state);
				sep = ", ";
			} else {
				printf("%-10s %-24s %-6s %-16s %-16s %s\n", d, host, port,
				       exp[0] ? exp : "(default)", id, state);
			}
		}
		free(names[i]);
	}
	free(names);
	if (o->json)
		printf("]\n");
	return 0;
}

static void check_names(const char *export_name, const char *identity)
{
	if (!*export_name || !nd_valid_export_name(export_name))
		die("invalid export name '%s'", export_name);
	if (identity && !nd_valid_identity(identity))
		die("invalid identity '%s'", identity);
}

/* DIR/EXPORT/IDENTITY.map for every export under DIR */
static int cmd_overlay_list(const char *dir)
{
	struct dirent **exports;
	int ne = scandir(dir, &exports, NULL, alphasort);

	if (ne < 0)
		die("%s: %s", dir, strerror(errno));
	printf("%-24s %-32s %14s %s\n", "EXPORT", "IDENTITY", "BYTES", "STATE");
	for (int i = 0; i < ne; i++) {
		char sub[4096];
		struct dirent **names;
		int n;

		snprintf(sub, sizeof(sub), "%s/%s", dir, exports[i]->d_name);
		n = exports[i]->d_name[0] == '.' ? -1 : scandir(sub, &names, NULL, alphasort);
		for (int j = 0; j < n; j++) {
			char *name = names[j]->d_name, path[8192], exp[ND_NAME_SIZE];
			size_t len = strlen(name);
			uint64_t blocks;
			bool busy;
			int ret;

			if (len > 4 && !strcmp(name + len - 4, ".map")) {
				snprintf(path, sizeof(path), "%s/%s", sub, name);
				ret = overlay_inspect(path, exp, &blocks, &busy);
				name[len - 4] = '\0';
				if (ret)
					printf("%-24s %-32s %14s %s\n", exports[i]->d_name, name,
					       "?", strerror(-ret));
				else
					printf("%-24s %-32s %14llu %s\n", exp, name,
					       (unsigned long long)blocks * OVERLAY_BLOCK,
					       busy ? "in use" : "idle");
			}
			free(names[j]);
		}
		if (n >= 0)
			free(names);
		free(exports[i]);
	}
	free(exports);
	return 0;
}

static int cmd_overlay_reset(const char *dir, const char *export_name,
			     const char *identity)
{
	int ret;

	check_names(export_name, identity);
	ret = overlay_reset(dir, export_name, identity);
	if (ret == -ENOENT)
		die("export '%s' has no overlay for '%s' in %s", export_name, identity, dir);
	if (ret == -EBUSY)
		die("the overlay of '%s' on '%s' is in use: disconnect that client first",
		    identity, export_name);
	if (ret)
		die("resetting the overlay of '%s' on '%s': %s", identity, export_name,
		    strerror(-ret));
	return 0;
}

static int cmd_overlay_merge(const char *dir, const char *export_name,
			     const char *identity, const char *base, const char *out)
{
	static uint8_t buf[1 << 20];
	struct file_backend bf;
	struct overlay ov;
	char err[512];
	uint64_t size;
	int ofd, ret;

	check_names(export_name, identity);
	if (file_backend_open(&bf, base, true, err, sizeof(err)))
		die("%s", err);
	size = bf.b.size;
	if (overlay_open(&ov, dir, export_name, identity, &bf.b, err, sizeof(err)))
		die("%s", err[0] ? err : "cannot open the overlay");
	if (ov.data_fd < 0)
		die("export '%s' has no overlay for '%s' in %s", export_name, identity, dir);
	ofd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (ofd < 0)
		die("%s: %s", out, strerror(errno));
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);

		ret = overlay_read(&ov, buf, n, off);
		if (ret)
			die("reading at %llu: %s", (unsigned long long)off, strerror(-ret));
		ret = nd_pwrite_full(ofd, buf, n, off);
		if (ret)
			die("%s: %s", out, strerror(-ret));
	}
	if (fsync(ofd) || close(ofd))
		die("%s: %s", out, strerror(errno));
	overlay_close(&ov);
	file_backend_close(&bf);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key-file", required_argument, NULL, 'K' },
		{ "identity", required_argument, NULL, 'i' },
		{ "server-name", required_argument, NULL, 'S' },
		{ "connections", required_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'J' },
		{ "rekey-records", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_opts o = { 0 };
	const char *cmd;
	char *end;
	int opt;

	/* options may come before the command or after it: getopt permutes */
	while ((opt = getopt_long(argc, argv, "K:i:S:j:phV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'K':
			o.key_file = optarg;
			break;
		case 'i':
			if (strlen(optarg) >= ND_NAME_SIZE || !nd_valid_identity(optarg))
				die("invalid identity '%s' (1-63 of A-Z a-z 0-9 . _ : @ -)", optarg);
			strcpy(o.identity, optarg);
			break;
		case 'S':
			if (strlen(optarg) >= ND_NAME_SIZE || !nd_valid_server_name(optarg))
				die("invalid server name '%s' (1-63 of A-Z a-z 0-9 . _ : @ -)",
				    optarg);
			strcpy(o.server_name, optarg);
			break;
		case 'j':
			o.connections = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || o.connections < 1 || o.connections > 64)
				die("--connections takes 1..64");
			break;
		case 'p':
			o.progress = true;
			break;
		case 'J':
			o.json = true;
			break;
		case 'R':
			o.rekey_records = strtoull(optarg, &end, 10);
			if (*end || !o.rekey_records)
				die("--rekey-records takes a positive number");
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("netdiskctl %s (protocol %d)\n", NETDISK_VERSION, ND_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "keygen") && optind == argc)
		return cmd_keygen();
	if (!strcmp(cmd, "list") && optind == argc)
		return cmd_list(&o);
	if (!strcmp(cmd, "overlay") && optind + 2 == argc && !strcmp(argv[optind], "list"))
		return cmd_overlay_list(argv[optind + 1]);
	if (!strcmp(cmd, "overlay") && optind + 4 == argc && !strcmp(argv[optind], "reset"))
		return cmd_overlay_reset(argv[optind + 1], argv[optind + 2], argv[optind + 3]);
	if (!strcmp(cmd, "overlay") && optind + 6 == argc && !strcmp(argv[optind], "merge"))
		return cmd_overlay_merge(argv[optind + 1], argv[optind + 2], argv[optind + 3],
					 argv[optind + 4], argv[optind + 5]);
	if (!strcmp(cmd, "detach") && optind + 1 == argc)
		return cmd_detach(argv[optind]);
	/* an identity in a URI (IDENTITY@HOST) counts as --identity */
	for (int i = optind; i < argc; i++) {
		struct nd_uri u;
		char err[512];

		if (!nd_is_uri(argv[i]))
			continue;
		if (nd_uri_parse(argv[i], &u, err, sizeof(err)))
			die("%s", err);
		if (u.identity[0] && o.identity[0] && strcmp(u.identity, o.identity))
			die("%s names identity '%s', but --identity says '%s'", argv[i],
			    u.identity, o.identity);
		if (u.identity[0])
			strcpy(o.identity, u.identity);
	}
	if (!o.identity[0] && nd_default_identity(o.identity))
		die("the host name is not a valid identity; give --identity");
	if (!strcmp(cmd, "info") && optind + 1 == argc)
		return cmd_info(&o, argv[optind]);
	if (!strcmp(cmd, "copy") && optind + 2 == argc) {
		if (!o.connections)
			o.connections = 4;
		return cmd_copy(&o, argv[optind], argv[optind + 1]);
	}
	if (!strcmp(cmd, "attach") && optind + 1 == argc)
		return cmd_attach(&o, argv[optind]);
	usage(stderr);
	return 2;
}
