/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netdisk: a block device backed by a netdiskd export over authenticated,
 * encrypted TCP. One connection per hardware queue.
 */
#ifndef _NETDISK_H
#define _NETDISK_H

#include <linux/blk-mq.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "cache.h"
#include "conn.h"
#include "durability.h"
#include "target.h"

#define ND_QUEUE_DEPTH		128
#define ND_MINORS		16
#define ND_MAX_CONNECTIONS	16
/* segments a request may have: its scatterlist lives in the request's PDU */
#define ND_MAX_SEGMENTS		128

/* A request that times out this many times in all fails with BLK_STS_TIMEOUT. */
#define ND_TIMEOUT_BUDGET	3

struct nd_device;

/*
 * A hardware queue's lifecycle. It changes only in nd_queue_change_state(),
 * under its device's state_lock, and only along these edges:
 *
 *	NEW -> LIVE			attach started the connection
 *	NEW, LIVE -> CONNECTING		the connection failed: recovery is queued
 *	CONNECTING -> FAILING		unreachable for dead_timeout
 *	CONNECTING, FAILING -> LIVE	recovery started a new connection
 *	CONNECTING, FAILING -> DEAD	the export changed: recovery ends
 *	any but DELETING -> DELETING	detach; nothing leaves DELETING
 *
 * Only the edge into CONNECTING queues recover_work, so it is queued once
 * per failure, and never once DELETING is set. The hardware queue is
 * stopped and started only under the lock, so its run state follows
 * the state: stopped in CONNECTING.
 */
enum nd_queue_state {
	ND_Q_NEW,		/* attach: connected, not yet started */
	ND_Q_LIVE,		/* requests go to the connection */
	ND_Q_CONNECTING,	/* recovery reconnects; requests wait */
	ND_Q_FAILING,		/* recovery reconnects; requests fail at once */
	ND_Q_DEAD,		/* requests fail at once; no recovery */
	ND_Q_DELETING,		/* detach; requests fail at once */
};

/* A hardware queue: its connection and the policy that recovers it. */
struct nd_queue {
	struct nd_conn conn;
	struct nd_device *dev;
	struct blk_mq_hw_ctx *hctx;
	enum nd_queue_state state;	/* dev->state_lock; READ_ONCE to peek */
	struct work_struct recover_work;
	unsigned long dead_since;	/* jiffies, set on the edge into CONNECTING */
	u64 verifier;			/* the connection's, set before it starts */
	atomic64_t requests;		/* sent on this queue, resends included */
	atomic64_t reconnects;		/* this queue's connection, made again */
};

/* Per-request state, in the request's PDU. */
struct nd_cmd {
	struct nd_io io;
	struct nd_queue *queue;
	unsigned long flags;		/* enum nd_cmd_flags */
	unsigned int timeouts;		/* times it timed out, across resends */
	u32 cookie;			/* bumped on every send */
	blk_status_t status;
	s64 cache_gen;			/* READ: cache generation when sent */
	u64 flush_covers;		/* FLUSH: nd_dur_flush_sent() when sent */
	struct scatterlist sg[ND_MAX_SEGMENTS];
};

enum nd_cmd_flags {
	ND_CMD_INFLIGHT,		/* the connection has it; cleared by who takes it back */
	ND_CMD_REQUEUED,		/* back in the queue for a resend */
	ND_CMD_EXPIRED,			/* retry budget spent: recovery fails it */
};

struct nd_stats {
	atomic64_t reads, writes, flushes, discards, write_zeroes;
	atomic64_t bytes_read, bytes_written;
	atomic64_t errors, reconnects;
	atomic64_t lost_writes;		/* times acknowledged writes were found lost */
};

/* A device is LIVE from attach until detach sets DELETING, for good. */
enum nd_device_state {
	ND_DEV_LIVE,
	ND_DEV_DELETING,
};

struct nd_device {
	struct list_head list;
	int index;
	struct nd_target target;
	struct nd_export_info info;
	/* the device's state and every queue's; taken with interrupts off */
	spinlock_t state_lock;
	enum nd_device_state state;
	wait_queue_head_t wait;		/* woken on detach */

	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	unsigned int nr_queues;
	struct nd_queue *queues;
	struct nd_stats stats;
	struct nd_cache cache;
	struct nd_durability dur;	/* the verifier: from queue 0's INFO */
};

/* main.c: module parameters that apply to every device */
extern unsigned int nd_dead_timeout_s;
extern unsigned int nd_request_timeout_s;
extern struct workqueue_struct *nd_wq;

/* device.c */
int nd_device_init(void);
void nd_device_exit(void);
int nd_device_attach(const struct nd_target *t, struct nd_device **out);
void nd_device_detach(struct nd_device *dev);

const char *nd_device_state(struct nd_device *dev);
const char *nd_queue_state_name(enum nd_queue_state state);
unsigned int nd_dead_timeout(const struct nd_device *dev);

/* ctrl.c: the generic netlink family and the list of disks */
int nd_ctrl_init(void);
void nd_ctrl_exit(void);
/* Validates and completes the target, then attaches; always wipes t->key. */
int nd_ctrl_attach(struct nd_target *t, const char *addr, int *index);

/* sysfs.c */
extern const struct attribute_group *nd_disk_groups[];

#endif
