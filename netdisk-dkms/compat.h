/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The block-layer API differences between the kernels netdisk supports,
 * kept here so the driver is written against one interface.
 */
#ifndef _NETDISK_COMPAT_H
#define _NETDISK_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/net.h>
#include <linux/shrinker.h>
#include <linux/socket.h>
#include <linux/version.h>

/* hex2bin() has a header of its own, which <linux/kernel.h> later dropped */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/hex.h>
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "netdisk needs Linux 6.1 or newer"
#endif

/* What the driver sets on its queue, whatever the kernel calls it. */
struct nd_queue_limits {
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int max_hw_sectors;
	unsigned int max_segment_size;
	unsigned short max_segments;
	unsigned int max_discard_sectors;
	unsigned int discard_granularity;
	unsigned int max_write_zeroes_sectors;
	bool write_cache;
	bool fua;
};

/* queue_rq never sleeps: io_work does the sending */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
#define ND_TAG_SET_FLAGS 0
#else
#define ND_TAG_SET_FLAGS BLK_MQ_F_SHOULD_MERGE
#endif

/* blk_rq_map_sg() lost its queue argument in 6.15 */
static inline int nd_map_sg(struct request *rq, struct scatterlist *sg)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return blk_rq_map_sg(rq, sg);
#else
	return blk_rq_map_sg(rq->q, rq, sg);
#endif
}

static inline struct gendisk *
nd_alloc_disk(struct blk_mq_tag_set *set, const struct nd_queue_limits *l,
	      void *queuedata)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct queue_limits lim = {
		.logical_block_size = l->logical_block_size,
		.physical_block_size = l->physical_block_size,
		.max_hw_sectors = l->max_hw_sectors,
		.max_segment_size = l->max_segment_size,
		.max_segments = l->max_segments,
		.max_hw_discard_sectors = l->max_discard_sectors,
		.discard_granularity = l->discard_granularity,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
		.features = (l->write_cache ? BLK_FEAT_WRITE_CACHE : 0) |
			    (l->fua ? BLK_FEAT_FUA : 0),
#endif
	};
	struct gendisk *disk = blk_mq_alloc_disk(set, &lim, queuedata);

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	if (!IS_ERR(disk)) {
		blk_queue_write_cache(disk->queue, l->write_cache, l->fua);
		blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	}
#endif
	return disk;
#else
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, l->logical_block_size);
	blk_queue_physical_block_size(q, l->physical_block_size);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_segment_size(q, l->max_segment_size);
	blk_queue_max_segments(q, l->max_segments);
	blk_queue_max_discard_sectors(q, l->max_discard_sectors);
	q->limits.discard_granularity = l->discard_granularity;
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
	blk_queue_write_cache(q, l->write_cache, l->fua);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	return disk;
#endif
}

/* Hands TCP a page by reference: sendpage went away in 6.5 */
static inline int nd_send_page(struct socket *sock, struct page *page,
			       size_t off, size_t len, int flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	struct bio_vec bv;
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	bvec_set_page(&bv, page, len, off);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bv, 1, len);
	return sock_sendmsg(sock, &msg);
#else
	return kernel_sendpage(sock, page, off, len, flags);
#endif
}

/* Shrinkers are allocated by the core since 6.7, embedded before. */
typedef unsigned long (*nd_shrink_fn)(struct shrinker *s, struct shrink_control *sc);

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
struct nd_shrinker {
	struct shrinker *s;
};

#define nd_shrinker_owner(sh, type, member) ((type *)(sh)->private_data)

static inline int nd_shrinker_register(struct nd_shrinker *n, nd_shrink_fn count,
				       nd_shrink_fn scan, void *owner, int disk_index)
{
	n->s = shrinker_alloc(0, "netdisk%d-cache", disk_index);
	if (!n->s)
		return -ENOMEM;
	n->s->count_objects = count;
	n->s->scan_objects = scan;
	n->s->private_data = owner;
	shrinker_register(n->s);
	return 0;
}

static inline void nd_shrinker_unregister(struct nd_shrinker *n)
{
	shrinker_free(n->s);
}
#else
struct nd_shrinker {
	struct shrinker s;
};

#define nd_shrinker_owner(sh, type, member) container_of(sh, type, member.s)

static inline int nd_shrinker_register(struct nd_shrinker *n, nd_shrink_fn count,
				       nd_shrink_fn scan, void *owner, int disk_index)
{
	n->s.count_objects = count;
	n->s.scan_objects = scan;
	n->s.seeks = DEFAULT_SEEKS;
	return register_shrinker(&n->s, "netdisk%d-cache", disk_index);
}

static inline void nd_shrinker_unregister(struct nd_shrinker *n)
{
	unregister_shrinker(&n->s);
}
#endif

#endif
