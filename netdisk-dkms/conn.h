/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transport: one authenticated, encrypted TCP connection to netdiskd,
 * driven by its own io_work. It knows requests only as struct nd_io and
 * nothing of the block layer; the owner learns of replies and failures
 * through struct nd_conn_ops.
 */
#ifndef _NETDISK_CONN_H
#define _NETDISK_CONN_H

#include <linux/list.h>
#include <linux/llist.h>
#include <linux/net.h>
#include <linux/scatterlist.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "crypto.h"
#include "handshake.h"
#include "txring.h"
#include <netdisk/wire.h>

/* What the server said about the export. */
struct nd_export_info {
	u64 size;
	u32 block_size;
	u32 max_io;
	u32 flags;
	u64 verifier;		/* docs/protocol.md, "Write verifier" */
	u8 uuid[16];		/* the disk's name: "Export UUID" */
};

/*
 * One request on the wire. The owner fills req and data, then hands it to
 * nd_conn_queue(); the connection owns it until the reply or until the
 * owner takes it back after nd_conn_stop().
 */
struct nd_io {
	struct llist_node queued;
	struct list_head entry;
	struct nd_request req;		/* the wire header, big-endian */
	struct scatterlist *data;	/* WRITE: the data; READ: where it goes */
	u32 data_len;
};

struct nd_conn;

/* Not a wire status: the reply could not be delivered, send the request again. */
#define ND_STATUS_RESEND	0xffffffffU

struct nd_conn_ops {
	/*
	 * Takes the request that a reply's handle names back from its sender:
	 * NULL if it was already taken (a late reply), an ERR_PTR if no such
	 * request was sent (a protocol error).
	 */
	struct nd_io *(*lookup)(struct nd_conn *c, u64 handle);
	/* What came of io: an enum nd_status, or ND_STATUS_RESEND. */
	void (*complete)(struct nd_conn *c, struct nd_io *io, u32 status);
	/* The connection failed; called once per socket, from any context. */
	void (*failed)(struct nd_conn *c);
};

/* sg entries over the socket's buffers that one reply may be opened from */
#define ND_RX_SEGS	1024

enum nd_conn_flags {
	ND_CONN_LIVE,			/* callbacks installed, io_work may run */
};

struct nd_conn {
	const struct nd_target *target;
	const struct nd_conn_ops *ops;
	int disk_index;			/* for log lines only */
	unsigned int index;
	unsigned long flags;

	struct socket *sock;
	/* the socket a handshake is using, so that nd_conn_cancel can cut it */
	struct mutex connect_lock;
	struct socket *connecting;
	bool cancelled;

	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
	struct work_struct io_work;

	/* send side, io_work only; queued is the one way in */
	struct llist_head queued;
	struct list_head send_list;
	struct nd_aead tx;
	/*
	 * Records are sealed into tx_ring's pages and handed to TCP by page
	 * reference; a page is reused once TCP and any local receiver have
	 * let go of it (txring.h). So requests in flight are bounded by the
	 * queue depth and by the ring, not by replies.
	 */
	struct nd_tx_ring tx_ring;
	size_t tx_pos, tx_left;		/* the sealed record's bytes yet to send */
	struct delayed_work tx_wait;	/* looks at the ring again, see nd_seal_next */
	u8 tx_head[sizeof(struct nd_record_header) + sizeof(struct nd_request)];
	struct scatterlist tx_src[2];	/* tx_head, then a WRITE's data */
	u64 tx_sealed;			/* records sealed on this socket */
	u32 tx_inflight;		/* requests sent on this socket, not answered */
	u32 tx_inflight_peak;		/* the most at once, on any socket */

	/*
	 * Receive side, io_work only. Record and reply headers are read into
	 * rx_buf; a reply's data is opened from the socket's own buffers into
	 * the request's pages, unless it must be copied into rx_buf first
	 * (rx_copy): too fragmented, or more than TCP will queue unread.
	 */
	size_t rx_off, rx_len;
	bool rx_copy;
	struct nd_aead rx;
	struct nd_buf rx_buf;
	struct scatterlist *rx_skb_sg;	/* ND_RX_SEGS entries */
	struct scatterlist rx_src[2];	/* headers, then rx_skb_sg */
	struct scatterlist rx_dst[2];	/* reply header, then the request's data */
	u64 rx_copied;			/* reply data bytes that were copied */

	struct nd_handshake hs;		/* scratch and transforms, kept from attach */
};

int nd_conn_init(struct nd_conn *c, const struct nd_target *t,
		 const struct nd_conn_ops *ops, int disk_index,
		 unsigned int index);
void nd_conn_destroy(struct nd_conn *c);
/*
 * Connects and authenticates; allocates only under memalloc_noio. -EAGAIN:
 * the server is at a connection limit (docs/protocol.md, "Admission"), and
 * nd_conn_busy_hint_ms() says how long it asked us to wait.
 */
int nd_conn_open(struct nd_conn *c, struct nd_export_info *info);
unsigned int nd_conn_busy_hint_ms(const struct nd_conn *c);
/* Installs the socket callbacks: from now on io_work sends and receives. */
void nd_conn_start(struct nd_conn *c);
/*
 * Ends the socket once: ops->failed follows. From process context (io_work,
 * the timeout handler, teardown): a test build's fault point sleeps there.
 */
void nd_conn_fail(struct nd_conn *c);
/*
 * Stops io_work and releases the socket; queued requests stay the owner's.
 * Not concurrently with itself or nd_conn_open(): the owner serializes them.
 */
void nd_conn_stop(struct nd_conn *c);
/* Makes a connect or handshake under way, and any later one, fail at once. */
void nd_conn_cancel(struct nd_conn *c);
/* -ENOTCONN if the connection is not live: the owner keeps io. */
int nd_conn_queue(struct nd_conn *c, struct nd_io *io);

/* Module load and unload: the memalloc static key stays on in between. */
int nd_memalloc_hold(void);
void nd_memalloc_release(void);

static inline bool nd_conn_live(struct nd_conn *c)
{
	return test_bit(ND_CONN_LIVE, &c->flags);
}

extern struct workqueue_struct *nd_io_wq;
extern unsigned int nd_rekey_records;

#endif
