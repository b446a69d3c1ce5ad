// SPDX-License-Identifier: GPL-2.0
/*
 * One connection to netdiskd, in the nvme-tcp model: the owner queues a
 * request and kicks io_work, and io_work alone seals, sends and receives,
 * never blocking, woken by the socket's callbacks. Requests are sealed
 * straight from their data pages, and replies opened straight into them.
 */
#define pr_fmt(fmt) "netdisk: " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/delay.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "compat.h"
#include "conn.h"
#include "fault.h"

#define nd_conn_err(c, fmt, ...) \
	pr_err("netdisk%d (%s): " fmt, (c)->disk_index, (c)->target->host, ##__VA_ARGS__)

#define REC_HDR		sizeof(struct nd_record_header)
#define REQ_HDR		sizeof(struct nd_request)
#define REPLY_HDR	sizeof(struct nd_reply)
#define BUF_SIZE	(ND_MAX_RECORD + REC_HDR + ND_TAG_SIZE)


/* An sg entry over the first len bytes of a record buffer (one page). */
static void nd_head_sg(struct scatterlist *sg, struct nd_buf *b, u32 len,
		    struct scatterlist *rest)
{
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], vmalloc_to_page(b->data), len, 0);
	sg_chain(sg, 2, rest);
}

static bool nd_io_is_write(const struct nd_io *io)
{
	return io->req.type == cpu_to_be16(ND_CMD_WRITE);
}

/* The send ring: two of the largest records, each of which may start mid-page. */
#define TX_RING_SIZE	(2 * (BUF_SIZE + PAGE_SIZE))

static void nd_tx_wait_work(struct work_struct *work)
{
	struct nd_conn *c = container_of(to_delayed_work(work), struct nd_conn,
					 tx_wait);

	if (nd_conn_live(c))
		queue_work(nd_io_wq, &c->io_work);
}

/*
 * Seals the next record into the ring: a key update when due, else a
 * request. The clear headers are built in tx_head; a WRITE is sealed from
 * tx_head and its data pages into the ring, anything else in place there,
 * so source and destination are either the same or apart.
 */
static int nd_seal_next(struct nd_conn *c)
{
	struct nd_record_header *h = (struct nd_record_header *)c->tx_head;
	struct scatterlist *src, *dst;
	struct nd_io *io = NULL;
	u32 len, clear;
	long off;
	int ret;

	if (list_empty(&c->send_list)) {
		struct llist_node *n = llist_reverse_order(llist_del_all(&c->queued));

		while (n) {
			struct nd_io *waiting = llist_entry(n, struct nd_io, queued);

			n = n->next;
			list_add_tail(&waiting->entry, &c->send_list);
		}
		if (list_empty(&c->send_list))
			return 0;
	}
	memset(h, 0, sizeof(*h));
	if (c->tx.seq >= nd_rekey_records || c->tx.bytes >= ND_REKEY_BYTES) {
		h->type = ND_REC_KEY_UPDATE;
		len = 0;
		clear = REC_HDR;
	} else {
		io = list_first_entry(&c->send_list, struct nd_io, entry);
		h->type = ND_REC_REQUEST;
		len = REQ_HDR + (nd_io_is_write(io) ? io->data_len : 0);
		clear = REC_HDR + REQ_HDR;
	}
	/*
	 * While requests are in flight, their replies wake io_work, and the
	 * pages are usually free by then. With none in flight, nothing will
	 * free them soon: renew the ones still held.
	 */
	off = nd_tx_ring_reserve(&c->tx_ring, REC_HDR + len + ND_TAG_SIZE,
				 !c->tx_inflight);
	if (off == -EBUSY)
		return 0;
	if (off < 0) {
		/* no page to renew with: look again shortly */
		queue_delayed_work(nd_io_wq, &c->tx_wait, 1);
		return 0;
	}
	h->length = cpu_to_be32(len);
	if (io) {
		list_del(&io->entry);
		memcpy(c->tx_head + REC_HDR, &io->req, REQ_HDR);
	}
	nd_tx_ring_write(&c->tx_ring, off, c->tx_head, clear);
	dst = nd_tx_ring_map(&c->tx_ring, off, REC_HDR + len + ND_TAG_SIZE);
	src = dst;
	if (io && nd_io_is_write(io) && io->data_len) {
		sg_init_table(c->tx_src, 2);
		sg_set_buf(&c->tx_src[0], c->tx_head, clear);
		sg_chain(c->tx_src, 2, io->data);
		src = c->tx_src;
	}
	ret = nd_aead_seal(&c->tx, src, dst, REC_HDR, len);
	if (!ret && !io)
		ret = nd_aead_next_epoch(&c->tx);
	WRITE_ONCE(c->tx_sealed, c->tx_sealed + 1);
	if (io) {
		WRITE_ONCE(c->tx_inflight, c->tx_inflight + 1);
		if (c->tx_inflight > c->tx_inflight_peak)
			WRITE_ONCE(c->tx_inflight_peak, c->tx_inflight);
	}
	c->tx_pos = off;
	c->tx_left = REC_HDR + len + ND_TAG_SIZE;
	return ret ? ret : 1;
}

/* >0: progress; 0: nothing to send or the socket is full; <0: failed. */
static int nd_try_send(struct nd_conn *c)
{
	int progress = 0, ret;

	if (!c->tx_left) {
		ret = nd_seal_next(c);
		if (ret <= 0)
			return ret;
		progress = 1;
	}
	while (c->tx_left) {
		size_t off;
		struct page *page = nd_tx_ring_page(&c->tx_ring, c->tx_pos, &off);
		size_t len = min_t(size_t, c->tx_left, PAGE_SIZE - off);
		int flags = MSG_DONTWAIT | MSG_NOSIGNAL;

		/* never across records: the next may wait for TCP to free pages */
		if (len < c->tx_left)
			flags |= MSG_MORE;
		/* TCP takes a reference to the page rather than a copy */
		ret = nd_send_page(c->sock, page, off, len, flags);
		if (ret == -EAGAIN)
			return progress;
		if (ret <= 0)
			return ret ? ret : -EPIPE;
		c->tx_pos += ret;
		c->tx_left -= ret;
		progress = 1;
	}
	return 1;
}

static bool nd_header_valid(struct nd_conn *c, const struct nd_record_header *h)
{
	u32 len = be32_to_cpu(h->length);

	if (len > ND_MAX_RECORD || h->reserved[0] || h->reserved[1] ||
	    h->reserved[2] || h->type < ND_REC_INFO ||
	    h->type > ND_REC_KEY_UPDATE || len < nd_record_clear_len(h->type)) {
		nd_conn_err(c, "malformed record header from server\n");
		return false;
	}
	if (c->rx.seq >= ND_HARD_RECORDS || c->rx.bytes >= ND_HARD_BYTES) {
		nd_conn_err(c, "server did not rotate its key in time\n");
		return false;
	}
	return true;
}

/* Authenticates a record in rx_buf where it lies, then discards it. */
static int nd_open_in_place(struct nd_conn *c, u32 len)
{
	u32 clear = nd_record_clear_len(c->rx_buf.data[4]);
	struct scatterlist *sg = c->rx_buf.sgt.sgl;

	return nd_aead_open(&c->rx, sg, sg, REC_HDR + clear, len - clear);
}

/*
 * src is the whole record: rx_buf, or the headers in rx_buf chained to the
 * socket's buffers that hold the rest.
 */
static int nd_handle_reply(struct nd_conn *c, struct scatterlist *src, u32 len)
{
	struct nd_reply *rp = (struct nd_reply *)(c->rx_buf.data + REC_HDR);
	u32 data_len = len - REPLY_HDR;
	struct nd_io *io;
	int ret;

	if (be32_to_cpu(rp->length) != data_len) {
		nd_conn_err(c, "reply length does not match its record\n");
		return -EPROTO;
	}
	/*
	 * The handle is in the clear, and lookup takes its request before the
	 * tag is checked: a record that fails the check sends that request
	 * again (ND_STATUS_RESEND) and drops the connection; no status, data
	 * or length of it is used.
	 */
	io = c->ops->lookup(c, be64_to_cpu(rp->handle));
	if (IS_ERR(io)) {
		nd_conn_err(c, "reply to an unknown request (handle %llx)\n",
			    be64_to_cpu(rp->handle));
		return PTR_ERR(io);
	}
	/* a late reply (NULL) answers a request of this socket too */
	if (c->tx_inflight)
		WRITE_ONCE(c->tx_inflight, c->tx_inflight - 1);
	if (!io || !data_len || nd_io_is_write(io) || data_len != io->data_len) {
		ret = nd_aead_open(&c->rx, src, c->rx_buf.sgt.sgl,
				   REC_HDR + REPLY_HDR, data_len);
		if (ret) {
			if (io)
				c->ops->complete(c, io, ND_STATUS_RESEND);
			goto bad_tag;
		}
		if (io && data_len) {
			nd_conn_err(c, "reply carries %u bytes for a request of %u\n",
				    data_len, nd_io_is_write(io) ? 0 : io->data_len);
			c->ops->complete(c, io, ND_ERR_IO);
			return -EPROTO;
		}
		/* a successful READ carries all its data (nvme_tcp_data_in_short) */
		if (io && !nd_io_is_write(io) && io->data_len && !rp->status) {
			nd_conn_err(c, "read reply carries no data for a request of %u\n",
				    io->data_len);
			c->ops->complete(c, io, ND_ERR_IO);
			return -EPROTO;
		}
		if (io)
			c->ops->complete(c, io, be32_to_cpu(rp->status));
		return 0;
	}
	if (src == c->rx_buf.sgt.sgl)
		WRITE_ONCE(c->rx_copied, c->rx_copied + data_len);
	nd_head_sg(c->rx_dst, &c->rx_buf, REC_HDR + REPLY_HDR, io->data);
	ret = nd_aead_open(&c->rx, src, c->rx_dst, REC_HDR + REPLY_HDR, data_len);
	if (ret) {
		/* the pages hold garbage: the owner sends the request again */
		c->ops->complete(c, io, ND_STATUS_RESEND);
		goto bad_tag;
	}
	c->ops->complete(c, io, be32_to_cpu(rp->status));
	return 0;
bad_tag:
	nd_conn_err(c, "record failed authentication, dropping connection\n");
	return -EBADMSG;
}

static int nd_handle_record(struct nd_conn *c, struct scatterlist *src)
{
	struct nd_record_header *h = (struct nd_record_header *)c->rx_buf.data;
	u32 len = be32_to_cpu(h->length);
	int ret;

	switch (h->type) {
	case ND_REC_REPLY:
		return nd_handle_reply(c, src, len);
	case ND_REC_KEY_UPDATE:
		if (len)
			return -EPROTO;
		ret = nd_open_in_place(c, 0);
		if (ret) {
			nd_conn_err(c, "record failed authentication, dropping connection\n");
			return -EBADMSG;
		}
		return nd_aead_next_epoch(&c->rx);
	default:
		nd_conn_err(c, "unexpected record type %u\n", h->type);
		return -EPROTO;
	}
}

/* What a reply's data is read after: the record header and the reply header. */
#define RX_HEAD		(REC_HDR + REPLY_HDR)

/* sg entries an skb may need, at most; frag lists nested deeper are refused. */
static unsigned int nd_skb_max_segs(const struct sk_buff *skb)
{
	const struct sk_buff *frag;
	unsigned int n = 1 + skb_shinfo(skb)->nr_frags;

	skb_walk_frags(skb, frag) {
		if (skb_has_frag_list(frag))
			return UINT_MAX;
		n += 1 + skb_shinfo(frag)->nr_frags;
	}
	return n;
}

/*
 * Maps the len bytes at the socket's read position, which TCP holds in
 * order, into c->rx_skb_sg; the caller holds the socket lock and unmarks
 * the end after use. -EMSGSIZE if they span more than ND_RX_SEGS entries.
 */
static int nd_map_socket(struct nd_conn *c, struct sock *sk, u32 len)
{
	struct scatterlist *sg = c->rx_skb_sg;
	u32 seq = tcp_sk(sk)->copied_seq;
	struct sk_buff *skb;
	unsigned int n = 0;
	int ret;

	skb_queue_walk(&sk->sk_receive_queue, skb) {
		u32 offset = seq - TCP_SKB_CB(skb)->seq;
		u32 take;

		if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_SYN)
			offset--;
		if (offset >= skb->len)
			continue;
		if (nd_skb_max_segs(skb) > ND_RX_SEGS - n)
			return -EMSGSIZE;
		take = min(skb->len - offset, len);
		ret = skb_to_sgvec_nomark(skb, sg + n, offset, take);
		if (ret < 0)
			return ret;
		n += ret;
		seq += take;
		len -= take;
		if (!len) {
			sg_mark_end(&sg[n - 1]);
			return n;
		}
	}
	return -EMSGSIZE;
}

static int nd_skip(read_descriptor_t *desc, struct sk_buff *skb,
		   unsigned int offset, size_t len)
{
	size_t n = min_t(size_t, len, desc->count);

	desc->count -= n;
	return n;
}

/*
 * The rest of a reply, once TCP holds all of it, is opened from the
 * socket's buffers straight into the request's pages, and only then
 * consumed. 1: handled; 0: wait for more, or copy it if rx_copy is now
 * set; <0: failed.
 */
static int nd_recv_in_place(struct nd_conn *c)
{
	struct sock *sk = c->sock->sk;
	u32 rest = c->rx_len - RX_HEAD;
	read_descriptor_t desc = { .count = rest };
	u32 queued;
	int n, ret;

	lock_sock(sk);
	queued = max(tcp_inq(sk), 0);
	if (queued < rest) {
		u32 window = tcp_receive_window(tcp_sk(sk));

		/*
		 * Wait while the server can still send: the window grows as
		 * data arrives, even unread. Once less than a segment of it is
		 * left short of the record, or memory is short, copy instead.
		 */
		if (sk->sk_err || sk->sk_shutdown & RCV_SHUTDOWN ||
		    (queued + window < rest && window < tcp_sk(sk)->advmss) ||
		    atomic_read(&sk->sk_rmem_alloc) >= READ_ONCE(sk->sk_rcvbuf))
			c->rx_copy = true;
		release_sock(sk);
		return 0;
	}
	n = nd_map_socket(c, sk, rest);
	if (n < 0) {
		c->rx_copy = true;
		release_sock(sk);
		return 0;
	}
	nd_head_sg(c->rx_src, &c->rx_buf, RX_HEAD, c->rx_skb_sg);
	ret = nd_handle_record(c, c->rx_src);
	sg_unmark_end(&c->rx_skb_sg[n - 1]);
	c->sock->ops->read_sock(sk, &desc, nd_skip);
	release_sock(sk);
	if (!ret && desc.count)
		ret = -EPROTO;
	return ret ? ret : 1;
}

/* >0: progress; 0: the socket is empty; <0: failed. */
static int nd_try_recv(struct nd_conn *c)
{
	int progress = 0, ret;

	for (;;) {
		size_t want = c->rx_len ? c->rx_len : REC_HDR;
		struct kvec iov;
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };

		if (c->rx_len && !c->rx_copy) {
			if (c->rx_off == RX_HEAD) {
				ret = nd_recv_in_place(c);
				if (ret)
					goto done;
				if (!c->rx_copy)
					return progress;
				continue;
			}
			want = RX_HEAD;
		}
		iov.iov_base = c->rx_buf.data + c->rx_off;
		iov.iov_len = want - c->rx_off;
		ret = kernel_recvmsg(c->sock, &msg, &iov, 1, iov.iov_len,
				     msg.msg_flags);
		if (ret == -EAGAIN)
			return progress;
		if (ret <= 0)
			return ret ? ret : -ECONNRESET;
		c->rx_off += ret;
		progress = 1;
		if (c->rx_off < want)
			continue;
		if (!c->rx_len) {
			struct nd_record_header *h = (void *)c->rx_buf.data;
			u32 len = be32_to_cpu(h->length);

			if (!nd_header_valid(c, h))
				return -EPROTO;
			c->rx_len = REC_HDR + len + ND_TAG_SIZE;
			/* only a reply's data is worth opening where it lies */
			c->rx_copy = h->type != ND_REC_REPLY || len <= REPLY_HDR;
			continue;
		}
		if (c->rx_off < c->rx_len)
			continue;
		ret = nd_handle_record(c, c->rx_buf.sgt.sgl);
done:
		c->rx_off = 0;
		c->rx_len = 0;
		return ret < 0 ? ret : 1;
	}
}

static void nd_io_work(struct work_struct *work)
{
	struct nd_conn *c = container_of(work, struct nd_conn, io_work);
	unsigned long deadline = jiffies + msecs_to_jiffies(1);
	unsigned int noreclaim;
	bool more;

	nd_fault_delay(ND_FAULT_IO_WORK, false);
	noreclaim = memalloc_noreclaim_save();
	do {
		int sent, received;

		if (!nd_conn_live(c))
			goto out;
		sent = nd_try_send(c);
		if (sent < 0) {
			nd_conn_err(c, "connection %u: send failed (%d)\n", c->index, sent);
			goto fail;
		}
		received = nd_try_recv(c);
		if (received < 0) {
			if (received == -ECONNRESET)
				nd_conn_err(c, "connection %u: server closed the connection\n",
					    c->index);
			else
				nd_conn_err(c, "connection %u: receive failed (%d)\n",
					    c->index, received);
			goto fail;
		}
		more = sent > 0 || received > 0;
	} while (more && time_before(jiffies, deadline));
	if (more)
		queue_work(nd_io_wq, &c->io_work);
	goto out;
fail:
	nd_conn_fail(c);
out:
	memalloc_noreclaim_restore(noreclaim);
}

static struct nd_conn *nd_sk_conn(struct sock *sk)
{
	struct nd_conn *c = sk->sk_user_data;

	return c && nd_conn_live(c) ? c : NULL;
}

static void nd_data_ready(struct sock *sk)
{
	struct nd_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = nd_sk_conn(sk);
	if (c)
		queue_work(nd_io_wq, &c->io_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void nd_write_space(struct sock *sk)
{
	struct nd_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = nd_sk_conn(sk);
	if (c && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		queue_work(nd_io_wq, &c->io_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* A closing socket: io_work finds out why when it next reads. */
static void nd_state_change(struct sock *sk)
{
	void (*saved)(struct sock *sk);
	struct nd_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (!c) {
		saved = sk->sk_state_change;
		goto out;
	}
	saved = c->saved_state_change;
	if (nd_conn_live(c) && sk->sk_state != TCP_ESTABLISHED)
		queue_work(nd_io_wq, &c->io_work);
out:
	read_unlock_bh(&sk->sk_callback_lock);
	if (saved && saved != nd_state_change)
		saved(sk);
}

void nd_conn_start(struct nd_conn *c)
{
	struct sock *sk = c->sock->sk;

	/* live before the callbacks can see it: no failure is lost */
	set_bit(ND_CONN_LIVE, &c->flags);
	write_lock_bh(&sk->sk_callback_lock);
	c->saved_data_ready = sk->sk_data_ready;
	c->saved_write_space = sk->sk_write_space;
	c->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = c;
	sk->sk_data_ready = nd_data_ready;
	sk->sk_write_space = nd_write_space;
	sk->sk_state_change = nd_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	queue_work(nd_io_wq, &c->io_work);
}

void nd_conn_fail(struct nd_conn *c)
{
	if (test_and_clear_bit(ND_CONN_LIVE, &c->flags))
		c->ops->failed(c);
}

/* As nvme_tcp_free_queue: the release may need the reserves the socket had. */
static void nd_release_sock(struct nd_conn *c, struct socket *sock)
{
	unsigned int noreclaim = memalloc_noreclaim_save();

	sk_clear_memalloc(sock->sk);
	sock_release(sock);
	memalloc_noreclaim_restore(noreclaim);
	nd_aead_wipe(&c->tx);
	nd_aead_wipe(&c->rx);
}

/* In nvme_tcp_stop_queue's order: shut the socket, restore its callbacks, cancel io_work. */
void nd_conn_stop(struct nd_conn *c)
{
	struct sock *sk;

	clear_bit(ND_CONN_LIVE, &c->flags);
	if (!c->sock) {
		/* a queue_rq that saw the last socket live may have queued it */
		cancel_work_sync(&c->io_work);
		return;
	}
	sk = c->sock->sk;
	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	if (c->saved_data_ready) {
		write_lock_bh(&sk->sk_callback_lock);
		sk->sk_user_data = NULL;
		sk->sk_data_ready = c->saved_data_ready;
		sk->sk_write_space = c->saved_write_space;
		sk->sk_state_change = c->saved_state_change;
		write_unlock_bh(&sk->sk_callback_lock);
		c->saved_data_ready = NULL;
	}
	cancel_delayed_work_sync(&c->tx_wait);
	cancel_work_sync(&c->io_work);
	/* io_work may have armed it before it saw the connection stopped */
	cancel_delayed_work_sync(&c->tx_wait);
	nd_release_sock(c, c->sock);
	c->sock = NULL;
}

void nd_conn_cancel(struct nd_conn *c)
{
	mutex_lock(&c->connect_lock);
	c->cancelled = true;
	if (c->connecting)
		kernel_sock_shutdown(c->connecting, SHUT_RDWR);
	mutex_unlock(&c->connect_lock);
}

int nd_conn_queue(struct nd_conn *c, struct nd_io *io)
{
	if (!nd_conn_live(c))
		return -ENOTCONN;
	nd_fault_delay(ND_FAULT_QUEUE, true);
	llist_add(&io->queued, &c->queued);
	queue_work(nd_io_wq, &c->io_work);
	return 0;
}

static int nd_info_error(struct nd_conn *c, u32 status)
{
	switch (status) {
	case ND_ERR_NO_EXPORT:
		nd_conn_err(c, "server has no export '%s'\n", c->target->export_name);
		return -ENOENT;
	case ND_ERR_DENIED:
		nd_conn_err(c, "identity '%s' is not allowed on export '%s'\n",
			    c->target->identity, c->target->export_name);
		return -EACCES;
	case ND_ERR_BUSY:
		nd_conn_err(c, "export '%s' is in use by another process on the server\n",
			    c->target->export_name);
		return -EBUSY;
	case ND_ERR_FULL:
		/* the last place went while we authenticated: the caller retries */
		return -EAGAIN;
	default:
		nd_conn_err(c, "server refused the export (status %u)\n", status);
		return -EIO;
	}
}

/* The INFO record that follows the handshake, read blocking. */
static int nd_read_info(struct nd_conn *c, struct socket *sock,
		     unsigned long deadline, struct nd_export_info *info)
{
	struct nd_record_header *h = (struct nd_record_header *)c->rx_buf.data;
	struct nd_info *wi = (struct nd_info *)(c->rx_buf.data + REC_HDR);
	u32 len;
	int ret;

	ret = nd_sock_xfer_until(sock, h, REC_HDR, false, deadline);
	if (ret)
		return ret;
	if (!nd_header_valid(c, h))
		return -EPROTO;
	len = be32_to_cpu(h->length);
	if (h->type != ND_REC_INFO || len != sizeof(*wi)) {
		nd_conn_err(c, "expected export info, got record type %u\n", h->type);
		return -EPROTO;
	}
	ret = nd_sock_xfer_until(sock, wi, len + ND_TAG_SIZE, false, deadline);
	if (ret)
		return ret;
	if (nd_open_in_place(c, len)) {
		nd_conn_err(c, "export info failed authentication\n");
		return -EBADMSG;
	}
	if (wi->status)
		return nd_info_error(c, be32_to_cpu(wi->status));
	info->size = be64_to_cpu(wi->size);
	info->block_size = be32_to_cpu(wi->block_size);
	info->max_io = be32_to_cpu(wi->max_io);
	info->flags = be32_to_cpu(wi->flags);
	info->verifier = be64_to_cpu(wi->verifier);
	memcpy(info->uuid, wi->uuid, sizeof(info->uuid));
	if (info->block_size < 512 || info->block_size > PAGE_SIZE ||
	    !is_power_of_2(info->block_size) || info->max_io > ND_MAX_IO ||
	    info->size < info->block_size || !memchr_inv(info->uuid, 0, sizeof(info->uuid))) {
		nd_conn_err(c, "server sent invalid export info\n");
		return -EPROTO;
	}
	if (info->max_io < PAGE_SIZE) {
		nd_conn_err(c, "server's max_io %u is below the page size %lu\n",
			    info->max_io, PAGE_SIZE);
		return -EPROTO;
	}
	return 0;
}

static int nd_connect_and_handshake(struct nd_conn *c, struct socket *sock,
				 unsigned long deadline,
				 struct nd_export_info *info)
{
	const struct nd_target *t = c->target;
	int len = t->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						  sizeof(struct sockaddr_in);
	int ret;

	lock_sock(sock->sk);
	sock->sk->sk_sndtimeo = ND_HANDSHAKE_TIMEOUT_S * HZ;
	release_sock(sock->sk);
	/* void *: the address type became struct sockaddr_unsized in 6.19 */
	ret = kernel_connect(sock, (void *)&t->addr, len, 0);
	if (ret) {
		nd_conn_err(c, "cannot connect to port %u: error %d\n", t->port, ret);
		return ret;
	}
	ret = nd_handshake_run(&c->hs, sock, t, deadline, c->disk_index);
	if (ret)
		return ret;
	ret = nd_aead_set_secret(&c->tx, c->hs.k.c2s);
	if (!ret)
		ret = nd_aead_set_secret(&c->rx, c->hs.k.s2c);
	memzero_explicit(&c->hs.k, sizeof(c->hs.k));
	if (!ret)
		ret = nd_read_info(c, sock, deadline, info);
	return ret;
}

unsigned int nd_conn_busy_hint_ms(const struct nd_conn *c)
{
	/* INFO FULL carries no hint */
	return c->hs.retry_after_ms ? c->hs.retry_after_ms : 1000;
}

int nd_conn_open(struct nd_conn *c, struct nd_export_info *info)
{
	unsigned long deadline = jiffies + ND_HANDSHAKE_TIMEOUT_S * HZ;
	unsigned int noio = memalloc_noio_save();
	struct socket *sock;
	int ret;

	if (WARN_ON_ONCE(c->sock || nd_conn_live(c))) {
		ret = -EBUSY;
		goto out;
	}
	llist_del_all(&c->queued);
	INIT_LIST_HEAD(&c->send_list);
	/* pages a dead socket still holds are left to it */
	ret = nd_tx_ring_reset(&c->tx_ring);
	if (ret)
		goto out;
	WRITE_ONCE(c->tx_sealed, 0);
	WRITE_ONCE(c->tx_inflight, 0);
	c->tx_left = 0;
	c->rx_len = 0;
	c->rx_off = 0;
	ret = sock_create_kern(&init_net, c->target->addr.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (ret)
		goto out;
	sock->sk->sk_allocation = GFP_NOIO;
	sock->sk->sk_use_task_frag = false;
	sk_set_memalloc(sock->sk);
	tcp_sock_set_nodelay(sock->sk);
	/*
	 * As nvme-tcp: a socket given up on is reset, not drained, so that
	 * records still queued in it do not reach the server after the same
	 * requests were sent again on the next connection.
	 */
	sock_no_linger(sock->sk);
	/* a reply is opened where TCP queued it: the window must hold a record */
	sock_set_rcvbuf(sock->sk, 2 * BUF_SIZE);

	mutex_lock(&c->connect_lock);
	c->connecting = c->cancelled ? NULL : sock;
	mutex_unlock(&c->connect_lock);
	ret = c->connecting ? nd_connect_and_handshake(c, sock, deadline, info) :
			      -ECANCELED;
	mutex_lock(&c->connect_lock);
	c->connecting = NULL;
	if (!ret && c->cancelled)
		ret = -ECANCELED;
	mutex_unlock(&c->connect_lock);
	if (ret) {
		nd_release_sock(c, sock);
		goto out;
	}
	c->sock = sock;
out:
	memalloc_noio_restore(noio);
	return ret;
}

int nd_conn_init(struct nd_conn *c, const struct nd_target *t,
		 const struct nd_conn_ops *ops, int disk_index,
		 unsigned int index)
{
	int ret;

	c->target = t;
	c->ops = ops;
	c->disk_index = disk_index;
	c->index = index;
	mutex_init(&c->connect_lock);
	INIT_WORK(&c->io_work, nd_io_work);
	INIT_DELAYED_WORK(&c->tx_wait, nd_tx_wait_work);
	init_llist_head(&c->queued);
	INIT_LIST_HEAD(&c->send_list);
	ret = nd_handshake_init(&c->hs);
	if (ret)
		return ret;
	ret = nd_aead_alloc(&c->tx, c->hs.hmac);
	if (ret)
		goto fail_hs;
	ret = nd_aead_alloc(&c->rx, c->hs.hmac);
	if (ret)
		goto fail_tx;
	ret = nd_tx_ring_init(&c->tx_ring, TX_RING_SIZE, BUF_SIZE);
	if (ret)
		goto fail_rx;
	ret = nd_buf_alloc(&c->rx_buf, BUF_SIZE);
	if (ret)
		goto fail_bufs;
	c->rx_skb_sg = kvmalloc_array(ND_RX_SEGS, sizeof(*c->rx_skb_sg), GFP_KERNEL);
	if (!c->rx_skb_sg) {
		ret = -ENOMEM;
		goto fail_bufs;
	}
	sg_init_table(c->rx_skb_sg, ND_RX_SEGS);
	return 0;
fail_bufs:
	nd_buf_free(&c->rx_buf);
	nd_tx_ring_destroy(&c->tx_ring);
fail_rx:
	nd_aead_free(&c->rx);
fail_tx:
	nd_aead_free(&c->tx);
fail_hs:
	nd_handshake_free(&c->hs);
	return ret;
}

/*
 * One socket, held from module load to unload, keeps the memalloc static
 * key on, so that the connections' own sk_set_memalloc()/sk_clear_memalloc()
 * never flip it: a flip patches kernel text on every CPU, and QEMU's MTTCG
 * was seen to run the breakpoint it leaves after it was gone (40 attach and
 * detach cycles on 6.12 crashed in 2 runs of 2).
 */
static struct socket *nd_memalloc_holder;

int nd_memalloc_hold(void)
{
	int ret = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
				   &nd_memalloc_holder);

	if (!ret)
		sk_set_memalloc(nd_memalloc_holder->sk);
	return ret;
}

/* After every connection is gone; their peers' last packets go first. */
void nd_memalloc_release(void)
{
	msleep(200);
	sk_clear_memalloc(nd_memalloc_holder->sk);
	sock_release(nd_memalloc_holder);
	nd_memalloc_holder = NULL;
}

void nd_conn_destroy(struct nd_conn *c)
{
	cancel_work_sync(&c->io_work);
	cancel_delayed_work_sync(&c->tx_wait);
	nd_tx_ring_destroy(&c->tx_ring);
	kvfree(c->rx_skb_sg);
	nd_buf_free(&c->rx_buf);
	nd_aead_free(&c->rx);
	nd_aead_free(&c->tx);
	nd_handshake_free(&c->hs);
}
