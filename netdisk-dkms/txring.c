// SPDX-License-Identifier: GPL-2.0
/* The send side's page ring: see txring.h for who owns what. */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "txring.h"

int nd_tx_ring_init(struct nd_tx_ring *r, size_t size, size_t max_record)
{
	unsigned int i;

	/* a record that starts inside a page may touch one page more */
	r->nr_sg = DIV_ROUND_UP(max_record, PAGE_SIZE) + 1;
	r->nr_pages = DIV_ROUND_UP(size, PAGE_SIZE);
	/* two of the largest records fit, one after the other */
	if ((size_t)r->nr_pages << PAGE_SHIFT < 2 * max_record)
		return -EINVAL;
	r->pages = kcalloc(r->nr_pages, sizeof(*r->pages), GFP_KERNEL);
	r->sg = kcalloc(r->nr_sg, sizeof(*r->sg), GFP_KERNEL);
	if (!r->pages || !r->sg)
		goto fail;
	for (i = 0; i < r->nr_pages; i++) {
		r->pages[i] = alloc_page(GFP_KERNEL);
		if (!r->pages[i])
			goto fail;
	}
	sg_init_table(r->sg, r->nr_sg);
	r->sg_end = r->nr_sg - 1;
	r->head = 0;
	r->renewed = 0;
	return 0;
fail:
	nd_tx_ring_destroy(r);
	return -ENOMEM;
}

void nd_tx_ring_destroy(struct nd_tx_ring *r)
{
	unsigned int i;

	/* a page TCP still holds is freed by its last put_page() */
	for (i = 0; r->pages && i < r->nr_pages; i++)
		if (r->pages[i])
			put_page(r->pages[i]);
	kfree(r->pages);
	kfree(r->sg);
	r->pages = NULL;
	r->sg = NULL;
}

static bool nd_tx_page_free(struct page *page)
{
	return page_count(page) == 1;
}

/* Gives page i up to whoever else holds it, and takes a new one instead. */
static int nd_tx_page_renew(struct nd_tx_ring *r, unsigned int i)
{
	/* under the caller's memalloc scope: io_work's, or attach's noio */
	struct page *page = alloc_page(GFP_KERNEL | __GFP_NOWARN);

	if (!page)
		return -ENOMEM;
	put_page(r->pages[i]);
	r->pages[i] = page;
	WRITE_ONCE(r->renewed, r->renewed + 1);
	return 0;
}

int nd_tx_ring_reset(struct nd_tx_ring *r)
{
	unsigned int i;
	int ret;

	for (i = 0; i < r->nr_pages; i++) {
		if (nd_tx_page_free(r->pages[i]))
			continue;
		ret = nd_tx_page_renew(r, i);
		if (ret)
			return ret;
	}
	r->head = 0;
	return 0;
}

long nd_tx_ring_reserve(struct nd_tx_ring *r, size_t len, bool renew)
{
	size_t size = (size_t)r->nr_pages << PAGE_SHIFT;
	size_t off = r->head, first, last, i;
	int ret;

	if (WARN_ON_ONCE(!len || len > (size_t)(r->nr_sg - 1) << PAGE_SHIFT))
		return -EINVAL;
	if (off + len > size)
		off = 0;
	/* the page that off is inside of was checked when it was entered */
	first = DIV_ROUND_UP(off, PAGE_SIZE);
	last = (off + len - 1) >> PAGE_SHIFT;
	for (i = first; i <= last; i++) {
		if (nd_tx_page_free(r->pages[i]))
			continue;
		if (!renew)
			return -EBUSY;
		ret = nd_tx_page_renew(r, i);
		if (ret)
			return ret;
	}
	r->head = off + len;
	return off;
}

void nd_tx_ring_write(struct nd_tx_ring *r, size_t off, const void *src,
		      size_t len)
{
	while (len) {
		size_t in_page;
		struct page *page = nd_tx_ring_page(r, off, &in_page);
		size_t n = min_t(size_t, len, PAGE_SIZE - in_page);

		memcpy(page_address(page) + in_page, src, n);
		src += n;
		off += n;
		len -= n;
	}
}

struct scatterlist *nd_tx_ring_map(struct nd_tx_ring *r, size_t off, size_t len)
{
	unsigned int n = 0;

	sg_unmark_end(&r->sg[r->sg_end]);
	while (len) {
		size_t in_page;
		struct page *page = nd_tx_ring_page(r, off, &in_page);
		size_t take = min_t(size_t, len, PAGE_SIZE - in_page);

		sg_set_page(&r->sg[n++], page, take, in_page);
		off += take;
		len -= take;
	}
	r->sg_end = n - 1;
	sg_mark_end(&r->sg[r->sg_end]);
	return r->sg;
}
