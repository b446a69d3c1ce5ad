// SPDX-License-Identifier: GPL-2.0
/* The block device: blk-mq operations, attach and detach, sysfs attributes. */
#define pr_fmt(fmt) "netdisk: " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "compat.h"
#include "netdisk.h"

static DEFINE_IDA(nd_index_ida);
static int nd_major;

static blk_status_t nd_queue_rq(struct blk_mq_hw_ctx *hctx,
				const struct blk_mq_queue_data *bd)
{
	struct nd_device *dev = hctx->queue->queuedata;
	struct nd_conn *c = &dev->conns[hctx->queue_num];
	struct request *rq = bd->rq;
	struct nd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	/* ours alone until sent; the cookie keeps counting across uses */
	cmd->conn = NULL;
	clear_bit(ND_CMD_INFLIGHT, &cmd->flags);
	/* a resend keeps its count of timeouts; a new request starts afresh */
	if (!test_and_clear_bit(ND_CMD_REQUEUED, &cmd->flags))
		cmd->timeouts = 0;
	blk_mq_start_request(rq);
	if (req_op(rq) == REQ_OP_READ && nd_cache_enabled(&dev->cache) &&
	    nd_cache_read(&dev->cache, rq)) {
		blk_mq_end_request(rq, BLK_STS_OK);
		return BLK_STS_OK;
	}
	for (;;) {
		int ret;

		if (!nd_conn_wait_usable(c)) {
			atomic64_inc(&dev->stats.errors);
			return BLK_STS_IOERR;
		}
		ret = nd_conn_send_request(c, rq);
		if (ret == -EOPNOTSUPP)
			return BLK_STS_NOTSUPP;
		if (!ret)
			break;
	}
	switch (req_op(rq)) {
	case REQ_OP_READ:
		atomic64_inc(&dev->stats.reads);
		atomic64_add(blk_rq_bytes(rq), &dev->stats.bytes_read);
		break;
	case REQ_OP_WRITE:
		atomic64_inc(&dev->stats.writes);
		atomic64_add(blk_rq_bytes(rq), &dev->stats.bytes_written);
		break;
	case REQ_OP_FLUSH:
		atomic64_inc(&dev->stats.flushes);
		break;
	case REQ_OP_DISCARD:
		atomic64_inc(&dev->stats.discards);
		break;
	default:
		atomic64_inc(&dev->stats.write_zeroes);
		break;
	}
	return BLK_STS_OK;
}

static void nd_complete_rq(struct request *rq)
{
	struct nd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	blk_mq_end_request(rq, cmd->status);
}

static enum blk_eh_timer_return nd_timeout_rq(struct request *rq)
{
	struct nd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct nd_conn *c = cmd->conn;

	if (!c || !test_bit(ND_CMD_INFLIGHT, &cmd->flags))
		return BLK_EH_RESET_TIMER;
	if (test_bit(ND_CONN_DEAD, &c->flags) || READ_ONCE(c->dev->removing)) {
		/* the reconnect work or the teardown owns it */
		return BLK_EH_RESET_TIMER;
	}
	if (++cmd->timeouts >= ND_TIMEOUT_BUDGET || rq->cmd_flags & REQ_FAILFAST_MASK) {
		/* the budget is spent: fail it here, a late reply is ignored */
		if (!test_and_clear_bit(ND_CMD_INFLIGHT, &cmd->flags))
			return BLK_EH_RESET_TIMER;
		pr_err_ratelimited("netdisk%d: %s at sector %llu unanswered after %u timeouts of %u s, failing it\n",
				   c->dev->index, blk_op_str(req_op(rq)), blk_rq_pos(rq),
				   cmd->timeouts, nd_request_timeout_s);
		atomic64_inc(&c->dev->stats.errors);
		cmd->status = BLK_STS_TIMEOUT;
		blk_mq_complete_request(rq);
		return BLK_EH_DONE;
	}
	pr_warn_ratelimited("netdisk%d: request timed out after %u s, reconnecting\n",
			    c->dev->index, nd_request_timeout_s);
	nd_conn_fail(c, "request timed out");
	return BLK_EH_RESET_TIMER;
}

static const struct blk_mq_ops nd_mq_ops = {
	.queue_rq	= nd_queue_rq,
	.complete	= nd_complete_rq,
	.timeout	= nd_timeout_rq,
};

static const struct block_device_operations nd_fops = {
	.owner		= THIS_MODULE,
};

struct iter_ctx {
	struct nd_conn *conn;	/* only requests sent on it; NULL for all */
	bool requeue;
};

static bool take_inflight(struct request *rq, void *data)
{
	struct iter_ctx *ctx = data;
	struct nd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	if (ctx->conn && cmd->conn != ctx->conn)
		return true;
	if (!test_and_clear_bit(ND_CMD_INFLIGHT, &cmd->flags))
		return true;
	if (ctx->requeue) {
		set_bit(ND_CMD_REQUEUED, &cmd->flags);
		blk_mq_requeue_request(rq, false);
	} else {
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(rq);
	}
	return true;
}

/* Puts the requests sent on a dead connection back in the queue. */
void nd_device_requeue_inflight(struct nd_device *dev, struct nd_conn *conn)
{
	struct iter_ctx ctx = { .conn = conn, .requeue = true };

	blk_mq_tagset_busy_iter(&dev->tag_set, take_inflight, &ctx);
}

void nd_device_fail_inflight(struct nd_device *dev)
{
	struct iter_ctx ctx = { .conn = NULL, .requeue = false };

	blk_mq_tagset_busy_iter(&dev->tag_set, take_inflight, &ctx);
}

static void nd_conns_teardown(struct nd_device *dev, unsigned int count)
{
	unsigned int i;

	WRITE_ONCE(dev->removing, true);
	for (i = 0; i < count; i++)
		nd_conn_shutdown(&dev->conns[i]);
}

static void nd_conns_free(struct nd_device *dev, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		nd_conn_destroy(&dev->conns[i]);
	kfree(dev->conns);
}

static int nd_conns_open(struct nd_device *dev, unsigned int *opened)
{
	unsigned int i;
	int ret;

	*opened = 0;
	dev->conns = kcalloc(dev->nr_conns, sizeof(*dev->conns), GFP_KERNEL);
	if (!dev->conns)
		return -ENOMEM;
	for (i = 0; i < dev->nr_conns; i++) {
		struct nd_export_info info;

		ret = nd_conn_init(&dev->conns[i], dev, i);
		if (ret)
			return ret;
		(*opened)++;
		ret = nd_conn_open(&dev->conns[i], i ? &info : &dev->info);
		if (ret)
			return ret;
		if (i && memcmp(&info, &dev->info, sizeof(info))) {
			pr_err("netdisk%d: export changed between connections\n", dev->index);
			return -EIO;
		}
	}
	return 0;
}

static void nd_set_limits(struct nd_device *dev, struct nd_queue_limits *lim)
{
	u32 bs = dev->info.block_size;

	lim->logical_block_size = bs;
	lim->physical_block_size = bs;
	lim->max_hw_sectors = dev->info.max_io >> SECTOR_SHIFT;
	lim->max_segment_size = dev->info.max_io;
	/* requests are copied into the record buffer: any layout will do */
	lim->max_segments = USHRT_MAX;
	if (dev->info.flags & ND_INFO_TRIM) {
		lim->max_discard_sectors = UINT_MAX >> SECTOR_SHIFT;
		lim->discard_granularity = bs;
	}
	if (dev->info.flags & ND_INFO_WRITE_ZEROES)
		lim->max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT;
	lim->write_cache = dev->info.flags & ND_INFO_FLUSH;
	lim->fua = dev->info.flags & ND_INFO_FUA;
}

int nd_device_attach(const struct nd_target *t, struct nd_device **out)
{
	struct nd_queue_limits lim = { 0 };
	struct nd_device *dev;
	struct gendisk *disk;
	unsigned int opened = 0, i;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->target = *t;
	dev->nr_conns = t->connections;
	nd_cache_init(&dev->cache, t->cache_mb);
	ret = ida_alloc_max(&nd_index_ida, (1 << MINORBITS) / ND_MINORS - 1, GFP_KERNEL);
	if (ret < 0)
		goto out_free_dev;
	dev->index = ret;

	ret = nd_conns_open(dev, &opened);
	if (ret)
		goto out_free_conns;

	dev->tag_set.ops = &nd_mq_ops;
	dev->tag_set.nr_hw_queues = dev->nr_conns;
	dev->tag_set.queue_depth = ND_QUEUE_DEPTH;
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct nd_cmd);
	dev->tag_set.flags = ND_TAG_SET_FLAGS;
	dev->tag_set.timeout = nd_request_timeout_s * HZ;
	dev->tag_set.driver_data = dev;
	ret = blk_mq_alloc_tag_set(&dev->tag_set);
	if (ret)
		goto out_free_conns;

	nd_set_limits(dev, &lim);
	disk = nd_alloc_disk(&dev->tag_set, &lim, dev);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto out_free_tags;
	}
	dev->disk = disk;
	disk->major = nd_major;
	disk->first_minor = dev->index * ND_MINORS;
	disk->minors = ND_MINORS;
	disk->fops = &nd_fops;
	disk->private_data = dev;
	snprintf(disk->disk_name, sizeof(disk->disk_name), "netdisk%d", dev->index);
	set_capacity(disk, dev->info.size >> SECTOR_SHIFT);
	if (dev->info.flags & ND_INFO_READ_ONLY)
		set_disk_ro(disk, true);

	for (i = 0; i < dev->nr_conns; i++) {
		ret = nd_conn_start(&dev->conns[i]);
		if (ret)
			goto out_put_disk;
	}
	ret = device_add_disk(NULL, disk, nd_disk_groups);
	if (ret)
		goto out_put_disk;
	pr_info("netdisk%d: attached %s port %u export '%s' as identity '%s': %llu bytes, %u-byte blocks, %s, %u connection(s)\n",
		dev->index, t->host, t->port, t->export_name, t->identity,
		dev->info.size, dev->info.block_size,
		dev->info.flags & ND_INFO_READ_ONLY ? "read-only" : "read-write",
		dev->nr_conns);
	*out = dev;
	return 0;

out_put_disk:
	nd_conns_teardown(dev, opened);
	put_disk(disk);
out_free_tags:
	blk_mq_free_tag_set(&dev->tag_set);
out_free_conns:
	nd_conns_teardown(dev, opened);
	nd_conns_free(dev, opened);
	ida_free(&nd_index_ida, dev->index);
out_free_dev:
	memzero_explicit(dev->target.key, sizeof(dev->target.key));
	kfree(dev);
	return ret;
}

void nd_device_detach(struct nd_device *dev)
{
	pr_info("netdisk%d: detaching\n", dev->index);
	nd_conns_teardown(dev, dev->nr_conns);
	/* nothing can reach the server now: fail what was sent, and the rest */
	nd_device_fail_inflight(dev);
	blk_mq_kick_requeue_list(dev->disk->queue);
	del_gendisk(dev->disk);
	put_disk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
	nd_conns_free(dev, dev->nr_conns);
	nd_cache_destroy(&dev->cache);
	ida_free(&nd_index_ida, dev->index);
	memzero_explicit(dev->target.key, sizeof(dev->target.key));
	kfree(dev);
}

int nd_device_init(void)
{
	nd_major = register_blkdev(0, "netdisk");
	return nd_major < 0 ? nd_major : 0;
}

void nd_device_exit(void)
{
	unregister_blkdev(nd_major, "netdisk");
	ida_destroy(&nd_index_ida);
}

/* sysfs: /sys/block/netdiskN/netdisk/ */

static struct nd_device *to_nd(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

#define ND_STRING_ATTR(name, expr)						\
static ssize_t name##_show(struct device *d, struct device_attribute *a,	\
			   char *buf)						\
{										\
	struct nd_device *dev = to_nd(d);					\
										\
	return sysfs_emit(buf, "%s\n", expr);					\
}										\
static DEVICE_ATTR_RO(name)

#define ND_COUNTER_ATTR(name)							\
static ssize_t name##_show(struct device *d, struct device_attribute *a,	\
			   char *buf)						\
{										\
	return sysfs_emit(buf, "%lld\n",					\
			  atomic64_read(&to_nd(d)->stats.name));		\
}										\
static DEVICE_ATTR_RO(name)

ND_STRING_ATTR(host, dev->target.host);
ND_STRING_ATTR(export, dev->target.export_name);
ND_STRING_ATTR(identity, dev->target.identity);
ND_COUNTER_ATTR(reads);
ND_COUNTER_ATTR(writes);
ND_COUNTER_ATTR(flushes);
ND_COUNTER_ATTR(discards);
ND_COUNTER_ATTR(write_zeroes);
ND_COUNTER_ATTR(bytes_read);
ND_COUNTER_ATTR(bytes_written);
ND_COUNTER_ATTR(errors);
ND_COUNTER_ATTR(reconnects);

#define ND_CACHE_ATTR(name)							\
static ssize_t cache_##name##_show(struct device *d,				\
				   struct device_attribute *a, char *buf)	\
{										\
	return sysfs_emit(buf, "%lld\n",					\
			  atomic64_read(&to_nd(d)->cache.name));		\
}										\
static DEVICE_ATTR_RO(cache_##name)

ND_CACHE_ATTR(hits);
ND_CACHE_ATTR(misses);
ND_CACHE_ATTR(evictions);

static ssize_t cache_bytes_show(struct device *d, struct device_attribute *a,
				char *buf)
{
	return sysfs_emit(buf, "%lu\n", nd_cache_bytes(&to_nd(d)->cache));
}
static DEVICE_ATTR_RO(cache_bytes);

static ssize_t cache_limit_bytes_show(struct device *d, struct device_attribute *a,
				      char *buf)
{
	return sysfs_emit(buf, "%lu\n", to_nd(d)->cache.limit << 12);
}
static DEVICE_ATTR_RO(cache_limit_bytes);

static ssize_t port_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_nd(d)->target.port);
}
static DEVICE_ATTR_RO(port);

static ssize_t connections_show(struct device *d, struct device_attribute *a,
				char *buf)
{
	return sysfs_emit(buf, "%u\n", to_nd(d)->nr_conns);
}
static DEVICE_ATTR_RO(connections);

static ssize_t state_show(struct device *d, struct device_attribute *a, char *buf)
{
	struct nd_device *dev = to_nd(d);
	unsigned int i, dead = 0;

	if (READ_ONCE(dev->removing))
		return sysfs_emit(buf, "detaching\n");
	for (i = 0; i < dev->nr_conns; i++)
		dead += test_bit(ND_CONN_DEAD, &dev->conns[i].flags);
	if (!dead)
		return sysfs_emit(buf, "connected\n");
	return sysfs_emit(buf, "%s\n", READ_ONCE(dev->dead_logged) ? "failed" : "reconnecting");
}
static DEVICE_ATTR_RO(state);

static struct attribute *nd_disk_attrs[] = {
	&dev_attr_host.attr,
	&dev_attr_port.attr,
	&dev_attr_export.attr,
	&dev_attr_identity.attr,
	&dev_attr_state.attr,
	&dev_attr_connections.attr,
	&dev_attr_reads.attr,
	&dev_attr_writes.attr,
	&dev_attr_flushes.attr,
	&dev_attr_discards.attr,
	&dev_attr_write_zeroes.attr,
	&dev_attr_bytes_read.attr,
	&dev_attr_bytes_written.attr,
	&dev_attr_errors.attr,
	&dev_attr_reconnects.attr,
	&dev_attr_cache_hits.attr,
	&dev_attr_cache_misses.attr,
	&dev_attr_cache_evictions.attr,
	&dev_attr_cache_bytes.attr,
	&dev_attr_cache_limit_bytes.attr,
	NULL,
};

static const struct attribute_group nd_disk_group = {
	.name = "netdisk",
	.attrs = nd_disk_attrs,
};

const struct attribute_group *nd_disk_groups[] = {
	&nd_disk_group,
	NULL,
};
