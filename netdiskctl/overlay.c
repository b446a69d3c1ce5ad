// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * netdiskctl overlay: netdiskd's copy-on-write overlays, by export name as
 * netdiskd.conf names them, through netdiskd's own config and overlay code.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "nd_fileio.h"
#include "netdiskctl.h"
#include "overlay.h"

#define MERGE_CHUNK (1U << 20)
#define HOLE_BLOCK 4096		/* all-zero blocks of this size stay holes */

static void load_config(const struct client_opts *o, struct server_config *cfg)
{
	const char *path = o->config_path ? o->config_path : DEFAULT_CONFIG_PATH;
	char err[1024];

	if (config_load(cfg, path, err, sizeof(err)))
		die("%s", err);
}

/* The copy-on-write export of that name, or exit with why not. */
static const struct export_config *cow_export(const struct client_opts *o,
					      const struct server_config *cfg,
					      const char *name)
{
	const struct export_config *ec = config_find_export(cfg, name);
	const char *path = o->config_path ? o->config_path : DEFAULT_CONFIG_PATH;

	if (!ec)
		die_status(EXIT_NO_EXPORT, "%s has no export '%s'", path, name);
	if (!ec->cow_dir)
		die_status(EXIT_NO_EXPORT, "export '%s' in %s is not copy-on-write "
			   "(it has no copy-on-write = DIR)", name, path);
	return ec;
}

static void check_identity(const char *identity)
{
	if (!nd_valid_identity(identity))
		die_status(EXIT_USAGE, "invalid identity '%s'", identity);
}

/* Identity names are [A-Za-z0-9._:@-], export names too: no JSON escapes. */
static void print_overlay(const struct client_opts *o, bool *first, const char *export_name,
			  const char *identity, const char *bytes, const char *state)
{
	if (o->json)
		printf("%s{\"export\": \"%s\", \"identity\": \"%s\", \"bytes\": %s, "
		       "\"state\": \"%s\"}", *first ? "" : ", ", export_name, identity,
		       bytes, state);
	else
		printf("%-24s %-32s %14s %s\n", export_name, identity, bytes, state);
	*first = false;
}

/* every IDENTITY.map in the export's overlay directory, by name */
static void list_export(const struct client_opts *o, const struct export_config *ec,
			bool *first)
{
	char sub[PATH_MAX + ND_NAME_SIZE + 2];
	struct dirent **names;
	int n;

	snprintf(sub, sizeof(sub), "%s/%s", ec->cow_dir, ec->name);
	n = scandir(sub, &names, NULL, alphasort);
	if (n < 0 && errno == ENOENT)
		return;		/* no identity has written yet */
	if (n < 0)
		die("%s: %s", sub, strerror(errno));
	for (int j = 0; j < n; j++) {
		char *name = names[j]->d_name, path[sizeof(sub) + 256], exp[ND_NAME_SIZE];
		char bytes[32];
		size_t len = strlen(name);
		uint64_t blocks;
		bool busy;
		int ret;

		if (len > 4 && !strcmp(name + len - 4, ".map")) {
			snprintf(path, sizeof(path), "%s/%s", sub, name);
			ret = overlay_inspect(path, exp, &blocks, &busy);
			name[len - 4] = '\0';
			if (ret) {
				print_overlay(o, first, ec->name, name, o->json ? "null" : "?",
					      strerror(-ret));
			} else {
				snprintf(bytes, sizeof(bytes), "%llu",
					 (unsigned long long)blocks * OVERLAY_BLOCK);
				print_overlay(o, first, ec->name, name, bytes,
					      busy ? "in use" : "idle");
			}
		}
		free(names[j]);
	}
	free(names);
}

int cmd_overlay_list(const struct client_opts *o, const char *export_name)
{
	struct server_config cfg = { 0 };
	bool first = true;

	load_config(o, &cfg);
	if (o->json)
		printf("[");
	else
		printf("%-24s %-32s %14s %s\n", "EXPORT", "IDENTITY", "BYTES", "STATE");
	if (export_name) {
		list_export(o, cow_export(o, &cfg, export_name), &first);
	} else {
		for (size_t i = 0; i < cfg.export_count; i++)
			if (cfg.exports[i].cow_dir)
				list_export(o, &cfg.exports[i], &first);
	}
	if (o->json)
		printf("]\n");
	config_free(&cfg);
	return 0;
}

int cmd_overlay_reset(const struct client_opts *o, const char *export_name,
		      const char *identity)
{
	struct server_config cfg = { 0 };
	const struct export_config *ec;
	int ret;

	check_identity(identity);
	load_config(o, &cfg);
	ec = cow_export(o, &cfg, export_name);
	ret = overlay_reset(ec->cow_dir, export_name, identity);
	if (ret == -ENOENT)
		die_status(EXIT_NO_EXPORT, "export '%s' has no overlay for '%s' in %s",
			   export_name, identity, ec->cow_dir);
	if (ret == -EBUSY)
		die_status(EXIT_BUSY, "the overlay of '%s' on '%s' is in use: disconnect "
			   "that client first", identity, export_name);
	if (ret)
		die_status(EXIT_IO, "resetting the overlay of '%s' on '%s': %s", identity,
			   export_name, strerror(-ret));
	config_free(&cfg);
	return 0;
}

/*
 * The merge's output is made unnamed (O_TMPFILE) in the target's directory
 * and linked to its name only once complete, so a failure or a signal
 * leaves nothing behind. Where the file system has no O_TMPFILE it is a
 * named temporary file, removed on failure and on the signals below.
 */
static char partial[PATH_MAX + 32];	/* the named temporary file, "" if none */

static void remove_partial(void)
{
	if (partial[0])
		unlink(partial);
}

static void remove_partial_on_signal(int sig)
{
	remove_partial();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int open_output(const char *out, char *dir_out, size_t dir_len)
{
	char copy[PATH_MAX];
	struct sigaction sa = { .sa_handler = remove_partial_on_signal };
	int fd;

	if (strlen(out) >= sizeof(copy))
		die_status(EXIT_USAGE, "%s: the name is too long", out);
	if (!access(out, F_OK))
		die_status(EXIT_USAGE, "%s exists: merge writes a new image", out);
	strcpy(copy, out);
	snprintf(dir_out, dir_len, "%s", dirname(copy));
	fd = open(dir_out, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	snprintf(partial, sizeof(partial), "%s.partial-XXXXXX", out);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	atexit(remove_partial);
	fd = mkostemp(partial, O_CLOEXEC);
	if (fd < 0)
		partial[0] = '\0';
	else
		fchmod(fd, 0644);
	return fd;
}

/* Gives the finished output its name; never replaces a file. */
static int publish_output(int fd, const char *out, const char *dir)
{
	char proc[64];
	int dfd, ret;

	if (partial[0]) {
		ret = link(partial, out);
		if (!ret) {
			unlink(partial);
			partial[0] = '\0';
		}
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		ret = linkat(AT_FDCWD, proc, AT_FDCWD, out, AT_SYMLINK_FOLLOW);
	}
	if (ret)
		return -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return !len || (p[0] == 0 && !memcmp(p, p + 1, len - 1));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show_progress(uint64_t done, uint64_t size, bool last)
{
	fprintf(stderr, "\rmerging: %llu of %llu MiB (%u%%)%s",
		(unsigned long long)(done >> 20), (unsigned long long)(size >> 20),
		size ? (unsigned int)(done * 100 / size) : 100, last ? "\n" : "");
}

int cmd_overlay_merge(const struct client_opts *o, const char *export_name,
		      const char *identity, const char *out)
{
	struct server_config cfg = { 0 };
	const struct export_config *ec;
	char err[1024], dir[PATH_MAX];
	bool progress = o->progress || isatty(2);
	struct file_backend bf;
	struct overlay ov;
	double shown = 0;
	uint64_t size;
	uint8_t *buf;
	int ofd, ret;

	check_identity(identity);
	load_config(o, &cfg);
	ec = cow_export(o, &cfg, export_name);
	if (file_backend_open(&bf, ec->path, true, err, sizeof(err)))
		die_status(EXIT_IO, "%s", err);
	size = bf.b.size;
	ret = overlay_open(&ov, ec->cow_dir, export_name, identity, &bf.b, err, sizeof(err));
	if (ret == -EBUSY)
		die_status(EXIT_BUSY, "the overlay of '%s' on '%s' is in use: disconnect "
			   "that client first", identity, export_name);
	if (ret)
		die_status(EXIT_IO, "%s", err[0] ? err : "cannot open the overlay");
	if (ov.data_fd < 0)
		die_status(EXIT_NO_EXPORT, "export '%s' has no overlay for '%s' in %s",
			   export_name, identity, ec->cow_dir);
	buf = malloc(MERGE_CHUNK);
	if (!buf)
		die("out of memory");
	ofd = open_output(out, dir, sizeof(dir));
	if (ofd < 0)
		die_status(EXIT_IO, "%s: %s", out, strerror(errno));
	for (uint64_t off = 0; off < size; off += MERGE_CHUNK) {
		size_t n = size - off < MERGE_CHUNK ? (size_t)(size - off) : MERGE_CHUNK;

		ret = overlay_read(&ov, buf, n, off);
		if (ret)
			die_status(EXIT_IO, "reading %s at offset %llu: %s", export_name,
				   (unsigned long long)off, strerror(-ret));
		for (size_t b = 0; b < n; b += HOLE_BLOCK) {
			size_t len = n - b < HOLE_BLOCK ? n - b : HOLE_BLOCK;

			if (all_zero(buf + b, len))
				continue;	/* a hole: ftruncate below gives the size */
			ret = nd_pwrite_full(ofd, buf + b, len, off + b);
			if (ret)
				die_status(EXIT_IO, "writing %s at offset %llu: %s", out,
					   (unsigned long long)(off + b), strerror(-ret));
		}
		if (progress && now_s() - shown >= 0.5) {
			show_progress(off + n, size, false);
			shown = now_s();
		}
	}
	if (ftruncate(ofd, (off_t)size) || fsync(ofd))
		die_status(EXIT_IO, "%s: %s", out, strerror(errno));
	ret = publish_output(ofd, out, dir);
	if (ret)
		die_status(ret == -EEXIST ? EXIT_USAGE : EXIT_IO, "%s: %s", out, strerror(-ret));
	if (close(ofd))
		die_status(EXIT_IO, "%s: %s", out, strerror(errno));
	if (progress)
		show_progress(size, size, true);
	free(buf);
	overlay_close(&ov);
	file_backend_close(&bf);
	config_free(&cfg);
	return 0;
}
