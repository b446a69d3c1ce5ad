/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netdisk: a block device backed by a netdiskd export over authenticated,
 * encrypted TCP. One connection per hardware queue.
 */
#ifndef _NETDISK_H
#define _NETDISK_H

#include <linux/blk-mq.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/socket.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "cache.h"
#include "crypto.h"
#include "netdisk_wire.h"

#define ND_QUEUE_DEPTH		128
#define ND_MINORS		16
#define ND_MAX_CONNECTIONS	16

/* What a user asks for when attaching a disk. */
struct nd_target {
	char host[64];			/* as given: IPv4 or IPv6 literal */
	struct sockaddr_storage addr;
	u16 port;
	char export_name[ND_NAME_SIZE];
	char identity[ND_NAME_SIZE];
	char server_name[ND_NAME_SIZE];	/* the name the server must answer to */
	u8 key[ND_KEY_SIZE];
	unsigned int connections;
	unsigned int cache_mb;
};

enum nd_conn_flags {
	ND_CONN_DEAD,			/* socket unusable, reconnect pending */
};

struct nd_device;

struct nd_conn {
	struct nd_device *dev;
	unsigned int index;		/* == hardware queue number */
	struct socket *sock;
	unsigned long flags;
	unsigned long dead_since;	/* jiffies */
	wait_queue_head_t wait;		/* woken when usable again or removed */
	struct work_struct reconnect_work;
	struct task_struct *rx_task;

	struct mutex tx_lock;		/* one sender seals and sends at a time */
	struct nd_aead tx;
	struct nd_buf tx_buf;

	struct nd_aead rx;		/* used by rx_task only */
	struct nd_buf rx_buf;
};

/* Per-request state, in the request's PDU. */
struct nd_cmd {
	struct nd_conn *conn;
	unsigned long flags;		/* ND_CMD_INFLIGHT, ND_CMD_REQUEUED */
	unsigned int timeouts;		/* times it timed out, across resends */
	u32 cookie;			/* bumped on every send */
	blk_status_t status;
	s64 cache_gen;			/* READ: cache generation when sent */
};

enum nd_cmd_flags {
	ND_CMD_INFLIGHT,		/* sent, reply not yet taken */
	ND_CMD_REQUEUED,		/* back in the queue for a resend */
};

/* A request that times out this many times in all fails with BLK_STS_TIMEOUT. */
#define ND_TIMEOUT_BUDGET	3

struct nd_stats {
	atomic64_t reads, writes, flushes, discards, write_zeroes;
	atomic64_t bytes_read, bytes_written;
	atomic64_t errors, reconnects;
};

struct nd_device {
	struct list_head list;
	int index;
	struct nd_target target;
	struct nd_export_info {
		u64 size;
		u32 block_size;
		u32 max_io;
		u32 flags;
	} info;
	bool removing;
	bool dead_logged;

	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	unsigned int nr_conns;
	struct nd_conn *conns;
	struct nd_stats stats;
	struct nd_cache cache;
};

/* main.c: module parameters that apply to every device */
extern unsigned int nd_dead_timeout_s;
extern unsigned int nd_request_timeout_s;
extern unsigned int nd_rekey_records;
extern struct workqueue_struct *nd_wq;

/* conn.c */
int nd_conn_init(struct nd_conn *conn, struct nd_device *dev, unsigned int index);
int nd_conn_open(struct nd_conn *conn, struct nd_export_info *info);
int nd_conn_start(struct nd_conn *conn);
void nd_conn_fail(struct nd_conn *conn, const char *why);
void nd_conn_shutdown(struct nd_conn *conn);
void nd_conn_destroy(struct nd_conn *conn);
int nd_conn_send_request(struct nd_conn *conn, struct request *rq);
bool nd_conn_wait_usable(struct nd_conn *conn);

/* device.c */
int nd_device_init(void);
void nd_device_exit(void);
int nd_device_attach(const struct nd_target *t, struct nd_device **out);
void nd_device_detach(struct nd_device *dev);
void nd_device_fail_inflight(struct nd_device *dev);
void nd_device_requeue_inflight(struct nd_device *dev, struct nd_conn *conn);
extern const struct attribute_group *nd_disk_groups[];

#endif
