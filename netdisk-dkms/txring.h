/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pages a connection seals its records into, reused by reference count
 * as net/tls reuses its pages: TCP takes a reference to every page it sends
 * from, and the skbs that a local receiver has not yet read keep theirs. A
 * page whose only reference is the ring's own is free.
 *
 * Records lie one after another round the ring and never wrap. A page is
 * checked when the first record of a lap enters it; after that only later
 * records of the same lap write to it, each to bytes no one has sent.
 *
 * A page can stay held with nothing of ours in flight: a dead socket's
 * queues, or a receiver's skbs that wait on the sending CPU's deferred-free
 * list (skb_attempt_defer_free) until that CPU next receives. No event
 * tells us when they go, so such a page is renewed: the ring gives it up
 * to its last holder and takes a new one in its place. The ring holds
 * one reference to each of its pages; renewals are counted, as the only
 * allocations of the send path.
 *
 * One user at a time: the connection's io_work, or nd_conn_open while
 * io_work is stopped.
 */
#ifndef _NETDISK_TXRING_H
#define _NETDISK_TXRING_H

#include <linux/mm_types.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

struct nd_tx_ring {
	struct page **pages;
	unsigned int nr_pages;
	size_t head;			/* where the next record starts */
	struct scatterlist *sg;		/* the pages of the record last mapped */
	unsigned int nr_sg;		/* entries sg has */
	unsigned int sg_end;		/* the entry marked as the end */
	u64 renewed;			/* pages given up and replaced */
};

/* size bytes of pages; records of up to max_record bytes. GFP_KERNEL. */
int nd_tx_ring_init(struct nd_tx_ring *r, size_t size, size_t max_record);
void nd_tx_ring_destroy(struct nd_tx_ring *r);
/* For a new socket: starts at the first page, every page free. */
int nd_tx_ring_reset(struct nd_tx_ring *r);
/*
 * The offset of len bytes for the next record. Pages it needs that are
 * still held are renewed if renew is set (nothing of ours is in flight to
 * free them); else -EBUSY. -ENOMEM if a renewal finds no page.
 */
long nd_tx_ring_reserve(struct nd_tx_ring *r, size_t len, bool renew);
void nd_tx_ring_write(struct nd_tx_ring *r, size_t off, const void *src,
		      size_t len);
/* A scatterlist over len bytes at off, valid until the next call. */
struct scatterlist *nd_tx_ring_map(struct nd_tx_ring *r, size_t off, size_t len);

/* The page that holds the byte at off; *in_page is its offset there. */
static inline struct page *nd_tx_ring_page(const struct nd_tx_ring *r,
					   size_t off, size_t *in_page)
{
	*in_page = offset_in_page(off);
	return r->pages[off >> PAGE_SHIFT];
}

#endif
