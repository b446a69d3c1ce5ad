// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "overlay-journal.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nd_crypto.h"
#include "nd_fileio.h"

#define REC_SIZE 64
#define REC_MAGIC "NDJ1"
_Static_assert(JOURNAL_DIGEST == ND_HASH_SIZE, "a record holds a SHA-256");
#define CHECKED (REC_SIZE - 8)		/* bytes covered by the record's own hash */

/* The record on disk; integers big-endian. */
struct rec_disk {
	char magic[4];
	uint32_t kind;
	uint64_t first;
	uint64_t count;
	uint8_t digest[JOURNAL_DIGEST];
	uint8_t check[8];		/* the first 8 bytes of SHA-256(bytes 0..55) */
};
_Static_assert(sizeof(struct rec_disk) == REC_SIZE, "journal record size");

static void name_of(char *out, size_t len, const char *dir, const char *identity, int i)
{
	snprintf(out, len, "%s/%s.jnl%d", dir, identity, i);
}

void journal_init(struct overlay_journal *j)
{
	memset(j, 0, sizeof(*j));
	j->fd[0] = j->fd[1] = -1;
}

int journal_open(struct overlay_journal *j, const char *dir, const char *identity)
{
	char path[PATH_MAX + 80];

	for (int i = 0; i < 2; i++) {
		struct stat st;

		name_of(path, sizeof(path), dir, identity, i);
		j->fd[i] = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_CREAT, 0600);
		if (j->fd[i] < 0 || fstat(j->fd[i], &st)) {
			int ret = -errno;

			journal_close(j);
			return ret;
		}
		/* the next record goes after every whole one */
		j->end[i] = (uint64_t)st.st_size / REC_SIZE * REC_SIZE;
	}
	j->cur = 0;
	return 0;
}

void journal_close(struct overlay_journal *j)
{
	for (int i = 0; i < 2; i++)
		if (j->fd[i] >= 0)
			close(j->fd[i]);
	free(j->pending);
	journal_init(j);
}

int journal_digest(const void *p, size_t len, uint8_t out[JOURNAL_DIGEST])
{
	return nd_sha256(p, len, out) ? -EIO : 0;
}

int journal_append(struct overlay_journal *j, const struct journal_record *r)
{
	struct rec_disk d;
	uint8_t h[JOURNAL_DIGEST];
	int ret;

	memset(&d, 0, sizeof(d));
	memcpy(d.magic, REC_MAGIC, sizeof(d.magic));
	d.kind = htobe32((uint32_t)r->kind);
	d.first = htobe64(r->first);
	d.count = htobe64(r->count);
	if (r->kind == JOURNAL_DATA)
		memcpy(d.digest, r->digest, JOURNAL_DIGEST);
	ret = journal_digest(&d, CHECKED, h);
	if (ret)
		return ret;
	memcpy(d.check, h, sizeof(d.check));
	if (j->pending_len + REC_SIZE > j->pending_cap) {
		size_t cap = j->pending_cap ? 2 * j->pending_cap : 64 * REC_SIZE;
		uint8_t *more = realloc(j->pending, cap);

		if (!more)
			return -ENOMEM;
		j->pending = more;
		j->pending_cap = cap;
	}
	memcpy(j->pending + j->pending_len, &d, REC_SIZE);
	j->pending_len += REC_SIZE;
	return 0;
}

int journal_commit(struct overlay_journal *j)
{
	int ret = 0;

	if (j->pending_len) {
		ret = nd_pwrite_full(j->fd[j->cur], j->pending, j->pending_len, j->end[j->cur]);
		if (!ret)
			j->end[j->cur] += j->pending_len;
	}
	j->pending_len = 0;
	return ret;
}

void journal_discard(struct overlay_journal *j)
{
	j->pending_len = 0;
}

int journal_switch(struct overlay_journal *j)
{
	int old = j->cur;

	j->cur ^= 1;
	return old;
}

int journal_retire(struct overlay_journal *j, int which)
{
	if (ftruncate(j->fd[which], 0))
		return -errno;
	j->end[which] = 0;
	return 0;
}

int journal_clear(struct overlay_journal *j)
{
	for (int i = 0; i < 2; i++) {
		if (ftruncate(j->fd[i], 0))
			return -errno;
		j->end[i] = 0;
	}
	j->cur = 0;
	return 0;
}

bool journal_wants_flush(const struct overlay_journal *j)
{
	return j->end[j->cur] > JOURNAL_SOFT_MAX;
}

static bool decode(const struct rec_disk *d, struct journal_record *r)
{
	uint8_t h[JOURNAL_DIGEST];

	if (memcmp(d->magic, REC_MAGIC, sizeof(d->magic)) || journal_digest(d, CHECKED, h) ||
	    memcmp(h, d->check, sizeof(d->check)))
		return false;
	r->kind = (enum journal_kind)be32toh(d->kind);
	r->first = be64toh(d->first);
	r->count = be64toh(d->count);
	memcpy(r->digest, d->digest, JOURNAL_DIGEST);
	return r->kind == JOURNAL_DATA || r->kind == JOURNAL_ZERO;
}

int journal_replay(struct overlay_journal *j,
		   int (*apply)(const struct journal_record *r, void *ctx), void *ctx)
{
	for (int i = 0; i < 2; i++) {
		for (uint64_t pos = 0; pos < j->end[i]; pos += REC_SIZE) {
			struct rec_disk d;
			struct journal_record r;
			int ret = nd_pread_full(j->fd[i], &d, sizeof(d), pos);

			if (ret)
				return ret;
			if (!decode(&d, &r))
				continue;	/* torn, or never reached the disk */
			ret = apply(&r, ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int journal_unlink(const char *dir, const char *identity)
{
	char path[PATH_MAX + 80];

	for (int i = 0; i < 2; i++) {
		name_of(path, sizeof(path), dir, identity, i);
		if (unlink(path) && errno != ENOENT)
			return -errno;
	}
	return 0;
}
