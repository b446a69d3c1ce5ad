// SPDX-License-Identifier: GPL-2.0
#include <linux/highmem.h>
#include <linux/slab.h>

#include "cache.h"
#include "compat.h"

#define ND_CACHE_SHIFT	12
#define ND_CACHE_PAGE	(1U << ND_CACHE_SHIFT)
/* the cache is an optimisation: it never reclaims, waits or takes reserves */
#define ND_CACHE_GFP	(GFP_NOWAIT | __GFP_NOWARN | __GFP_NOMEMALLOC)

struct nd_cache_entry {
	struct list_head lru;
	unsigned long index;
	struct page *page;
};

static void nd_cache_entry_free(struct nd_cache *c, struct nd_cache_entry *e)
{
	xa_erase(&c->pages, e->index);
	list_del(&e->lru);
	__free_page(e->page);
	kfree(e);
	c->count--;
}

static unsigned long nd_cache_count(struct shrinker *s, struct shrink_control *sc)
{
	struct nd_cache *c = nd_shrinker_owner(s, struct nd_cache, shrinker);

	return READ_ONCE(c->count) ?: SHRINK_EMPTY;
}

/* Under memory pressure the least recently used pages go first. */
static unsigned long nd_cache_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct nd_cache *c = nd_shrinker_owner(s, struct nd_cache, shrinker);
	unsigned long freed = 0;

	spin_lock(&c->lock);
	while (freed < sc->nr_to_scan && !list_empty(&c->lru)) {
		nd_cache_entry_free(c, list_last_entry(&c->lru, struct nd_cache_entry, lru));
		freed++;
	}
	spin_unlock(&c->lock);
	atomic64_add(freed, &c->evictions);
	return freed;
}

int nd_cache_init(struct nd_cache *c, unsigned int size_mb, int disk_index)
{
	spin_lock_init(&c->lock);
	xa_init(&c->pages);
	INIT_LIST_HEAD(&c->lru);
	c->count = 0;
	c->limit = (unsigned long)size_mb << (20 - ND_CACHE_SHIFT);
	atomic64_set(&c->gen, 0);
	atomic64_set(&c->hits, 0);
	atomic64_set(&c->misses, 0);
	atomic64_set(&c->evictions, 0);
	if (!c->limit)
		return 0;
	return nd_shrinker_register(&c->shrinker, nd_cache_count, nd_cache_scan, c,
				    disk_index);
}

/*
 * A cache may hold up to 2^28 pages: they are freed a batch at a time, with
 * the lock dropped and a chance to reschedule in between. Fills in flight
 * took their generation before the bump, so nothing stale comes back.
 */
#define ND_CACHE_FREE_BATCH	1024

void nd_cache_clear(struct nd_cache *c)
{
	unsigned int n;

	might_sleep();
	atomic64_inc(&c->gen);
	do {
		spin_lock(&c->lock);
		for (n = 0; n < ND_CACHE_FREE_BATCH && !list_empty(&c->lru); n++)
			nd_cache_entry_free(c, list_last_entry(&c->lru, struct nd_cache_entry,
							       lru));
		spin_unlock(&c->lock);
		cond_resched();
	} while (n == ND_CACHE_FREE_BATCH);
}

void nd_cache_destroy(struct nd_cache *c)
{
	if (c->limit)
		nd_shrinker_unregister(&c->shrinker);
	nd_cache_clear(c);
	xa_destroy(&c->pages);
}

/* Calls fn for each piece of rq's data that lies within one cache page. */
static void nd_cache_walk(struct nd_cache *c, struct request *rq,
			void (*fn)(struct nd_cache *c, unsigned long index,
				   unsigned int off, u8 *data, unsigned int len))
{
	u64 pos = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		u8 *p = bvec_kmap_local(&bv);
		unsigned int done = 0;

		while (done < bv.bv_len) {
			unsigned int off = pos & (ND_CACHE_PAGE - 1);
			unsigned int n = min(bv.bv_len - done, ND_CACHE_PAGE - off);

			fn(c, pos >> ND_CACHE_SHIFT, off, p + done, n);
			done += n;
			pos += n;
		}
		kunmap_local(p);
	}
}

static void nd_cache_range(struct request *rq, unsigned long *first, unsigned long *last)
{
	u64 start = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;

	*first = start >> ND_CACHE_SHIFT;
	*last = (start + blk_rq_bytes(rq) - 1) >> ND_CACHE_SHIFT;
}

static void nd_cache_copy_out(struct nd_cache *c, unsigned long index, unsigned int off,
		     u8 *data, unsigned int len)
{
	struct nd_cache_entry *e = xa_load(&c->pages, index);

	memcpy(data, page_address(e->page) + off, len);
	list_move(&e->lru, &c->lru);
}

bool nd_cache_read(struct nd_cache *c, struct request *rq)
{
	unsigned long first, last, i;

	nd_cache_range(rq, &first, &last);
	spin_lock(&c->lock);
	for (i = first; i <= last; i++) {
		if (!xa_load(&c->pages, i)) {
			spin_unlock(&c->lock);
			atomic64_inc(&c->misses);
			return false;
		}
	}
	nd_cache_walk(c, rq, nd_cache_copy_out);
	spin_unlock(&c->lock);
	atomic64_inc(&c->hits);
	return true;
}

static struct nd_cache_entry *nd_cache_entry_new(struct nd_cache *c, unsigned long index)
{
	struct nd_cache_entry *e;

	if (c->count >= c->limit) {
		nd_cache_entry_free(c, list_last_entry(&c->lru, struct nd_cache_entry, lru));
		atomic64_inc(&c->evictions);
	}
	e = kmalloc(sizeof(*e), ND_CACHE_GFP);
	if (!e)
		return NULL;
	e->page = alloc_page(ND_CACHE_GFP);
	e->index = index;
	if (!e->page || xa_err(xa_store(&c->pages, index, e, ND_CACHE_GFP))) {
		if (e->page)
			__free_page(e->page);
		kfree(e);
		return NULL;
	}
	list_add(&e->lru, &c->lru);
	c->count++;
	return e;
}

/* Whole pages are added; part of a page only updates a cached one. */
static void nd_cache_copy_in(struct nd_cache *c, unsigned long index, unsigned int off,
		    u8 *data, unsigned int len)
{
	struct nd_cache_entry *e = xa_load(&c->pages, index);

	if (!e && len == ND_CACHE_PAGE)
		e = nd_cache_entry_new(c, index);
	if (!e)
		return;
	memcpy(page_address(e->page) + off, data, len);
	list_move(&e->lru, &c->lru);
}

void nd_cache_fill(struct nd_cache *c, struct request *rq, s64 gen)
{
	spin_lock(&c->lock);
	if (atomic64_read(&c->gen) == gen)
		nd_cache_walk(c, rq, nd_cache_copy_in);
	spin_unlock(&c->lock);
}

void nd_cache_invalidate(struct nd_cache *c, struct request *rq)
{
	unsigned long first, last, i;
	struct nd_cache_entry *e;

	nd_cache_range(rq, &first, &last);
	spin_lock(&c->lock);
	atomic64_inc(&c->gen);
	xa_for_each_range(&c->pages, i, e, first, last)
		nd_cache_entry_free(c, e);
	spin_unlock(&c->lock);
}

unsigned long nd_cache_bytes(struct nd_cache *c)
{
	return READ_ONCE(c->count) << ND_CACHE_SHIFT;
}
