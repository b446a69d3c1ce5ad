// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * The power-cut test's client (tests/vm/power-cut). Every 4 KiB block it
 * writes identifies itself: generation, write number and block number in
 * its first 16 bytes, the rest derived from them, so that a block read back
 * says which write it came from, and whether it is torn.
 *
 *   ndpowercut write KEYFILE IDENTITY URI GEN
 *       writes generation GEN until killed, four requests in flight, a
 *       FLUSH after every eighth write; prints "flushed GEN N" once writes
 *       0..N-1 are acknowledged and a FLUSH sent after them completed. A
 *       write that overlaps one in flight waits for its reply, because the
 *       server may run requests in flight together in any order.
 *   ndpowercut check KEYFILE IDENTITY URI GEN FLUSHED TAGS
 *       reads the whole export and checks it against TAGS, the blocks'
 *       origins after generation GEN-1 (a file of 8-byte tags, created as
 *       all-base if missing): a block holds what the last flushed write of
 *       GEN put there (or its TAGS origin if none did), or any write of GEN
 *       from FLUSHED on. Rewrites TAGS with what it found.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nd_client.h"
#include "nd_fileio.h"
#include "nd_keys.h"

#define BLK 4096
#define MAGIC 0x4e445043u		/* "NDPC" */
#define MAX_BLOCKS_PER_WRITE 64
#define MAX_WRITES (1u << 20)

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Where write i of generation gen goes: whole blocks only. */
static void placement(uint32_t gen, uint32_t i, uint64_t nblocks, uint64_t *first,
		      uint32_t *count)
{
	uint64_t r = mix((uint64_t)gen << 32 | i);

	*count = 1 + (uint32_t)(r % MAX_BLOCKS_PER_WRITE);
	*first = (r >> 16) % (nblocks - MAX_BLOCKS_PER_WRITE);
}

static void fill_block(uint8_t *p, uint32_t gen, uint32_t i, uint64_t b)
{
	uint32_t head[4] = { gen, i, (uint32_t)b, MAGIC };

	memcpy(p, head, sizeof(head));
	for (size_t w = 2; w < BLK / 8; w++) {
		uint64_t v = mix(((uint64_t)gen << 48) ^ ((uint64_t)i << 24) ^ (b << 9) ^ w);

		memcpy(p + w * 8, &v, 8);
	}
}

/* The block's origin as a tag (gen << 32 | write), 0 for the base; -1: torn. */
static int64_t tag_of(const uint8_t *p, uint64_t b)
{
	static const uint8_t zero[BLK];
	uint8_t want[BLK];
	uint32_t head[4];

	if (!memcmp(p, zero, BLK))
		return 0;
	memcpy(head, p, sizeof(head));
	if (head[3] != MAGIC || head[2] != (uint32_t)b || !head[0])
		return -1;
	fill_block(want, head[0], head[1], b);
	if (memcmp(p, want, BLK))
		return -1;
	return (int64_t)((uint64_t)head[0] << 32 | head[1]);
}

static void die(const char *what, struct nd_client *c)
{
	fprintf(stderr, "ndpowercut: %s: %s\n", what, c ? (c->s.error[0] ? c->s.error :
							     c->s.send_error) : strerror(errno));
	exit(1);
}

static void expect_ok(struct nd_client *c, struct nd_client_reply *r)
{
	if (nd_client_recv(c, r))
		die("receive", c);
	if (r->status) {
		fprintf(stderr, "ndpowercut: request %llu: %s\n",
			(unsigned long long)r->handle, nd_status_name(r->status));
		exit(1);
	}
}

static bool overlap(uint32_t gen, uint32_t i, uint32_t j, uint64_t nblocks)
{
	uint64_t fi, fj;
	uint32_t ci, cj;

	placement(gen, i, nblocks, &fi, &ci);
	placement(gen, j, nblocks, &fj, &cj);
	return fi < fj + cj && fj < fi + ci;
}

/* Whether write i may be sent now: it overlaps none of the n in flight. */
static bool may_send(uint32_t gen, uint32_t i, uint64_t nblocks, const uint32_t *inflight,
		     unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		if (overlap(gen, i, inflight[k], nblocks))
			return false;
	return true;
}

/*
 * Batches of eight writes, four in flight but no two overlapping; each batch
 * acknowledged, then flushed.
 */
static int cmd_write(struct nd_client *c, uint32_t gen)
{
	uint64_t nblocks = c->info.size / BLK;
	uint32_t sent = 0, acked = 0, inflight[4];
	unsigned int n = 0;

	while (sent < MAX_WRITES) {
		uint32_t end = sent + 8;
		struct nd_client_reply r;

		while (acked < end) {
			unsigned int k;

			while (sent < end && n < 4 && may_send(gen, sent, nblocks, inflight, n)) {
				uint8_t *data = nd_client_write_data(c);
				uint64_t first;
				uint32_t count;

				placement(gen, sent, nblocks, &first, &count);
				for (uint32_t b = 0; b < count; b++)
					fill_block(data + b * BLK, gen, sent, first + b);
				if (nd_client_send(c, ND_CMD_WRITE, 0, sent, first * BLK,
						   count * BLK, data))
					die("send", c);
				inflight[n++] = sent++;
			}
			expect_ok(c, &r);
			for (k = 0; k < n && inflight[k] != r.handle; k++)
				;
			if (k == n) {
				fprintf(stderr, "ndpowercut: reply to write %llu, not in flight\n",
					(unsigned long long)r.handle);
				exit(1);
			}
			inflight[k] = inflight[--n];
			acked++;
		}
		if (nd_client_send(c, ND_CMD_FLUSH, 0, UINT64_MAX, 0, 0, NULL))
			die("send", c);
		expect_ok(c, &r);
		printf("flushed %u %u\n", gen, sent);
		fflush(stdout);
	}
	return 0;
}

static int cmd_check(struct nd_client *c, uint32_t gen, uint32_t flushed, const char *tags_path)
{
	uint64_t nblocks = c->info.size / BLK, bad = 0, changed = 0;
	int64_t *before = calloc(nblocks, sizeof(*before)), *last = calloc(nblocks, sizeof(*last));
	int64_t *found = calloc(nblocks, sizeof(*found));
	uint32_t *later_lo = calloc(nblocks, sizeof(*later_lo));
	const uint32_t horizon = flushed + 4096;	/* writes that may have landed */
	int fd;

	if (!before || !last || !found || !later_lo)
		die("memory", NULL);
	fd = open(tags_path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || nd_pread_full(fd, before, nblocks * sizeof(*before), 0))
		die(tags_path, NULL);
	/* what the flushed writes leave, block by block */
	memcpy(last, before, nblocks * sizeof(*last));
	for (uint32_t i = 0; i < flushed; i++) {
		uint64_t first;
		uint32_t count;

		placement(gen, i, nblocks, &first, &count);
		for (uint32_t k = 0; k < count; k++)
			last[first + k] = (int64_t)((uint64_t)gen << 32 | i);
	}
	for (uint64_t off = 0; off < c->info.size; off += ND_MAX_IO) {
		struct nd_client_reply r;
		uint32_t len = c->info.size - off < ND_MAX_IO ? (uint32_t)(c->info.size - off) :
				ND_MAX_IO;

		if (nd_client_send(c, ND_CMD_READ, 0, off, off, len, NULL) || nd_client_recv(c, &r) ||
		    r.status)
			die("read", c);
		for (uint32_t k = 0; k < len / BLK; k++)
			found[off / BLK + k] = tag_of(r.data + k * BLK, off / BLK + k);
	}
	for (uint64_t b = 0; b < nblocks; b++) {
		int64_t t = found[b];
		bool ok = t == last[b];

		if (!ok && t > 0 && (uint32_t)((uint64_t)t >> 32) == gen) {
			/* a write from the unflushed tail: it must cover this block */
			uint32_t i = (uint32_t)t;
			uint64_t first;
			uint32_t count;

			placement(gen, i, nblocks, &first, &count);
			ok = i >= flushed && i < horizon && b >= first && b < first + count;
		}
		if (!ok) {
			if (bad++ < 10)
				printf("block %llu: found %s %lld, expected %lld\n",
				       (unsigned long long)b, t < 0 ? "torn" : "tag", (long long)t,
				       (long long)last[b]);
		}
		changed += t != before[b];
	}
	if (nd_pwrite_full(fd, found, nblocks * sizeof(*found), 0) || fsync(fd))
		die(tags_path, NULL);
	printf("checked generation %u: %llu blocks, %llu changed, %llu wrong (flushed %u)\n",
	       gen, (unsigned long long)nblocks, (unsigned long long)changed,
	       (unsigned long long)bad, flushed);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct nd_keyring kr;
	uint8_t key[ND_KEY_SIZE];
	struct nd_client c;
	struct nd_uri uri;
	char err[512] = "";

	if (argc < 6 || (strcmp(argv[1], "write") && strcmp(argv[1], "check")) ||
	    (!strcmp(argv[1], "check") && argc != 8)) {
		fprintf(stderr, "usage: ndpowercut write|check KEYFILE IDENTITY URI GEN "
			"[FLUSHED TAGS]\n");
		return 2;
	}
	if (nd_keyring_load(&kr, argv[2], true, err, sizeof(err)) ||
	    nd_keyring_lookup(&kr, argv[3], key) == ND_KEY_NONE ||
	    nd_uri_parse(argv[4], &uri, err, sizeof(err))) {
		fprintf(stderr, "ndpowercut: setup: %s\n", err);
		return 2;
	}
	nd_keyring_free(&kr);
	if (nd_client_open(&c, &uri, argv[3], NULL, key, err, sizeof(err))) {
		fprintf(stderr, "ndpowercut: %s\n", err);
		return 1;
	}
	if (c.info.size / BLK <= MAX_BLOCKS_PER_WRITE) {
		fprintf(stderr, "ndpowercut: export too small\n");
		return 2;
	}
	if (!strcmp(argv[1], "write"))
		return cmd_write(&c, (uint32_t)atoi(argv[5]));
	return cmd_check(&c, (uint32_t)atoi(argv[5]), (uint32_t)atoi(argv[6]), argv[7]);
}
