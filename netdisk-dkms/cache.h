/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The optional read cache of a disk: recently read 4 KiB pages, bounded,
 * least recently used evicted first. It learns data only from READ replies,
 * copied from the request's pages just after they were decrypted into; a
 * write, discard or write-zeroes forgets the pages it covers.
 */
#ifndef _NETDISK_CACHE_H
#define _NETDISK_CACHE_H

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "compat.h"

struct nd_cache {
	spinlock_t lock;
	struct xarray pages;		/* page index -> struct nd_cache_entry */
	struct list_head lru;		/* most recently used first */
	unsigned long count;
	unsigned long limit;		/* pages; 0: cache off */
	atomic64_t gen;			/* bumped by every completed write */
	atomic64_t hits, misses, evictions;
	struct nd_shrinker shrinker;	/* registered while the cache is on */
};

int nd_cache_init(struct nd_cache *c, unsigned int size_mb, int disk_index);
void nd_cache_destroy(struct nd_cache *c);
/* Forgets everything: what the server holds may have changed. */
void nd_cache_clear(struct nd_cache *c);
static inline bool nd_cache_enabled(const struct nd_cache *c)
{
	return c->limit;
}

/* Serves a read entirely from the cache; false if any page is missing. */
bool nd_cache_read(struct nd_cache *c, struct request *rq);
/* Learns a read's data, unless a write completed since gen was taken. */
void nd_cache_fill(struct nd_cache *c, struct request *rq, s64 gen);
/* Forgets a range: a write, discard or write zeroes. */
void nd_cache_invalidate(struct nd_cache *c, struct request *rq);
unsigned long nd_cache_bytes(struct nd_cache *c);

#endif
