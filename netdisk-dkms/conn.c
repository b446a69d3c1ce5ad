// SPDX-License-Identifier: GPL-2.0
/*
 * One connection to netdiskd: connect and handshake, the receive thread that
 * opens replies and completes requests, the sender, and reconnection.
 */
#define pr_fmt(fmt) "netdisk: " fmt

#include <crypto/algapi.h>
#include <crypto/curve25519.h>
#include <linux/blk-mq.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/kthread.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "netdisk.h"

#define nd_conn_err(c, fmt, ...) \
	pr_err("netdisk%d (%s): " fmt, (c)->dev->index, (c)->dev->target.host, ##__VA_ARGS__)
#define nd_conn_info(c, fmt, ...) \
	pr_info("netdisk%d (%s): " fmt, (c)->dev->index, (c)->dev->target.host, ##__VA_ARGS__)

#define RECORD_HDR sizeof(struct nd_record_header)
#define BUF_SIZE (ND_MAX_RECORD + RECORD_HDR + ND_TAG_SIZE)

static int sock_xfer(struct socket *sock, void *buf, size_t len, bool send)
{
	unsigned int noreclaim = memalloc_noreclaim_save();
	int ret = 0;

	while (len) {
		struct kvec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		int n;

		if (send) {
			n = kernel_sendmsg(sock, &msg, &iov, 1, len);
		} else {
			msg.msg_flags |= MSG_WAITALL;
			n = kernel_recvmsg(sock, &msg, &iov, 1, len, msg.msg_flags);
		}
		if (n <= 0) {
			ret = n ? n : -ECONNRESET;
			break;
		}
		buf += n;
		len -= n;
	}
	memalloc_noreclaim_restore(noreclaim);
	return ret;
}

static int send_record(struct nd_conn *c, u8 type, u32 len)
{
	struct nd_record_header *h = (struct nd_record_header *)c->tx_buf.data;
	int ret;

	memset(h, 0, sizeof(*h));
	h->length = cpu_to_be32(len);
	h->type = type;
	ret = nd_aead_seal(&c->tx, &c->tx_buf, len, nd_record_clear_len(type));
	if (ret)
		return ret;
	return sock_xfer(c->sock, c->tx_buf.data, RECORD_HDR + len + ND_TAG_SIZE, true);
}

/* Sends the record prepared in tx_buf; caller holds tx_lock. */
static int send_sealed(struct nd_conn *c, u8 type, u32 len)
{
	if (c->tx.seq >= nd_rekey_records || c->tx.bytes >= ND_REKEY_BYTES) {
		/* KEY_UPDATE is empty: its tag lands where the payload starts */
		u8 saved[ND_TAG_SIZE + RECORD_HDR];
		int ret;

		memcpy(saved, c->tx_buf.data, sizeof(saved));
		ret = send_record(c, ND_REC_KEY_UPDATE, 0);
		memcpy(c->tx_buf.data, saved, sizeof(saved));
		if (!ret)
			ret = nd_aead_next_epoch(&c->tx);
		if (ret)
			return ret;
	}
	return send_record(c, type, len);
}

/* Receives one record into rx_buf; returns its payload length or an error. */
static int recv_record(struct nd_conn *c, u8 *type)
{
	struct nd_record_header *h = (struct nd_record_header *)c->rx_buf.data;
	u32 len;
	int ret;

	for (;;) {
		ret = sock_xfer(c->sock, h, RECORD_HDR, false);
		if (ret)
			return ret;
		len = be32_to_cpu(h->length);
		if (len > ND_MAX_RECORD || h->reserved[0] || h->reserved[1] ||
		    h->reserved[2] || h->type < ND_REC_INFO ||
		    h->type > ND_REC_KEY_UPDATE || len < nd_record_clear_len(h->type)) {
			nd_conn_err(c, "malformed record header from server\n");
			return -EPROTO;
		}
		if (c->rx.seq >= ND_HARD_RECORDS || c->rx.bytes >= ND_HARD_BYTES) {
			nd_conn_err(c, "server did not rotate its key in time\n");
			return -EPROTO;
		}
		ret = sock_xfer(c->sock, c->rx_buf.data + RECORD_HDR,
				len + ND_TAG_SIZE, false);
		if (ret)
			return ret;
		if (nd_aead_open(&c->rx, &c->rx_buf, len, nd_record_clear_len(h->type))) {
			nd_conn_err(c, "record failed authentication, dropping connection\n");
			return -EBADMSG;
		}
		if (h->type != ND_REC_KEY_UPDATE) {
			*type = h->type;
			return len;
		}
		if (len)
			return -EPROTO;
		ret = nd_aead_next_epoch(&c->rx);
		if (ret)
			return ret;
	}
}

/* Bounds the next socket call by what is left of the handshake's deadline. */
static int handshake_xfer(struct nd_conn *c, unsigned long deadline, void *buf,
			  size_t len, bool send)
{
	long left = (long)(deadline - jiffies);

	if (left <= 0)
		return -ETIMEDOUT;
	lock_sock(c->sock->sk);
	c->sock->sk->sk_rcvtimeo = left;
	c->sock->sk->sk_sndtimeo = left;
	release_sock(c->sock->sk);
	return sock_xfer(c->sock, buf, len, send);
}

/* Reads the ServerHello: the 8 bytes every version shares, then the rest. */
static int read_server_hello(struct nd_conn *c, unsigned long deadline,
			     struct nd_server_hello *sh)
{
	const struct nd_target *t = &c->dev->target;
	struct nd_hello_prefix *pre = (struct nd_hello_prefix *)sh;
	int ret = handshake_xfer(c, deadline, pre, sizeof(*pre), false);

	if (ret) {
		nd_conn_err(c, "no answer to the hello (%d)\n", ret);
		return ret;
	}
	if (be32_to_cpu(sh->magic) != ND_MAGIC) {
		nd_conn_err(c, "not a netdisk server\n");
		return -EPROTO;
	}
	if (be16_to_cpu(sh->status) == ND_HELLO_VERSION ||
	    be16_to_cpu(sh->version) != ND_VERSION) {
		nd_conn_err(c, "server speaks protocol version %u, we speak %u\n",
			    be16_to_cpu(sh->version), ND_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (be16_to_cpu(sh->status) == ND_HELLO_WRONG_SERVER) {
		nd_conn_err(c, "the server does not answer to the name '%s': another server, or a relayed connection (if the name is right, add it to server-name in its netdiskd.conf)\n",
			    t->server_name);
		return -EHOSTUNREACH;
	}
	if (sh->status) {
		nd_conn_err(c, "server refused the hello (status %u)\n",
			    be16_to_cpu(sh->status));
		return -EPROTO;
	}
	ret = handshake_xfer(c, deadline, (u8 *)sh + sizeof(*pre),
			     sizeof(*sh) - sizeof(*pre), false);
	if (ret)
		nd_conn_err(c, "hello cut short (%d)\n", ret);
	return ret;
}

/* docs/protocol.md, "Handshake messages" and "Key schedule". */
static int handshake(struct nd_conn *c)
{
	const struct nd_target *t = &c->dev->target;
	unsigned long deadline = jiffies + ND_HANDSHAKE_TIMEOUT_S * HZ;
	struct {
		struct nd_client_hello ch;
		struct nd_server_hello sh;
		struct nd_handshake_keys k;
		u8 priv[CURVE25519_KEY_SIZE];
		u8 dh[CURVE25519_KEY_SIZE];
		u8 mac[ND_HASH_SIZE];
		u8 fin[ND_HASH_SIZE];
	} *hs;
	int ret;

	hs = kzalloc(sizeof(*hs), GFP_KERNEL);
	if (!hs)
		return -ENOMEM;
	hs->ch.magic = cpu_to_be32(ND_MAGIC);
	hs->ch.version = cpu_to_be16(ND_VERSION);
	memcpy(hs->ch.identity, t->identity, strlen(t->identity));
	memcpy(hs->ch.export_name, t->export_name, strlen(t->export_name));
	memcpy(hs->ch.server_name, t->server_name, strlen(t->server_name));
	get_random_bytes(hs->ch.nonce, sizeof(hs->ch.nonce));
	curve25519_generate_secret(hs->priv);
	if (!curve25519_generate_public(hs->ch.share, hs->priv)) {
		ret = -EINVAL;
		goto out;
	}
	ret = handshake_xfer(c, deadline, &hs->ch, sizeof(hs->ch), true);
	if (ret) {
		nd_conn_err(c, "cannot send the hello (%d)\n", ret);
		goto out;
	}
	ret = read_server_hello(c, deadline, &hs->sh);
	if (ret)
		goto out;
	if (!curve25519(hs->dh, hs->priv, hs->sh.share)) {
		nd_conn_err(c, "server sent an invalid X25519 share\n");
		ret = -EPROTO;
		goto out;
	}
	ret = nd_derive_keys(&hs->ch, &hs->sh, t->key, hs->dh, &hs->k);
	if (!ret)
		ret = nd_hmac_sha256(hs->k.cfin, hs->k.th, ND_HASH_SIZE, hs->mac);
	if (!ret)
		ret = handshake_xfer(c, deadline, hs->mac, sizeof(hs->mac), true);
	if (ret)
		goto out;
	ret = handshake_xfer(c, deadline, hs->fin, sizeof(hs->fin), false);
	if (ret) {
		nd_conn_err(c, "server rejected the key for identity '%s' (wrong key or unknown identity)\n",
			    t->identity);
		ret = -EKEYREJECTED;
		goto out;
	}
	ret = nd_hmac_sha256(hs->k.sfin, hs->k.th, ND_HASH_SIZE, hs->mac);
	if (ret)
		goto out;
	if (crypto_memneq(hs->mac, hs->fin, ND_HASH_SIZE)) {
		nd_conn_err(c, "server failed key confirmation (it holds a different key)\n");
		ret = -EKEYREJECTED;
		goto out;
	}
	ret = nd_aead_init(&c->tx, hs->k.c2s);
	if (!ret) {
		ret = nd_aead_init(&c->rx, hs->k.s2c);
		if (ret)
			nd_aead_free(&c->tx);
	}
out:
	kfree_sensitive(hs);
	return ret;
}

static int info_error(struct nd_conn *c, u32 status)
{
	switch (status) {
	case ND_ERR_NO_EXPORT:
		nd_conn_err(c, "server has no export '%s'\n", c->dev->target.export_name);
		return -ENOENT;
	case ND_ERR_DENIED:
		nd_conn_err(c, "identity '%s' is not allowed on export '%s'\n",
			    c->dev->target.identity, c->dev->target.export_name);
		return -EACCES;
	default:
		nd_conn_err(c, "server refused the export (status %u)\n", status);
		return -EIO;
	}
}

static int read_info(struct nd_conn *c, struct nd_export_info *info)
{
	struct nd_info *wi = (struct nd_info *)(c->rx_buf.data + RECORD_HDR);
	u8 type;
	int len = recv_record(c, &type);

	if (len < 0)
		return len;
	if (type != ND_REC_INFO || len != sizeof(*wi)) {
		nd_conn_err(c, "expected export info, got record type %u\n", type);
		return -EPROTO;
	}
	if (wi->status)
		return info_error(c, be32_to_cpu(wi->status));
	info->size = be64_to_cpu(wi->size);
	info->block_size = be32_to_cpu(wi->block_size);
	info->max_io = be32_to_cpu(wi->max_io);
	info->flags = be32_to_cpu(wi->flags);
	if (info->block_size < 512 || info->block_size > PAGE_SIZE ||
	    !is_power_of_2(info->block_size) || info->max_io < info->block_size ||
	    info->max_io > ND_MAX_IO || info->size < info->block_size) {
		nd_conn_err(c, "server sent invalid export info\n");
		return -EPROTO;
	}
	return 0;
}

static void set_timeouts(struct socket *sock, long rcv, long snd)
{
	lock_sock(sock->sk);
	sock->sk->sk_rcvtimeo = rcv;
	sock->sk->sk_sndtimeo = snd;
	release_sock(sock->sk);
}

/* Connects and authenticates; on success the connection is ready to send. */
int nd_conn_open(struct nd_conn *c, struct nd_export_info *info)
{
	struct sockaddr_storage *ss = &c->dev->target.addr;
	int len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					      sizeof(struct sockaddr_in);
	struct socket *sock;
	int ret;

	ret = sock_create_kern(&init_net, ss->ss_family, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (ret)
		return ret;
	sock->sk->sk_allocation = GFP_NOIO;
	sk_set_memalloc(sock->sk);
	tcp_sock_set_nodelay(sock->sk);
	set_timeouts(sock, ND_HANDSHAKE_TIMEOUT_S * HZ, ND_HANDSHAKE_TIMEOUT_S * HZ);
	/* void *: the address type became struct sockaddr_unsized in 6.19 */
	ret = kernel_connect(sock, (void *)ss, len, 0);
	if (ret) {
		nd_conn_err(c, "cannot connect to port %u: error %d\n",
			    c->dev->target.port, ret);
		goto fail;
	}
	c->sock = sock;
	ret = handshake(c);
	if (ret)
		goto fail_sock;
	ret = read_info(c, info);
	if (ret)
		goto fail_keys;
	set_timeouts(sock, MAX_SCHEDULE_TIMEOUT, nd_request_timeout_s * HZ);
	return 0;
fail_keys:
	nd_aead_free(&c->tx);
	nd_aead_free(&c->rx);
fail_sock:
	c->sock = NULL;
fail:
	sock_release(sock);
	return ret;
}

static blk_status_t to_blk_status(u32 status)
{
	switch (status) {
	case ND_OK:
		return BLK_STS_OK;
	case ND_ERR_NOSPC:
		return BLK_STS_NOSPC;
	case ND_ERR_UNSUPPORTED:
		return BLK_STS_NOTSUPP;
	case ND_ERR_READ_ONLY:
		return BLK_STS_PROTECTION;
	default:
		return BLK_STS_IOERR;
	}
}

static void copy_to_request(struct request *rq, const u8 *data)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_to_bvec(&bv, data);
		data += bv.bv_len;
	}
}

/* Write-through: the cache learns only what the server confirmed. */
static void update_cache(struct nd_device *dev, struct request *rq,
			 struct nd_cmd *cmd, u32 status)
{
	switch (req_op(rq)) {
	case REQ_OP_READ:
		if (!status)
			nd_cache_fill(&dev->cache, rq, cmd->cache_gen);
		break;
	case REQ_OP_WRITE:
		if (!status) {
			nd_cache_write(&dev->cache, rq);
			break;
		}
		fallthrough;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		nd_cache_invalidate(&dev->cache, rq);
		break;
	default:
		break;
	}
}

static int handle_reply(struct nd_conn *c, int len)
{
	struct nd_reply *rp = (struct nd_reply *)(c->rx_buf.data + RECORD_HDR);
	struct nd_device *dev = c->dev;
	u64 handle = be64_to_cpu(rp->handle);
	u32 tag = lower_32_bits(handle), status, data_len;
	u16 hwq = blk_mq_unique_tag_to_hwq(tag);
	struct request *rq = NULL;
	struct nd_cmd *cmd;

	if (len < sizeof(*rp) || len != sizeof(*rp) + be32_to_cpu(rp->length))
		goto bad;
	if (hwq == c->index && blk_mq_unique_tag_to_tag(tag) < dev->tag_set.queue_depth)
		rq = blk_mq_tag_to_rq(dev->tag_set.tags[hwq], blk_mq_unique_tag_to_tag(tag));
	if (!rq)
		goto bad;
	cmd = blk_mq_rq_to_pdu(rq);
	if (READ_ONCE(cmd->cookie) != upper_32_bits(handle))
		goto bad;
	if (!test_and_clear_bit(ND_CMD_INFLIGHT, &cmd->flags)) {
		/* a late answer to a request already failed by the timeout */
		pr_warn_ratelimited("netdisk%d: reply after the request timed out, ignored\n",
				    dev->index);
		return 0;
	}
	status = be32_to_cpu(rp->status);
	data_len = be32_to_cpu(rp->length);
	if (req_op(rq) == REQ_OP_READ && !status) {
		if (data_len != blk_rq_bytes(rq)) {
			cmd->status = BLK_STS_IOERR;
			blk_mq_complete_request(rq);
			goto bad;
		}
		copy_to_request(rq, (u8 *)(rp + 1));
	} else if (data_len) {
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(rq);
		goto bad;
	}
	cmd->status = to_blk_status(status);
	if (nd_cache_enabled(&dev->cache))
		update_cache(dev, rq, cmd, status);
	if (status) {
		atomic64_inc(&dev->stats.errors);
		pr_err_ratelimited("netdisk%d: server refused %s at sector %llu: status %u\n",
				   dev->index, blk_op_str(req_op(rq)), blk_rq_pos(rq), status);
	}
	blk_mq_complete_request(rq);
	return 0;
bad:
	nd_conn_err(c, "reply to an unknown or finished request (handle %llx)\n", handle);
	return -EPROTO;
}

static int rx_thread(void *data)
{
	struct nd_conn *c = data;
	int len = 0;

	while (!kthread_should_stop()) {
		u8 type;

		len = recv_record(c, &type);
		if (len < 0)
			break;
		if (type != ND_REC_REPLY) {
			nd_conn_err(c, "unexpected record type %u\n", type);
			len = -EPROTO;
			break;
		}
		len = handle_reply(c, len);
		if (len)
			break;
	}
	if (!kthread_should_stop())
		nd_conn_fail(c, len == -ECONNRESET ? "server closed the connection" :
			     "receive failed");
	/* wait for the reconnect work or teardown to reap us */
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

int nd_conn_start(struct nd_conn *c)
{
	struct task_struct *t;

	t = kthread_run(rx_thread, c, "netdisk%d-rx%u", c->dev->index, c->index);
	if (IS_ERR(t))
		return PTR_ERR(t);
	get_task_struct(t);
	c->rx_task = t;
	return 0;
}

/* Stops the receiver and drops the socket; the connection must be dead. */
static void conn_stop(struct nd_conn *c)
{
	/* no sender is inside the old socket after this */
	mutex_lock(&c->tx_lock);
	mutex_unlock(&c->tx_lock);
	if (c->rx_task) {
		kthread_stop(c->rx_task);
		put_task_struct(c->rx_task);
		c->rx_task = NULL;
	}
	if (c->sock) {
		sock_release(c->sock);
		c->sock = NULL;
		nd_aead_free(&c->tx);
		nd_aead_free(&c->rx);
	}
}

void nd_conn_fail(struct nd_conn *c, const char *why)
{
	if (test_and_set_bit(ND_CONN_DEAD, &c->flags))
		return;
	c->dead_since = jiffies;
	if (!c->dev->removing)
		nd_conn_info(c, "connection %u lost (%s), reconnecting\n", c->index, why);
	if (c->sock)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	if (!c->dev->removing)
		queue_work(nd_wq, &c->reconnect_work);
}

/* Whether the queue's limits and features still describe the export. */
static bool same_export(const struct nd_export_info *a, const struct nd_export_info *b)
{
	return a->size == b->size && a->block_size == b->block_size &&
	       a->max_io == b->max_io && a->flags == b->flags;
}

static void reconnect_work(struct work_struct *work)
{
	struct nd_conn *c = container_of(work, struct nd_conn, reconnect_work);
	struct nd_device *dev = c->dev;
	unsigned int delay_ms = 100;
	bool expired = false;

	conn_stop(c);
	nd_device_requeue_inflight(dev, c);
	while (!READ_ONCE(dev->removing)) {
		struct nd_export_info info;

		/* past the dead timeout, the requeued requests go fail in queue_rq */
		if (!expired && time_after(jiffies, c->dead_since + nd_dead_timeout_s * HZ)) {
			expired = true;
			blk_mq_kick_requeue_list(dev->disk->queue);
		}

		if (!nd_conn_open(c, &info)) {
			int ret = -ESTALE;

			if (same_export(&info, &dev->info)) {
				ret = nd_conn_start(c);
				if (!ret)
					break;
			}
			if (ret == -ESTALE)
				nd_conn_err(c, "export changed under us (size, block size, max_io or flags); failing its I/O\n");
			else
				nd_conn_err(c, "cannot start the receiver (%d); failing I/O\n", ret);
			conn_stop(c);
			set_bit(ND_CONN_DEAD, &c->flags);
			c->dead_since = jiffies - nd_dead_timeout_s * HZ;
			wake_up_all(&c->wait);
			/* the requeued requests go fail in queue_rq */
			blk_mq_kick_requeue_list(dev->disk->queue);
			return;
		}
		wait_event_timeout(c->wait, READ_ONCE(dev->removing),
				   msecs_to_jiffies(delay_ms));
		delay_ms = min(delay_ms * 2, 5000U);
	}
	if (READ_ONCE(dev->removing)) {
		conn_stop(c);
		return;
	}
	atomic64_inc(&dev->stats.reconnects);
	dev->dead_logged = false;
	clear_bit(ND_CONN_DEAD, &c->flags);
	nd_conn_info(c, "connection %u re-established\n", c->index);
	wake_up_all(&c->wait);
	blk_mq_kick_requeue_list(dev->disk->queue);
}

/* Waits for a dead connection to come back, up to the dead timeout. */
bool nd_conn_wait_usable(struct nd_conn *c)
{
	struct nd_device *dev = c->dev;
	long left;

	if (!test_bit(ND_CONN_DEAD, &c->flags))
		return !READ_ONCE(dev->removing);
	left = (long)(c->dead_since + nd_dead_timeout_s * HZ) - (long)jiffies;
	if (left > 0)
		wait_event_timeout(c->wait, !test_bit(ND_CONN_DEAD, &c->flags) ||
				   READ_ONCE(dev->removing), left);
	if (READ_ONCE(dev->removing))
		return false;
	if (test_bit(ND_CONN_DEAD, &c->flags)) {
		if (!xchg(&dev->dead_logged, true))
			pr_err("netdisk%d (%s): server unreachable for %u s, failing I/O\n",
			       dev->index, dev->target.host, nd_dead_timeout_s);
		return false;
	}
	return true;
}

static void copy_from_request(struct request *rq, u8 *data)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_from_bvec(data, &bv);
		data += bv.bv_len;
	}
}

/*
 * Sends rq. Returns 0 once it is on the wire (or will be resent after a
 * reconnect), -EAGAIN when the connection died before sending.
 */
int nd_conn_send_request(struct nd_conn *c, struct request *rq)
{
	struct nd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct nd_request *wr = (struct nd_request *)(c->tx_buf.data + RECORD_HDR);
	u32 len = sizeof(*wr);
	u16 type, flags = 0;
	int ret;

	switch (req_op(rq)) {
	case REQ_OP_READ:
		type = ND_CMD_READ;
		break;
	case REQ_OP_WRITE:
		type = ND_CMD_WRITE;
		break;
	case REQ_OP_FLUSH:
		type = ND_CMD_FLUSH;
		break;
	case REQ_OP_DISCARD:
		type = ND_CMD_TRIM;
		break;
	case REQ_OP_WRITE_ZEROES:
		type = ND_CMD_WRITE_ZEROES;
		break;
	default:
		return -EOPNOTSUPP;
	}
	/* the protocol allows FUA on WRITE and WRITE_ZEROES only */
	if (rq->cmd_flags & REQ_FUA && (type == ND_CMD_WRITE || type == ND_CMD_WRITE_ZEROES))
		flags |= ND_CMD_FLAG_FUA;

	mutex_lock(&c->tx_lock);
	if (test_bit(ND_CONN_DEAD, &c->flags)) {
		mutex_unlock(&c->tx_lock);
		return -EAGAIN;
	}
	cmd->conn = c;
	cmd->cookie++;
	cmd->status = BLK_STS_OK;
	wr->type = cpu_to_be16(type);
	wr->flags = cpu_to_be16(flags);
	wr->length = cpu_to_be32(type == ND_CMD_FLUSH ? 0 : blk_rq_bytes(rq));
	wr->handle = cpu_to_be64((u64)cmd->cookie << 32 | blk_mq_unique_tag(rq));
	wr->offset = cpu_to_be64(type == ND_CMD_FLUSH ? 0 : blk_rq_pos(rq) << SECTOR_SHIFT);
	if (type == ND_CMD_WRITE) {
		copy_from_request(rq, (u8 *)(wr + 1));
		len += blk_rq_bytes(rq);
	} else if (type == ND_CMD_READ) {
		cmd->cache_gen = atomic64_read(&c->dev->cache.gen);
	}
	set_bit(ND_CMD_INFLIGHT, &cmd->flags);
	ret = send_sealed(c, ND_REC_REQUEST, len);
	mutex_unlock(&c->tx_lock);
	if (ret)
		nd_conn_fail(c, "send failed");
	/* on failure the reconnect work requeues the request */
	return 0;
}

int nd_conn_init(struct nd_conn *c, struct nd_device *dev, unsigned int index)
{
	int ret;

	c->dev = dev;
	c->index = index;
	mutex_init(&c->tx_lock);
	init_waitqueue_head(&c->wait);
	INIT_WORK(&c->reconnect_work, reconnect_work);
	ret = nd_buf_alloc(&c->tx_buf, BUF_SIZE);
	if (ret)
		return ret;
	ret = nd_buf_alloc(&c->rx_buf, BUF_SIZE);
	if (ret)
		nd_buf_free(&c->tx_buf);
	return ret;
}

/* Stops the connection for good: no reconnect, receiver gone. */
void nd_conn_shutdown(struct nd_conn *c)
{
	nd_conn_fail(c, "detaching");
	wake_up_all(&c->wait);
	cancel_work_sync(&c->reconnect_work);
	conn_stop(c);
}

void nd_conn_destroy(struct nd_conn *c)
{
	nd_buf_free(&c->tx_buf);
	nd_buf_free(&c->rx_buf);
}
