// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * A program on libnetdisk's public API alone, as any user of libnetdisk-dev
 * writes one; test_libnetdisk.py drives it.
 *   ndlib KEYFILE IDENTITY URI OP...
 * OPs, run in order on one handle:
 *   info | list | flush | write OFF LEN [fua] | check OFF LEN (reads, and
 *   compares with what write wrote) | dump OFF LEN FILE | zero OFF LEN [fua] |
 *   trim OFF LEN [fua] | threads N LEN (N threads write and check their own
 *   LEN-byte range of the one handle at once) | expect-errno ERRNO (the next
 *   OP must fail with it)
 * A failure prints "ndlib: errno N: message" and exits 1.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libnetdisk.h"

static struct netdisk *nd;
static int expect_errno;
/* a worker thread's error: libnetdisk keeps errors per thread */
static int worker_errno;
static char worker_error[1024];
static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t word_at(uint64_t off)
{
	return off * 0x9E3779B97F4A7C15ULL;
}

/*
 * test_netdiskd.pattern(off, len): little-endian 64-bit words of offset *
 * phi, the words counted from off.
 */
static void fill(uint8_t *p, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(word_at(off + (i & ~(size_t)7)) >> (8 * (i & 7)));
}

static int failed(const char *op)
{
	int e = worker_errno ? worker_errno : netdisk_get_errno();
	const char *msg = worker_errno ? worker_error : netdisk_get_error();

	if (expect_errno) {
		if (e != expect_errno) {
			fprintf(stderr, "ndlib: %s: errno %d, not %d: %s\n", op, e, expect_errno,
				msg);
			exit(1);
		}
		printf("%s: errno %d: %s\n", op, e, msg);
		expect_errno = 0;
		worker_errno = 0;
		return 0;
	}
	fprintf(stderr, "ndlib: errno %d: %s: %s\n", e, op, msg);
	exit(1);
}

static void succeeded(const char *op)
{
	if (expect_errno) {
		fprintf(stderr, "ndlib: %s succeeded; expected errno %d\n", op, expect_errno);
		exit(1);
	}
}

static int check_range(uint64_t off, size_t len)
{
	uint8_t *got = malloc(len ? len : 1), *want = malloc(len ? len : 1);
	int ret = netdisk_pread(nd, got, len, off, 0);

	if (!got || !want)
		abort();
	if (!ret) {
		fill(want, off, len);
		if (memcmp(got, want, len)) {
			fprintf(stderr, "ndlib: %zu bytes at %llu differ from what was written\n",
				len, (unsigned long long)off);
			exit(1);
		}
	}
	free(got);
	free(want);
	return ret;
}

static int write_range(uint64_t off, size_t len, uint32_t flags)
{
	uint8_t *p = malloc(len ? len : 1);
	int ret;

	if (!p)
		abort();
	fill(p, off, len);
	ret = netdisk_pwrite(nd, p, len, off, flags);
	free(p);
	return ret;
}

struct worker {
	pthread_t t;
	uint64_t off;
	size_t len;
	int ret;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int round = 0; round < 4 && !w->ret; round++)
		w->ret = write_range(w->off, w->len, round & 1 ? NETDISK_CMD_FLAG_FUA : 0) ||
			 check_range(w->off, w->len);
	if (w->ret) {
		pthread_mutex_lock(&worker_lock);
		if (!worker_errno) {
			worker_errno = netdisk_get_errno();
			snprintf(worker_error, sizeof(worker_error), "%s", netdisk_get_error());
		}
		pthread_mutex_unlock(&worker_lock);
	}
	return NULL;
}

static int threads(unsigned int n, size_t len)
{
	struct worker *w = calloc(n, sizeof(*w));
	int ret = 0;

	for (unsigned int i = 0; i < n; i++) {
		w[i].off = (uint64_t)i * len;
		w[i].len = len;
		pthread_create(&w[i].t, NULL, work, &w[i]);
	}
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		ret |= w[i].ret;
	}
	free(w);
	return ret ? -1 : 0;
}

static int print_export(void *opaque, const char *name, uint64_t size, uint32_t flags)
{
	(void)opaque;
	printf("export %s %llu %s\n", name, (unsigned long long)size,
	       flags & NETDISK_EXPORT_READ_ONLY ? "ro" : "rw");
	return 0;
}

static int dump(uint64_t off, size_t len, const char *path)
{
	uint8_t *p = malloc(len ? len : 1);
	FILE *f;
	int ret;

	if (!p)
		abort();
	ret = netdisk_pread(nd, p, len, off, 0);
	if (!ret) {
		f = fopen(path, "wb");
		if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
			perror(path);
			exit(1);
		}
	}
	free(p);
	return ret;
}

int main(int argc, char **argv)
{
	const char *uri;
	bool connected = false;
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: ndlib KEYFILE IDENTITY URI OP...\n");
		return 2;
	}
	uri = argv[3];
	nd = netdisk_create();
	if (!nd || netdisk_set_key_file(nd, argv[1]) || netdisk_set_identity(nd, argv[2]) ||
	    netdisk_set_timeout(nd, 60))
		return failed("setup");
	for (i = 4; i < argc; i++) {
		const char *op = argv[i];
		uint64_t off = 0;
		size_t len = 0;
		uint32_t flags = 0;
		int ret;

		if (!strcmp(op, "expect-errno") && i + 1 < argc) {
			expect_errno = atoi(argv[++i]);
			continue;
		}
		if (!strcmp(op, "list")) {
			ret = netdisk_list_exports(nd, uri, print_export, NULL);
			if (ret < 0)
				failed(op);
			else
				succeeded(op);
			continue;
		}
		if (!connected) {
			if (netdisk_connect_uri(nd, uri)) {
				failed("connect");
				continue;
			}
			connected = true;
		}
		if (!strcmp(op, "write") || !strcmp(op, "check") || !strcmp(op, "dump") ||
		    !strcmp(op, "zero") || !strcmp(op, "trim") || !strcmp(op, "threads")) {
			if (i + 2 >= argc)
				return fprintf(stderr, "ndlib: %s needs two numbers\n", op), 2;
			off = strtoull(argv[++i], NULL, 0);
			len = strtoull(argv[++i], NULL, 0);
			if (i + 1 < argc && !strcmp(argv[i + 1], "fua")) {
				flags = NETDISK_CMD_FLAG_FUA;
				i++;
			}
		}
		if (!strcmp(op, "info")) {
			uint64_t v = 0;

			ret = netdisk_get_verifier(nd, &v);
			printf("size %lld block %lld max %lld ro %d flush %d fua %d trim %d zero %d "
			       "verifier %016llx\n",
			       (long long)netdisk_get_size(nd), (long long)netdisk_get_block_size(nd),
			       (long long)netdisk_get_max_request(nd), netdisk_is_read_only(nd),
			       netdisk_can_flush(nd), netdisk_can_fua(nd), netdisk_can_trim(nd),
			       netdisk_can_zero(nd), (unsigned long long)v);
		} else if (!strcmp(op, "flush")) {
			ret = netdisk_flush(nd, 0);
		} else if (!strcmp(op, "write")) {
			ret = write_range(off, len, flags);
		} else if (!strcmp(op, "check")) {
			ret = check_range(off, len);
		} else if (!strcmp(op, "dump")) {
			if (++i >= argc)
				return fprintf(stderr, "ndlib: dump needs a file\n"), 2;
			ret = dump(off, len, argv[i]);
		} else if (!strcmp(op, "zero")) {
			ret = netdisk_zero(nd, len, off, flags);
		} else if (!strcmp(op, "trim")) {
			ret = netdisk_trim(nd, len, off, flags);
		} else if (!strcmp(op, "threads")) {
			ret = threads((unsigned int)off, len);
		} else {
			fprintf(stderr, "ndlib: unknown op '%s'\n", op);
			return 2;
		}
		if (ret)
			failed(op);
		else
			succeeded(op);
	}
	netdisk_close(nd);
	printf("ok\n");
	return 0;
}
