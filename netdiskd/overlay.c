// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "overlay.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nd_fileio.h"

#define BLK OVERLAY_BLOCK
#define CHUNK_BITS ((uint64_t)OVERLAY_CHUNK * 8)
#define HEADER_SIZE 4096
#define MAP_MAGIC "NDOVMAP2"

/* The first HEADER_SIZE bytes of IDENTITY.map; integers big-endian. */
struct map_header {
	char magic[8];
	uint32_t version;		/* 1 */
	uint32_t block_size;		/* OVERLAY_BLOCK */
	uint64_t size;			/* the base's, in bytes */
	uint64_t base_ino;
	int64_t base_mtime_ns;
	char export_name[ND_NAME_SIZE];
};

static void paths(const struct overlay *o, char *map, char *img, size_t len)
{
	snprintf(map, len, "%s/%s.map", o->dir, o->identity);
	snprintf(img, len, "%s/%s.img", o->dir, o->identity);
}

static bool has_block(const struct overlay *o, uint64_t b)
{
	const uint8_t *c = o->chunks[b / CHUNK_BITS];

	return c && (c[(b % CHUNK_BITS) / 8] >> (b % 8)) & 1;
}

static int set_block(struct overlay *o, uint64_t b)
{
	size_t ci = (size_t)(b / CHUNK_BITS);

	if (!o->chunks[ci] && !(o->chunks[ci] = calloc(1, OVERLAY_CHUNK)))
		return -ENOMEM;
	o->chunks[ci][(b % CHUNK_BITS) / 8] |= (uint8_t)(1u << (b % 8));
	o->dirty[ci / 8] |= (uint8_t)(1u << (ci % 8));
	return 0;
}

/* Whether fd is still the file at path (not unlinked or replaced). */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !lstat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void test_pause(void)
{
	const char *ms = getenv("NETDISKD_TEST_OVERLAY_PAUSE_MS");

	/* test-only: widens the window between open and lock */
	if (ms) {
		fprintf(stderr, "netdiskd: pausing before the overlay lock\n");
		usleep(1000 * (useconds_t)atoi(ms));
	}
}

/*
 * Opens and locks IDENTITY.map, retrying when a reset unlinked it between
 * the open and the lock. Returns the fd, -ENOENT when there is none and
 * create is false, or -errno.
 */
static int open_locked(const char *path, bool create)
{
	for (int tries = 0; tries < 8; tries++) {
		int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0),
			      0600);

		if (fd < 0)
			return -errno;
		if (!create)
			test_pause();
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			close(fd);
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
		}
		if (same_file(fd, path))
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

static void header_for(const struct overlay *o, struct map_header *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, MAP_MAGIC, sizeof(h->magic));
	h->version = htobe32(1);
	h->block_size = htobe32(BLK);
	h->size = htobe64(o->base_id.size);
	h->base_ino = htobe64(o->base_id.ino);
	h->base_mtime_ns = (int64_t)htobe64((uint64_t)o->base_id.mtime_ns);
	memcpy(h->export_name, o->export_name, ND_NAME_SIZE);
}

static int check_header(const struct overlay *o, const struct map_header *h,
			const char *path, char *err, size_t err_len)
{
	struct map_header want;

	header_for(o, &want);
	if (memcmp(h->magic, MAP_MAGIC, sizeof(h->magic)) || h->version != want.version ||
	    h->block_size != want.block_size) {
		snprintf(err, err_len, "%s is not a netdisk overlay map of this version",
			 path);
		return -EINVAL;
	}
	if (strncmp(h->export_name, o->export_name, ND_NAME_SIZE)) {
		snprintf(err, err_len, "%s belongs to export '%.63s', not '%s'", path,
			 h->export_name, o->export_name);
		return -ESTALE;
	}
	if (h->size != want.size || h->base_ino != want.base_ino ||
	    h->base_mtime_ns != want.base_mtime_ns) {
		snprintf(err, err_len, "%s was made from another base (%llu bytes, inode %llu, "
			 "mtime %lld ns) than export '%s' has now (%llu bytes, inode %llu, "
			 "mtime %lld ns); reset it with 'netdiskctl overlay reset', or put "
			 "that base back", path, (unsigned long long)be64toh(h->size),
			 (unsigned long long)be64toh(h->base_ino),
			 (long long)be64toh((uint64_t)h->base_mtime_ns), o->export_name,
			 (unsigned long long)o->base_id.size, (unsigned long long)o->base_id.ino,
			 (long long)o->base_id.mtime_ns);
		return -ESTALE;
	}
	return 0;
}

/* Loads the map's set bits; holes in the file stay unallocated. */
static int load_map(struct overlay *o, int fd)
{
	uint8_t buf[OVERLAY_CHUNK];
	off_t pos = HEADER_SIZE;

	for (;;) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		size_t ci;
		int ret;

		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		ci = (size_t)((data - HEADER_SIZE) / OVERLAY_CHUNK);
		if (ci >= o->nchunks)
			return 0;
		pos = HEADER_SIZE + (off_t)ci * OVERLAY_CHUNK;
		ret = nd_pread_full(fd, buf, sizeof(buf), (uint64_t)pos);
		if (ret)
			return ret;
		for (size_t i = 0; i < sizeof(buf); i++) {
			if (buf[i]) {
				o->chunks[ci] = malloc(OVERLAY_CHUNK);
				if (!o->chunks[ci])
					return -ENOMEM;
				memcpy(o->chunks[ci], buf, sizeof(buf));
				break;
			}
		}
		pos += OVERLAY_CHUNK;
	}
}

/* Whether block b of IDENTITY.img hashes to digest (data) or reads as zeroes. */
static int block_holds(struct overlay *o, uint64_t b, const uint8_t *digest, bool *yes)
{
	uint8_t block[BLK], got[JOURNAL_DIGEST];
	uint64_t start = b * BLK;
	size_t blen = start + BLK <= o->size ? BLK : (size_t)(o->size - start);
	int ret = nd_pread_full(o->data_fd, block, blen, start);

	*yes = false;
	if (ret)
		return ret;
	if (!digest) {
		*yes = true;
		for (size_t i = 0; i < blen && *yes; i++)
			*yes = !block[i];
		return 0;
	}
	ret = journal_digest(block, blen, got);
	if (!ret)
		*yes = !memcmp(got, digest, JOURNAL_DIGEST);
	return ret;
}

/*
 * A journal record found at open: each of its blocks joins the map if the
 * image holds exactly what the write left there. A block that does not
 * match (its data never reached the disk, or a later write changed it) is
 * left alone: a later record covers a later write. Holes read as zeroes,
 * so a zeroed range is checked a hole at a time.
 */
static int replay_record(const struct journal_record *r, void *ctx)
{
	struct overlay *o = ctx;
	uint64_t b, last;
	bool yes;
	int ret = 0;

	if (!r->count || r->first >= o->blocks || r->count > o->blocks - r->first)
		return 0;	/* not for an image of this size: ignore it */
	last = r->first + r->count - 1;
	if (r->kind == JOURNAL_DATA) {
		if (r->count != 1)
			return 0;
		ret = block_holds(o, r->first, r->digest, &yes);
		return !ret && yes ? set_block(o, r->first) : ret;
	}
	for (b = r->first; b <= last && !ret;) {
		off_t data = lseek(o->data_fd, (off_t)(b * BLK), SEEK_DATA);
		uint64_t hole_end;

		if (data < 0 && errno != ENXIO)
			return -errno;
		/* blocks wholly before the next data are a hole: zeroes */
		hole_end = data < 0 ? last + 1 : (uint64_t)data / BLK;
		for (; b < hole_end && b <= last && !ret; b++)
			ret = set_block(o, b);
		if (b > last || ret)
			break;
		ret = block_holds(o, b, NULL, &yes);
		if (!ret && yes)
			ret = set_block(o, b);
		b++;
	}
	return ret;
}

/* Opens the files, creating them if create; lock held. 0 with none is fine. */
static int attach_files(struct overlay *o, bool create, char *err, size_t err_len)
{
	char map[PATH_MAX + 80], img[PATH_MAX + 80];
	struct map_header h;
	struct stat st;
	bool fresh = false;
	int fd, ret;

	paths(o, map, img, sizeof(map));
	fd = open_locked(map, create);
	if (fd == -ENOENT && !create)
		return 0;
	if (fd < 0) {
		if (fd == -EBUSY)
			snprintf(err, err_len, "overlay %s is in use by another process", map);
		else
			snprintf(err, err_len, "overlay %s: %s", map, strerror(-fd));
		return fd;
	}
	ret = fstat(fd, &st) ? -errno : 0;
	memset(&h, 0, sizeof(h));
	if (!ret && st.st_size > 0)
		ret = nd_pread_full(fd, &h, sizeof(h), 0);
	if (!ret && st.st_size < HEADER_SIZE && memcmp(h.magic, MAP_MAGIC, sizeof(h.magic))) {
		/*
		 * new, or made by a power loss before its header reached the
		 * disk: nothing was promised (before the first flush, the map
		 * is a header alone, and its bits are in the journal)
		 */
		header_for(o, &h);
		ret = nd_pwrite_full(fd, &h, sizeof(h), 0);
		o->created = true;
		fresh = true;
	} else if (!ret) {
		if ((ret = check_header(o, &h, map, err, err_len)))
			goto fail_msg;
		if (!ret)
			ret = load_map(o, fd);
	}
	if (ret)
		goto fail;
	o->data_fd = open(img, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o->data_fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "overlay %s: %s", img, strerror(errno));
		goto fail_msg;
	}
	ret = journal_open(&o->journal, o->dir, o->identity);
	if (!ret)
		ret = fresh ? journal_clear(&o->journal) :
		      journal_replay(&o->journal, replay_record, o);
	if (ret) {
		journal_close(&o->journal);
		close(o->data_fd);
		o->data_fd = -1;
		snprintf(err, err_len, "overlay journal of %s: %s", map, strerror(-ret));
		goto fail_msg;
	}
	o->map_fd = fd;
	return 0;
fail:
	snprintf(err, err_len, "overlay %s: %s", map, strerror(-ret));
fail_msg:
	close(fd);
	return ret;
}

int overlay_open(struct overlay *o, const char *cow_dir, const char *export_name,
		 const char *identity, struct backend *base, char *err, size_t err_len)
{
	int ret;

	memset(o, 0, sizeof(*o));
	o->data_fd = o->map_fd = -1;
	journal_init(&o->journal);
	o->base = base;
	o->size = base->size;
	o->blocks = (o->size + BLK - 1) / BLK;
	ret = base->ops->identify(base, &o->base_id);
	if (ret) {
		snprintf(err, err_len, "base of export '%s': %s", export_name, strerror(-ret));
		return ret;
	}
	/* names cannot contain '/' or start with '.': see nd_valid_identity */
	snprintf(o->export_name, sizeof(o->export_name), "%s", export_name);
	snprintf(o->identity, sizeof(o->identity), "%s", identity);
	if (snprintf(o->dir, sizeof(o->dir), "%s/%s", cow_dir, export_name) >=
	    (int)sizeof(o->dir)) {
		snprintf(err, err_len, "overlay directory %s is too long", cow_dir);
		return -ENAMETOOLONG;
	}
	if (mkdir(o->dir, 0700) && errno != EEXIST) {
		snprintf(err, err_len, "overlay directory %s: %s", o->dir, strerror(errno));
		return -errno;
	}
	o->nchunks = (size_t)((o->blocks + CHUNK_BITS - 1) / CHUNK_BITS);
	o->chunks = calloc(o->nchunks ? o->nchunks : 1, sizeof(*o->chunks));
	o->dirty = calloc(o->nchunks / 8 + 1, 1);
	if (!o->chunks || !o->dirty) {
		free(o->chunks);
		free(o->dirty);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->flush_lock, NULL);
	ret = attach_files(o, false, err, err_len);
	if (ret) {
		o->data_fd = o->map_fd = -1;
		overlay_close(o);
	}
	return ret;
}

int overlay_close(struct overlay *o)
{
	int ret;

	if (!o->chunks)
		return 0;
	ret = overlay_flush(o);
	if (o->data_fd >= 0)
		close(o->data_fd);
	journal_close(&o->journal);
	if (o->map_fd >= 0)
		close(o->map_fd);	/* drops the lock */
	for (size_t i = 0; i < o->nchunks; i++)
		free(o->chunks[i]);
	free(o->chunks);
	free(o->dirty);
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->flush_lock);
	memset(o, 0, sizeof(*o));
	o->data_fd = o->map_fd = -1;
	return ret;
}

int overlay_read(struct overlay *o, void *buf, uint64_t len, uint64_t off)
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
		ret = ours ? nd_pread_full(o->data_fd, p, (size_t)n, off) :
		      o->base->ops->pread(o->base, p, (uint32_t)n, off);
		p += n;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

/* A partial block of a write: what block b holds once the write is done. */
struct edge {
	uint64_t b;
	size_t len;			/* BLK, or less for the image's last block */
	uint8_t data[BLK];
};

/*
 * Merges [off, off+len) of block b (buf NULL: zeroes) into what the client
 * sees there now. Nothing is written yet.
 */
static int merge_edge(struct overlay *o, uint64_t b, const uint8_t *buf, uint64_t len,
		      uint64_t off, struct edge *e)
{
	uint64_t start = b * BLK, in = off - start;
	int ret;

	e->b = b;
	e->len = start + BLK <= o->size ? BLK : (size_t)(o->size - start);
	/* never the whole block: write_range takes those from buf */
	ret = has_block(o, b) ? nd_pread_full(o->data_fd, e->data, e->len, start) :
	      o->base->ops->pread(o->base, e->data, (uint32_t)e->len, start);
	if (ret)
		return ret;
	if (buf)
		memcpy(e->data + in, buf, (size_t)len);
	else
		memset(e->data + in, 0, (size_t)len);
	return 0;
}

/* Full blocks [first, last] in one go: data, or a hole that reads as zeroes. */
static int write_full_blocks(struct overlay *o, const uint8_t *buf,
			     uint64_t first, uint64_t last)
{
	static const uint8_t zeroes[BLK];
	uint64_t start = first * BLK, end = (last + 1) * BLK;

	if (end > o->size)
		end = o->size;
	if (buf)
		return nd_pwrite_full(o->data_fd, buf, (size_t)(end - start), start);
	if (!fallocate(o->data_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)start, (off_t)(end - start)))
		return 0;
	for (uint64_t s = start; s < end; s += BLK) {
		int ret = nd_pwrite_full(o->data_fd, zeroes,
					 (size_t)(end - s < BLK ? end - s : BLK), s);

		if (ret)
			return ret;
	}
	return 0;
}

/* A journal record: block b will hold p[0..len) */
static int journal_data(struct overlay *o, uint64_t b, const uint8_t *p, size_t len)
{
	struct journal_record r = { .kind = JOURNAL_DATA, .first = b, .count = 1 };
	int ret = journal_digest(p, len, r.digest);

	return ret ? ret : journal_append(&o->journal, &r);
}

/* Records what the whole blocks [first, last] will hold: buf, or zeroes. */
static int journal_full_blocks(struct overlay *o, const uint8_t *buf, uint64_t first,
			       uint64_t last)
{
	int ret = 0;

	if (!buf) {
		struct journal_record z = { .kind = JOURNAL_ZERO, .first = first,
					    .count = last - first + 1 };

		return journal_append(&o->journal, &z);
	}
	for (uint64_t b = first; b <= last && !ret; b++) {
		uint64_t s = b * BLK;

		ret = journal_data(o, b, buf + (s - first * BLK),
				   (size_t)(s + BLK <= o->size ? BLK : o->size - s));
	}
	return ret;
}

/*
 * The records go to the journal before the data goes to the image, so that
 * when netdiskd dies at any point, each block holds what a record names or
 * what its bit in the map file covers. A block holds either what it held
 * before or what this write leaves, never a mix: a block lies within one
 * page, and the copy into it comes from memory this process just wrote, so
 * it cannot fault and stop short when a fatal signal arrives.
 * Data first would lose a partial block: its new contents, written but not
 * yet recorded, would match neither its earlier record nor this one.
 */
static int write_range(struct overlay *o, const uint8_t *buf, uint64_t len,
		       uint64_t off)
{
	uint64_t first = off / BLK, last = (off + len - 1) / BLK;
	uint64_t full_first = (off + BLK - 1) / BLK, end = off + len;
	/* the image's last block counts as whole when the range reaches the end */
	uint64_t full_last_plus1 = end == o->size ? o->blocks : end / BLK;
	bool has_full = full_first < full_last_plus1, wants_flush = false;
	const uint8_t *full = buf && has_full ? buf + (full_first * BLK - off) : NULL;
	struct edge edges[2];
	unsigned int nedges = 0;
	char err[256];
	int ret = 0;

	if (!len)
		return 0;
	pthread_mutex_lock(&o->lock);
	if (o->data_fd < 0 && (ret = attach_files(o, true, err, sizeof(err)))) {
		/* the caller knows the export and the range; the reason is here */
		fprintf(stderr, "netdiskd: %s\n", err);
		goto out;
	}
	/* the partial blocks: one or two without a whole one, else at either end */
	for (uint64_t b = first; b <= last && !ret; b++) {
		uint64_t s = b == first ? off : b * BLK;
		uint64_t e = b == last ? end : (b + 1) * BLK;

		if (has_full && b == full_first)
			b = full_last_plus1 - 1;	/* the whole ones come from buf */
		else
			ret = merge_edge(o, b, buf ? buf + (s - off) : NULL, e - s, s,
					 &edges[nedges++]);
	}
	for (unsigned int i = 0; i < nedges && !ret; i++)
		ret = journal_data(o, edges[i].b, edges[i].data, edges[i].len);
	if (!ret && has_full)
		ret = journal_full_blocks(o, full, full_first, full_last_plus1 - 1);
	/* the page cache, where the records now are, outlives this process */
	if (!ret)
		ret = journal_commit(&o->journal);
	else
		journal_discard(&o->journal);
	for (unsigned int i = 0; i < nedges && !ret; i++)
		ret = nd_pwrite_full(o->data_fd, edges[i].data, edges[i].len, edges[i].b * BLK);
	if (!ret && has_full)
		ret = write_full_blocks(o, full, full_first, full_last_plus1 - 1);
	/* the bits reach the map file after the data, at a flush */
	for (uint64_t b = first; b <= last && !ret; b++)
		ret = set_block(o, b);
	if (!ret)
		wants_flush = journal_wants_flush(&o->journal);
out:
	pthread_mutex_unlock(&o->lock);
	/* a journal that has grown large is emptied by a flush of the map */
	if (wants_flush)
		ret = overlay_flush(o);
	return ret;
}

int overlay_write(struct overlay *o, const void *buf, uint64_t len, uint64_t off)
{
	return write_range(o, buf, len, off);
}

int overlay_write_zeroes(struct overlay *o, uint64_t len, uint64_t off)
{
	return write_range(o, NULL, len, off);
}

int overlay_flush(struct overlay *o)
{
	size_t n = 0, *idx = NULL;
	uint8_t *copies = NULL;
	bool created;
	int retire, ret = 0;

	pthread_mutex_lock(&o->flush_lock);
	pthread_mutex_lock(&o->lock);
	if (o->data_fd < 0) {
		pthread_mutex_unlock(&o->lock);
		pthread_mutex_unlock(&o->flush_lock);
		return 0;
	}
	/* the bits as they stand cover only data written before this point */
	for (size_t ci = 0; ci < o->nchunks; ci++)
		n += (o->dirty[ci / 8] >> (ci % 8)) & 1;
	if (n) {
		idx = malloc(n * sizeof(*idx));
		copies = malloc(n * OVERLAY_CHUNK);
	}
	if (n && (!idx || !copies)) {
		ret = -ENOMEM;
		n = 0;
	}
	for (size_t ci = 0, i = 0; i < n; ci++) {
		if ((o->dirty[ci / 8] >> (ci % 8)) & 1) {
			idx[i] = ci;
			memcpy(copies + i * OVERLAY_CHUNK, o->chunks[ci], OVERLAY_CHUNK);
			o->dirty[ci / 8] &= (uint8_t)~(1u << (ci % 8));
			i++;
		}
	}
	created = o->created;
	o->created = false;
	/* later writes go to the other journal file; this one goes once the map has it */
	retire = journal_switch(&o->journal);
	pthread_mutex_unlock(&o->lock);

	/* data first, then the names, then the map bits that point at the data */
	if (!ret && fdatasync(o->data_fd))
		ret = -errno;
	if (!ret && created)
		ret = nd_sync_dir(o->dir);
	for (size_t i = 0; i < n && !ret; i++)
		ret = nd_pwrite_full(o->map_fd, copies + i * OVERLAY_CHUNK, OVERLAY_CHUNK,
				     HEADER_SIZE + (uint64_t)idx[i] * OVERLAY_CHUNK);
	if (!ret && fdatasync(o->map_fd))
		ret = -errno;
	if (!ret)
		ret = journal_retire(&o->journal, retire);
	if (ret) {
		pthread_mutex_lock(&o->lock);
		for (size_t i = 0; i < n; i++)
			o->dirty[idx[i] / 8] |= (uint8_t)(1u << (idx[i] % 8));
		o->created |= created;
		pthread_mutex_unlock(&o->lock);
	}
	free(idx);
	free(copies);
	pthread_mutex_unlock(&o->flush_lock);
	return ret;
}

static uint64_t popcount(const uint8_t *p, size_t len)
{
	uint64_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += (uint64_t)__builtin_popcount(p[i]);
	return n;
}

uint64_t overlay_blocks_used(struct overlay *o)
{
	uint64_t n = 0;

	pthread_mutex_lock(&o->lock);
	for (size_t ci = 0; ci < o->nchunks; ci++)
		if (o->chunks[ci])
			n += popcount(o->chunks[ci], OVERLAY_CHUNK);
	pthread_mutex_unlock(&o->lock);
	return n;
}

int overlay_reset(const char *cow_dir, const char *export_name, const char *identity)
{
	char dir[PATH_MAX], map[PATH_MAX + 80], img[PATH_MAX + 80];
	int fd, ret = 0;

	snprintf(dir, sizeof(dir), "%s/%s", cow_dir, export_name);
	snprintf(map, sizeof(map), "%s/%s.map", dir, identity);
	snprintf(img, sizeof(img), "%s/%s.img", dir, identity);
	fd = open_locked(map, false);
	if (fd < 0)
		return fd;
	/* the map goes last: while it exists, the lock on it guards the data */
	if (unlink(img) && errno != ENOENT)
		ret = -errno;
	if (!ret)
		ret = journal_unlink(dir, identity);
	if (!ret && unlink(map))
		ret = -errno;
	if (!ret)
		ret = nd_sync_dir(dir);
	close(fd);
	return ret;
}

int overlay_inspect(const char *map_path, char export_name[ND_NAME_SIZE],
		    uint64_t *blocks_used, bool *in_use)
{
	uint8_t buf[OVERLAY_CHUNK];
	struct map_header h;
	off_t pos = HEADER_SIZE;
	int fd = open(map_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	*blocks_used = 0;
	ret = nd_pread_full(fd, &h, sizeof(h), 0);
	if (!ret && memcmp(h.magic, MAP_MAGIC, sizeof(h.magic)))
		ret = -EINVAL;
	while (!ret) {
		off_t data = lseek(fd, pos, SEEK_DATA);

		if (data < 0) {
			ret = errno == ENXIO ? 0 : -errno;
			break;
		}
		ret = nd_pread_full(fd, buf, sizeof(buf), (uint64_t)data);
		*blocks_used += popcount(buf, sizeof(buf));
		pos = data + (off_t)sizeof(buf);
	}
	if (!ret) {
		snprintf(export_name, ND_NAME_SIZE, "%.63s", h.export_name);
		*in_use = flock(fd, LOCK_EX | LOCK_NB) != 0;
	}
	close(fd);
	return ret;
}
