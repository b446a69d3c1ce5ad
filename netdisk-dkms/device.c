// SPDX-License-Identifier: GPL-2.0
/*
 * The block device: blk-mq operations, the request lifecycle, and the policy
 * that recovers a hardware queue whose connection failed: requeue, reconnect
 * with backoff, and fail I/O once the dead timeout or the retry budget ends.
 */
#define pr_fmt(fmt) "netdisk: " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "compat.h"
#include "fault.h"
#include "netdisk.h"

static DEFINE_IDA(nd_index_ida);
static int nd_major;

/* This disk's dead timeout in seconds, 0 for never: its own, or the module's. */
unsigned int nd_dead_timeout(const struct nd_device *dev)
{
	unsigned int s = dev->target.dead_timeout_s;

	return s == ND_DEAD_TIMEOUT_MODULE ? READ_ONCE(nd_dead_timeout_s) : s;
}

/*
 * Moves q along one of the edges netdisk.h allows; false, and no change, for
 * any other. A device that is DELETING lets its queues move only to DELETING.
 */
static bool nd_queue_change_state(struct nd_queue *q, enum nd_queue_state new)
{
	enum nd_queue_state old = q->state;
	bool ok;

	lockdep_assert_held(&q->dev->state_lock);
	switch (new) {
	case ND_Q_LIVE:
		ok = old == ND_Q_NEW || old == ND_Q_CONNECTING || old == ND_Q_FAILING;
		break;
	case ND_Q_CONNECTING:
		ok = old == ND_Q_NEW || old == ND_Q_LIVE;
		break;
	case ND_Q_FAILING:
		ok = old == ND_Q_CONNECTING;
		break;
	case ND_Q_DEAD:
		ok = old == ND_Q_CONNECTING || old == ND_Q_FAILING;
		break;
	case ND_Q_DELETING:
		ok = old != ND_Q_DELETING;
		break;
	default:
		ok = false;
		break;
	}
	if (q->dev->state == ND_DEV_DELETING && new != ND_Q_DELETING)
		ok = false;
	if (ok)
		WRITE_ONCE(q->state, new);
	return ok;
}

/*
 * Moves q out of a wait to new (LIVE, FAILING or DEAD) and lets its waiting
 * requests run: sent, or failed at once. False if q could not move.
 */
static bool nd_queue_release(struct nd_queue *q, enum nd_queue_state new)
{
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&q->dev->state_lock, flags);
	/* LIVE only while its connection is: a failure since would be lost */
	ok = (new != ND_Q_LIVE || nd_conn_live(&q->conn)) && nd_queue_change_state(q, new);
	if (ok)
		blk_mq_start_stopped_hw_queue(q->hctx, true);
	spin_unlock_irqrestore(&q->dev->state_lock, flags);
	if (ok)
		blk_mq_kick_requeue_list(q->dev->disk->queue);
	return ok;
}

static u16 nd_wire_type(struct request *rq)
{
	switch (req_op(rq)) {
	case REQ_OP_READ:
		return ND_CMD_READ;
	case REQ_OP_WRITE:
		return ND_CMD_WRITE;
	case REQ_OP_FLUSH:
		return ND_CMD_FLUSH;
	case REQ_OP_DISCARD:
		return ND_CMD_TRIM;
	case REQ_OP_WRITE_ZEROES:
		return ND_CMD_WRITE_ZEROES;
	default:
		return U16_MAX;
	}
}

static void nd_account(struct nd_device *dev, struct request *rq)
{
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
}

/* Fills the wire header and maps the data; nothing is copied. */
static void nd_prepare(struct nd_cmd *cmd, struct request *rq, u16 type)
{
	struct nd_request *wr = &cmd->io.req;
	u16 flags = 0;

	/* the protocol allows FUA on WRITE and WRITE_ZEROES only */
	if (rq->cmd_flags & REQ_FUA && (type == ND_CMD_WRITE || type == ND_CMD_WRITE_ZEROES))
		flags |= ND_CMD_FLAG_FUA;
	/* as nbd's NBD_CMD_FLAG_NO_HOLE: zero the range, keep it allocated */
	if (rq->cmd_flags & REQ_NOUNMAP && type == ND_CMD_WRITE_ZEROES)
		flags |= ND_CMD_FLAG_NO_HOLE;
	cmd->cookie++;
	cmd->status = BLK_STS_OK;
	wr->type = cpu_to_be16(type);
	wr->flags = cpu_to_be16(flags);
	wr->length = cpu_to_be32(type == ND_CMD_FLUSH ? 0 : blk_rq_bytes(rq));
	wr->handle = cpu_to_be64((u64)cmd->cookie << 32 | blk_mq_unique_tag(rq));
	wr->offset = cpu_to_be64(type == ND_CMD_FLUSH ? 0 : blk_rq_pos(rq) << SECTOR_SHIFT);
	cmd->io.data_len = 0;
	cmd->io.data = NULL;
	if (type == ND_CMD_READ || type == ND_CMD_WRITE) {
		sg_init_table(cmd->sg, blk_rq_nr_phys_segments(rq));
		nd_map_sg(rq, cmd->sg);
		cmd->io.data = cmd->sg;
		cmd->io.data_len = blk_rq_bytes(rq);
	}
	if (type == ND_CMD_READ)
		cmd->cache_gen = atomic64_read(&cmd->queue->dev->cache.gen);
}

static blk_status_t nd_queue_rq(struct blk_mq_hw_ctx *hctx,
				const struct blk_mq_queue_data *bd)
{
	struct nd_queue *q = hctx->driver_data;
	struct nd_device *dev = q->dev;
	struct request *rq = bd->rq;
	struct nd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	u16 type = nd_wire_type(rq);

	if (type == U16_MAX) {
		clear_bit(ND_CMD_REQUEUED, &cmd->flags);	/* the tag's next request is new */
		return BLK_STS_NOTSUPP;
	}
	if (READ_ONCE(q->state) != ND_Q_LIVE) {
		enum nd_queue_state state;
		unsigned long flags;

		spin_lock_irqsave(&dev->state_lock, flags);
		state = q->state;
		/* stopped under the lock: recovery's start cannot be undone */
		if (state == ND_Q_NEW || state == ND_Q_CONNECTING)
			blk_mq_stop_hw_queue(hctx);
		spin_unlock_irqrestore(&dev->state_lock, flags);
		if (state == ND_Q_NEW || state == ND_Q_CONNECTING)
			return BLK_STS_RESOURCE;	/* recovery starts it again */
		if (state != ND_Q_LIVE) {
			clear_bit(ND_CMD_REQUEUED, &cmd->flags);
			atomic64_inc(&dev->stats.errors);
			return BLK_STS_IOERR;
		}
	}
	/*
	 * If the connection fails from here on, its recovery quiesces the
	 * queue, so waits for this call, and then takes the request back.
	 */
	cmd->queue = q;
	/* a resend keeps its count of timeouts; a new request starts afresh */
	if (!test_and_clear_bit(ND_CMD_REQUEUED, &cmd->flags))
		cmd->timeouts = 0;
	clear_bit(ND_CMD_EXPIRED, &cmd->flags);
	blk_mq_start_request(rq);
	if (type == ND_CMD_READ && nd_cache_enabled(&dev->cache) &&
	    nd_cache_read(&dev->cache, rq)) {
		blk_mq_end_request(rq, BLK_STS_OK);
		return BLK_STS_OK;
	}
	nd_prepare(cmd, rq, type);
	if (type == ND_CMD_FLUSH)
		cmd->flush_covers = nd_dur_flush_sent(&dev->dur);
	nd_account(dev, rq);
	atomic64_inc(&q->requests);
	set_bit(ND_CMD_INFLIGHT, &cmd->flags);
	nd_conn_queue(&q->conn, &cmd->io);
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
	struct nd_queue *q = cmd->queue;

	if (!q || !test_bit(ND_CMD_INFLIGHT, &cmd->flags))
		return BLK_EH_RESET_TIMER;
	/* a failed connection's recovery or the teardown owns it */
	if (READ_ONCE(q->state) != ND_Q_LIVE)
		return BLK_EH_RESET_TIMER;
	if (++cmd->timeouts >= ND_TIMEOUT_BUDGET || rq->cmd_flags & REQ_FAILFAST_MASK) {
		pr_err_ratelimited("netdisk%d: %s at sector %llu unanswered after %u timeouts of %u s, failing it\n",
				   q->dev->index, blk_op_str(req_op(rq)), blk_rq_pos(rq),
				   cmd->timeouts, q->dev->target.timeout_s);
		set_bit(ND_CMD_EXPIRED, &cmd->flags);
	} else {
		pr_warn_ratelimited("netdisk%d: request timed out after %u s, reconnecting\n",
				    q->dev->index, q->dev->target.timeout_s);
	}
	/* the request may sit in the sender's lists: only recovery can take it */
	nd_conn_fail(&q->conn);
	return BLK_EH_RESET_TIMER;
}

static int nd_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int index)
{
	struct nd_device *dev = data;

	dev->queues[index].hctx = hctx;
	hctx->driver_data = &dev->queues[index];
	return 0;
}

static const struct blk_mq_ops nd_mq_ops = {
	.queue_rq	= nd_queue_rq,
	.complete	= nd_complete_rq,
	.timeout	= nd_timeout_rq,
	.init_hctx	= nd_init_hctx,
};

static const struct block_device_operations nd_fops = {
	.owner		= THIS_MODULE,
};

/* Connection callbacks: replies and failures, from io_work or a timeout. */

static struct nd_io *nd_lookup(struct nd_conn *c, u64 handle)
{
	struct nd_queue *q = container_of(c, struct nd_queue, conn);
	struct nd_device *dev = q->dev;
	u32 tag = lower_32_bits(handle);
	struct request *rq = NULL;
	struct nd_cmd *cmd;

	if (blk_mq_unique_tag_to_hwq(tag) == q->hctx->queue_num &&
	    blk_mq_unique_tag_to_tag(tag) < dev->tag_set.queue_depth)
		rq = blk_mq_tag_to_rq(q->hctx->tags, blk_mq_unique_tag_to_tag(tag));
	if (!rq)
		return ERR_PTR(-EPROTO);
	cmd = blk_mq_rq_to_pdu(rq);
	if (cmd->queue != q || READ_ONCE(cmd->cookie) != upper_32_bits(handle))
		return ERR_PTR(-EPROTO);
	if (!test_and_clear_bit(ND_CMD_INFLIGHT, &cmd->flags)) {
		pr_warn_ratelimited("netdisk%d: reply after the request was failed, ignored\n",
				    dev->index);
		return NULL;
	}
	return &cmd->io;
}

static blk_status_t nd_blk_status(u32 status)
{
	switch (status) {
	case ND_OK:
		return BLK_STS_OK;
	case ND_ERR_NOSPC:
		return BLK_STS_NOSPC;
	case ND_ERR_UNSUPPORTED:
		return BLK_STS_NOTSUPP;
	case ND_ERR_READ_ONLY:
		return BLK_STS_MEDIUM;		/* as nvme_error_status() maps NVME_SC_READ_ONLY */
	default:
		return BLK_STS_IOERR;
	}
}

/*
 * The cache learns data only from READ replies. A write's pages may have
 * changed since they were sealed (O_DIRECT from a buffer still in use, or
 * a page without stable writes), so they are never copied: what the write
 * covers is forgotten, and read again from the server.
 */
static void nd_update_cache(struct nd_device *dev, struct request *rq,
			    struct nd_cmd *cmd, u32 status)
{
	switch (req_op(rq)) {
	case REQ_OP_READ:
		if (!status)
			nd_cache_fill(&dev->cache, rq, cmd->cache_gen);
		break;
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		nd_cache_invalidate(&dev->cache, rq);
		break;
	default:
		break;
	}
}

/* What a request the server answered OK means for the write verifier. */
static void nd_track_durability(struct nd_device *dev, struct request *rq,
				struct nd_cmd *cmd)
{
	switch (req_op(rq)) {
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		/* FUA: stable before the reply, no FLUSH needed */
		if (!(rq->cmd_flags & REQ_FUA) &&
		    nd_dur_write_acked(&dev->dur, cmd->queue->verifier)) {
			atomic64_inc(&dev->stats.lost_writes);
			pr_err_ratelimited("netdisk%d (%s): server lost acknowledged writes: a write was acknowledged by the server that lost them; flushes fail until detach\n",
					   dev->index, dev->target.host);
		}
		break;
	case REQ_OP_FLUSH:
		if (!nd_dur_flush_done(&dev->dur, cmd->flush_covers, cmd->queue->verifier)) {
			atomic64_inc(&dev->stats.errors);
			cmd->status = BLK_STS_IOERR;
			pr_err_ratelimited("netdisk%d (%s): flush failed: the server lost acknowledged writes\n",
					   dev->index, dev->target.host);
		}
		break;
	default:
		break;
	}
}

static void nd_complete(struct nd_conn *c, struct nd_io *io, u32 status)
{
	struct nd_cmd *cmd = container_of(io, struct nd_cmd, io);
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct nd_device *dev = cmd->queue->dev;

	if (status == ND_STATUS_RESEND) {
		set_bit(ND_CMD_REQUEUED, &cmd->flags);
		blk_mq_requeue_request(rq, false);
		return;
	}
	cmd->status = nd_blk_status(status);
	if (!status)
		nd_track_durability(dev, rq, cmd);
	if (nd_cache_enabled(&dev->cache))
		nd_update_cache(dev, rq, cmd, status);
	if (status) {
		atomic64_inc(&dev->stats.errors);
		pr_err_ratelimited("netdisk%d: server refused %s at sector %llu: status %u\n",
				   dev->index, blk_op_str(req_op(rq)), blk_rq_pos(rq), status);
	}
	blk_mq_complete_request(rq);
}

/*
 * Once per socket. In CONNECTING or FAILING the failed socket is the one
 * recovery is starting, and recovery sees it; in DELETING, teardown owns
 * the queue.
 */
static void nd_failed(struct nd_conn *c)
{
	struct nd_queue *q = container_of(c, struct nd_queue, conn);
	unsigned long flags;

	nd_fault_delay(ND_FAULT_FAILED, false);
	spin_lock_irqsave(&q->dev->state_lock, flags);
	if (nd_queue_change_state(q, ND_Q_CONNECTING)) {
		q->dead_since = jiffies;
		blk_mq_stop_hw_queue(q->hctx);
		queue_work(nd_wq, &q->recover_work);
	}
	spin_unlock_irqrestore(&q->dev->state_lock, flags);
}

static const struct nd_conn_ops nd_conn_ops = {
	.lookup		= nd_lookup,
	.complete	= nd_complete,
	.failed		= nd_failed,
};

struct nd_take_ctx {
	struct nd_queue *queue;		/* only its requests; NULL for all */
	bool requeue;
};

static bool nd_take_back(struct request *rq, void *data)
{
	struct nd_take_ctx *ctx = data;
	struct nd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	if (ctx->queue && cmd->queue != ctx->queue)
		return true;
	if (!test_and_clear_bit(ND_CMD_INFLIGHT, &cmd->flags))
		return true;
	if (ctx->requeue && !test_bit(ND_CMD_EXPIRED, &cmd->flags)) {
		set_bit(ND_CMD_REQUEUED, &cmd->flags);
		blk_mq_requeue_request(rq, false);
		return true;
	}
	if (test_bit(ND_CMD_EXPIRED, &cmd->flags)) {
		atomic64_inc(&cmd->queue->dev->stats.errors);
		cmd->status = BLK_STS_TIMEOUT;
	} else {
		cmd->status = BLK_STS_IOERR;
	}
	blk_mq_complete_request(rq);
	return true;
}

/*
 * Takes back every request a stopped connection held. The quiesce waits
 * out any queue_rq that saw the connection live and is still queueing.
 */
static void nd_take_back_all(struct nd_device *dev, struct nd_queue *q, bool requeue)
{
	struct nd_take_ctx ctx = { .queue = q, .requeue = requeue };

	blk_mq_quiesce_queue(dev->disk->queue);
	blk_mq_unquiesce_queue(dev->disk->queue);
	blk_mq_tagset_busy_iter(&dev->tag_set, nd_take_back, &ctx);
}

/* Whether the queue's limits, features and name still describe the export. */
static bool nd_same_export(const struct nd_export_info *a, const struct nd_export_info *b)
{
	return a->size == b->size && a->block_size == b->block_size &&
	       a->max_io == b->max_io && a->flags == b->flags &&
	       !memcmp(a->uuid, b->uuid, sizeof(a->uuid));
}

/* A busy server's hint, doubled per refusal in a row up to 10 s, plus jitter. */
static unsigned int nd_busy_wait_ms(struct nd_conn *c, unsigned int refusals)
{
	unsigned int ms = min(nd_conn_busy_hint_ms(c) << min(refusals, 4U), 10000U);

	/* clients refused together must not all come back together */
	return ms + get_random_u32() % (ms + 1);
}

/* Whether a new connection is one the queue can go on with. */
static bool nd_queue_accept(struct nd_queue *q, const struct nd_export_info *info)
{
	struct nd_device *dev = q->dev;

	if (!nd_same_export(info, &dev->info)) {
		pr_err("netdisk%d (%s): export changed under us (size, block size, max_io, flags or UUID); failing its I/O\n",
		       dev->index, dev->target.host);
		return false;
	}
	/* before this queue completes anything from the new server */
	q->verifier = info->verifier;
	if (nd_dur_reconnected(&dev->dur, info->verifier)) {
		atomic64_inc(&dev->stats.lost_writes);
		pr_err("netdisk%d (%s): server lost acknowledged writes: its write verifier changed while writes awaited a flush; flushes fail until detach\n",
		       dev->index, dev->target.host);
	}
	return true;
}

/*
 * Runs once per edge into CONNECTING, and ends with the queue LIVE, DEAD or
 * DELETING. It alone opens, starts and stops the connection until teardown,
 * which cancels it before it stops the connection itself.
 */
static void nd_recover_work(struct work_struct *work)
{
	struct nd_queue *q = container_of(work, struct nd_queue, recover_work);
	struct nd_device *dev = q->dev;
	unsigned int delay_ms = 100, busy_refusals = 0;

	if (READ_ONCE(q->state) == ND_Q_DELETING)
		return;
	pr_info("netdisk%d (%s): connection %u lost, reconnecting\n",
		dev->index, dev->target.host, q->conn.index);
	nd_conn_stop(&q->conn);
	nd_take_back_all(dev, q, true);
	/* what the server holds may change while we are away */
	nd_cache_clear(&dev->cache);
	while (READ_ONCE(q->state) != ND_Q_DELETING) {
		unsigned int dead_s = nd_dead_timeout(dev);
		struct nd_export_info info;
		int ret;

		if (dead_s && READ_ONCE(q->state) == ND_Q_CONNECTING &&
		    time_after(jiffies, q->dead_since + (unsigned long)dead_s * HZ) &&
		    nd_queue_release(q, ND_Q_FAILING))
			pr_err("netdisk%d (%s): server unreachable for %u s, failing I/O\n",
			       dev->index, dev->target.host, dead_s);
		ret = nd_conn_open(&q->conn, &info);
		nd_fault_delay(ND_FAULT_RECOVER_OPENED, false);
		if (!ret && !nd_queue_accept(q, &info)) {
			nd_conn_stop(&q->conn);
			nd_queue_release(q, ND_Q_DEAD);
			return;
		}
		if (!ret) {
			nd_conn_start(&q->conn);
			nd_fault_delay(ND_FAULT_RECOVER_STARTED, false);
			if (nd_queue_release(q, ND_Q_LIVE)) {
				atomic64_inc(&dev->stats.reconnects);
				atomic64_inc(&q->reconnects);
				pr_info("netdisk%d (%s): connection %u re-established\n",
					dev->index, dev->target.host, q->conn.index);
				return;
			}
			/* failed already, or detach: nothing was sent on it */
			nd_conn_stop(&q->conn);
		}
		/* a busy server's own wait, as at attach, in place of ours */
		if (ret == -EAGAIN)
			delay_ms = nd_busy_wait_ms(&q->conn, busy_refusals++);
		wait_event_timeout(dev->wait, READ_ONCE(q->state) == ND_Q_DELETING,
				   msecs_to_jiffies(delay_ms));
		delay_ms = min(delay_ms * 2, 5000U);
	}
}

/*
 * In the order of nvme_tcp_teardown_io_queues: every queue DELETING, so that
 * nothing reconnects; quiesce and sync, so that no queue_rq or timeout
 * handler is under way; cancel recovery, which may be reconnecting; stop the
 * connections; take back and fail what they held; then let the requests
 * still waiting run, to fail at once. Safe to call twice.
 */
static void nd_queues_teardown(struct nd_device *dev, unsigned int count)
{
	struct nd_take_ctx fail = { .queue = NULL, .requeue = false };
	struct request_queue *rq_queue = dev->disk ? dev->disk->queue : NULL;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&dev->state_lock, flags);
	dev->state = ND_DEV_DELETING;
	for (i = 0; i < count; i++)
		nd_queue_change_state(&dev->queues[i], ND_Q_DELETING);
	spin_unlock_irqrestore(&dev->state_lock, flags);
	wake_up_all(&dev->wait);
	/* a handshake under way ends now, not at its timeout */
	for (i = 0; i < count; i++)
		nd_conn_cancel(&dev->queues[i].conn);
	if (rq_queue) {
		blk_mq_quiesce_queue(rq_queue);
		blk_sync_queue(rq_queue);	/* no timeout handler runs on */
	}
	for (i = 0; i < count; i++)
		cancel_work_sync(&dev->queues[i].recover_work);
	for (i = 0; i < count; i++)
		nd_conn_stop(&dev->queues[i].conn);
	if (!rq_queue)
		return;
	blk_mq_tagset_busy_iter(&dev->tag_set, nd_take_back, &fail);
	/* nothing queues them in DELETING; this only proves it */
	for (i = 0; i < count; i++)
		cancel_work_sync(&dev->queues[i].recover_work);
	blk_mq_unquiesce_queue(rq_queue);
	for (i = 0; i < count; i++)
		blk_mq_start_hw_queue(dev->queues[i].hctx);
	blk_mq_kick_requeue_list(rq_queue);
}

static void nd_queues_free(struct nd_device *dev, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		nd_conn_destroy(&dev->queues[i].conn);
	kfree(dev->queues);
}

/*
 * Opens the first connection for attach. A server at its connection limit
 * is asked again until end; at module load, a signal to insmod ends the wait
 * (an attach over netlink runs in a kworker, which no signal reaches).
 */
static int nd_queue_open_waiting(struct nd_device *dev, struct nd_queue *q,
				 struct nd_export_info *info, unsigned int wait_s)
{
	unsigned long end = jiffies + (unsigned long)wait_s * HZ;
	unsigned int refusals = 0;

	for (;;) {
		unsigned int wait_ms;
		int ret = nd_conn_open(&q->conn, info);

		if (ret != -EAGAIN)
			return ret;
		wait_ms = nd_busy_wait_ms(&q->conn, refusals);
		if (time_after(jiffies + msecs_to_jiffies(wait_ms), end)) {
			pr_err("netdisk%d (%s): server still busy after %u s\n",
			       dev->index, dev->target.host, wait_s);
			return -EAGAIN;
		}
		if (!refusals++)
			pr_info("netdisk%d (%s): server busy, retrying\n",
				dev->index, dev->target.host);
		if (msleep_interruptible(wait_ms))
			return -EINTR;
	}
}

/*
 * Only the first connection waits for a busy server: a disk that holds some
 * places must not wait for more, or disks that each hold a few could wait
 * for each other until all give up. It attaches with the connections it got.
 * It waits dead_timeout, or 30 s if that is 0: an attach always ends.
 */
static int nd_queues_open(struct nd_device *dev, unsigned int *opened)
{
	unsigned int wait_s = nd_dead_timeout(dev) ?: 30;
	unsigned int i;
	int ret;

	*opened = 0;
	dev->queues = kcalloc(dev->nr_queues, sizeof(*dev->queues), GFP_KERNEL);
	if (!dev->queues)
		return -ENOMEM;
	for (i = 0; i < dev->nr_queues; i++) {
		struct nd_queue *q = &dev->queues[i];
		struct nd_export_info info;

		q->dev = dev;
		INIT_WORK(&q->recover_work, nd_recover_work);
		ret = nd_conn_init(&q->conn, &dev->target, &nd_conn_ops, dev->index, i);
		if (ret)
			return ret;
		(*opened)++;
		if (!i) {
			ret = nd_queue_open_waiting(dev, q, &dev->info, wait_s);
		} else {
			ret = nd_conn_open(&q->conn, &info);
			if (ret == -EAGAIN) {
				pr_info("netdisk%d (%s): server busy: attaching with %u of %u connections\n",
					dev->index, dev->target.host, i, dev->nr_queues);
				nd_conn_destroy(&q->conn);
				(*opened)--;
				dev->nr_queues = i;
				return 0;
			}
		}
		if (ret)
			return ret;
		if (i && !nd_same_export(&info, &dev->info)) {
			pr_err("netdisk%d: export changed between connections\n", dev->index);
			return -EIO;
		}
		/* one server instance for all: after a restart between them, attach again */
		if (i && info.verifier != dev->info.verifier) {
			pr_err("netdisk%d: the server restarted with a new write verifier while attaching\n",
			       dev->index);
			return -EAGAIN;
		}
		q->verifier = dev->info.verifier;
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
	/* the request's scatterlist is sealed and opened in place */
	lim->max_segments = ND_MAX_SEGMENTS;
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
	seqlock_init(&dev->target.key_seq);
	dev->nr_queues = t->connections;
	spin_lock_init(&dev->state_lock);
	init_waitqueue_head(&dev->wait);
	ret = ida_alloc_max(&nd_index_ida, (1 << MINORBITS) / ND_MINORS - 1, GFP_KERNEL);
	if (ret < 0)
		goto out_free_dev;
	dev->index = ret;
	ret = nd_cache_init(&dev->cache, t->cache_mb, dev->index);
	if (ret)
		goto out_free_index;

	ret = nd_queues_open(dev, &opened);
	if (ret)
		goto out_free_queues;
	nd_dur_init(&dev->dur, dev->info.verifier);

	dev->tag_set.ops = &nd_mq_ops;
	dev->tag_set.nr_hw_queues = dev->nr_queues;
	dev->tag_set.queue_depth = ND_QUEUE_DEPTH;
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct nd_cmd);
	dev->tag_set.flags = ND_TAG_SET_FLAGS;
	dev->tag_set.timeout = dev->target.timeout_s * HZ;
	dev->tag_set.driver_data = dev;
	ret = blk_mq_alloc_tag_set(&dev->tag_set);
	if (ret)
		goto out_free_queues;

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
	/* whole logical blocks only: a tail shorter than one cannot be addressed */
	set_capacity(disk, round_down(dev->info.size, dev->info.block_size) >> SECTOR_SHIFT);
	if (dev->info.flags & ND_INFO_READ_ONLY)
		set_disk_ro(disk, true);

	for (i = 0; i < dev->nr_queues; i++) {
		struct nd_queue *q = &dev->queues[i];
		unsigned long flags;

		nd_conn_start(&q->conn);
		nd_fault_delay(ND_FAULT_ATTACH_STARTED, false);
		/* a connection that failed since is CONNECTING: recovery's */
		spin_lock_irqsave(&dev->state_lock, flags);
		if (q->state == ND_Q_NEW)
			nd_queue_change_state(q, ND_Q_LIVE);
		spin_unlock_irqrestore(&dev->state_lock, flags);
	}
	ret = device_add_disk(NULL, disk, nd_disk_groups);
	if (ret)
		goto out_put_disk;
	pr_info("netdisk%d: attached %s port %u export '%s' as identity '%s': %llu bytes, %u-byte blocks, %s, %u connection(s)\n",
		dev->index, t->host, t->port, t->export_name, t->identity,
		dev->info.size, dev->info.block_size,
		dev->info.flags & ND_INFO_READ_ONLY ? "read-only" : "read-write",
		dev->nr_queues);
	*out = dev;
	return 0;

out_put_disk:
	nd_queues_teardown(dev, opened);
	put_disk(disk);
	dev->disk = NULL;
out_free_tags:
	blk_mq_free_tag_set(&dev->tag_set);
out_free_queues:
	nd_queues_teardown(dev, opened);
	nd_queues_free(dev, opened);
	nd_cache_destroy(&dev->cache);
out_free_index:
	ida_free(&nd_index_ida, dev->index);
out_free_dev:
	memzero_explicit(dev->target.key, sizeof(dev->target.key));
	kfree(dev);
	return ret;
}

const char *nd_queue_state_name(enum nd_queue_state state)
{
	switch (state) {
	case ND_Q_LIVE:
		return "live";
	case ND_Q_NEW:
	case ND_Q_CONNECTING:
		return "reconnecting";
	case ND_Q_FAILING:
	case ND_Q_DEAD:
		return "failed";
	default:
		return "detaching";
	}
}

/* The worst of the queues' states: a snapshot, for status only. */
const char *nd_device_state(struct nd_device *dev)
{
	enum nd_queue_state worst = ND_Q_LIVE;
	unsigned int i;

	if (READ_ONCE(dev->state) == ND_DEV_DELETING)
		return "detaching";
	for (i = 0; i < dev->nr_queues; i++) {
		enum nd_queue_state state = READ_ONCE(dev->queues[i].state);

		if (state == ND_Q_FAILING || state == ND_Q_DEAD)
			worst = state;
		else if (state != ND_Q_LIVE && worst == ND_Q_LIVE)
			worst = state;
	}
	return worst == ND_Q_LIVE ? "connected" : nd_queue_state_name(worst);
}

void nd_device_detach(struct nd_device *dev)
{
	pr_info("netdisk%d: detaching\n", dev->index);
	nd_queues_teardown(dev, dev->nr_queues);
	del_gendisk(dev->disk);
	put_disk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
	nd_queues_free(dev, dev->nr_queues);
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
