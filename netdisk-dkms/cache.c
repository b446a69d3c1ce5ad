// SPDX-License-Identifier: GPL-2.0
#include <linux/highmem.h>
#include <linux/slab.h>

#include "cache.h"

#define ND_CACHE_SHIFT	12
#define ND_CACHE_PAGE	(1U << ND_CACHE_SHIFT)

struct nd_cache_entry {
	struct list_head lru;
	unsigned long index;
	struct page *page;
};

void nd_cache_init(struct nd_cache *c, unsigned int size_mb)
{
	mutex_init(&c->lock);
	xa_init(&c->pages);
	INIT_LIST_HEAD(&c->lru);
	c->count = 0;
	c->limit = (unsigned long)size_mb << (20 - ND_CACHE_SHIFT);
	atomic64_set(&c->gen, 0);
	atomic64_set(&c->hits, 0);
	atomic64_set(&c->misses, 0);
	atomic64_set(&c->evictions, 0);
}

static void entry_free(struct nd_cache *c, struct nd_cache_entry *e)
{
	xa_erase(&c->pages, e->index);
	list_del(&e->lru);
	__free_page(e->page);
	kfree(e);
	c->count--;
}

void nd_cache_destroy(struct nd_cache *c)
{
	struct nd_cache_entry *e, *next;

	mutex_lock(&c->lock);
	list_for_each_entry_safe(e, next, &c->lru, lru)
		entry_free(c, e);
	mutex_unlock(&c->lock);
	xa_destroy(&c->pages);
}

/* Calls fn for each piece of rq's data that lies within one cache page. */
static void walk_pieces(struct nd_cache *c, struct request *rq,
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

static void range(struct request *rq, unsigned long *first, unsigned long *last)
{
	u64 start = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;

	*first = start >> ND_CACHE_SHIFT;
	*last = (start + blk_rq_bytes(rq) - 1) >> ND_CACHE_SHIFT;
}

static void copy_out(struct nd_cache *c, unsigned long index, unsigned int off,
		     u8 *data, unsigned int len)
{
	struct nd_cache_entry *e = xa_load(&c->pages, index);

	memcpy(data, page_address(e->page) + off, len);
	list_move(&e->lru, &c->lru);
}

bool nd_cache_read(struct nd_cache *c, struct request *rq)
{
	unsigned long first, last, i;

	range(rq, &first, &last);
	mutex_lock(&c->lock);
	for (i = first; i <= last; i++) {
		if (!xa_load(&c->pages, i)) {
			mutex_unlock(&c->lock);
			atomic64_inc(&c->misses);
			return false;
		}
	}
	walk_pieces(c, rq, copy_out);
	mutex_unlock(&c->lock);
	atomic64_inc(&c->hits);
	return true;
}

static struct nd_cache_entry *entry_new(struct nd_cache *c, unsigned long index)
{
	struct nd_cache_entry *e;

	if (c->count >= c->limit) {
		entry_free(c, list_last_entry(&c->lru, struct nd_cache_entry, lru));
		atomic64_inc(&c->evictions);
	}
	e = kmalloc(sizeof(*e), GFP_NOIO | __GFP_NOWARN);
	if (!e)
		return NULL;
	e->page = alloc_page(GFP_NOIO | __GFP_NOWARN);
	e->index = index;
	if (!e->page || xa_err(xa_store(&c->pages, index, e, GFP_NOIO | __GFP_NOWARN))) {
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
static void copy_in(struct nd_cache *c, unsigned long index, unsigned int off,
		    u8 *data, unsigned int len)
{
	struct nd_cache_entry *e = xa_load(&c->pages, index);

	if (!e && len == ND_CACHE_PAGE)
		e = entry_new(c, index);
	if (!e)
		return;
	memcpy(page_address(e->page) + off, data, len);
	list_move(&e->lru, &c->lru);
}

void nd_cache_fill(struct nd_cache *c, struct request *rq, s64 gen)
{
	mutex_lock(&c->lock);
	if (atomic64_read(&c->gen) == gen)
		walk_pieces(c, rq, copy_in);
	mutex_unlock(&c->lock);
}

void nd_cache_write(struct nd_cache *c, struct request *rq)
{
	mutex_lock(&c->lock);
	atomic64_inc(&c->gen);
	walk_pieces(c, rq, copy_in);
	mutex_unlock(&c->lock);
}

void nd_cache_invalidate(struct nd_cache *c, struct request *rq)
{
	unsigned long first, last, i;
	struct nd_cache_entry *e;

	range(rq, &first, &last);
	mutex_lock(&c->lock);
	atomic64_inc(&c->gen);
	xa_for_each_range(&c->pages, i, e, first, last)
		entry_free(c, e);
	mutex_unlock(&c->lock);
}

unsigned long nd_cache_bytes(struct nd_cache *c)
{
	return READ_ONCE(c->count) << ND_CACHE_SHIFT;
}
