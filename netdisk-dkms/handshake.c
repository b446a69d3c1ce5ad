// SPDX-License-Identifier: GPL-2.0
/*
 * The protocol v2 handshake, client side (docs/protocol.md, "Handshake").
 *
 *   client                                          server
 *   ClientHello: nonce_c, X25519 share_c,
 *     identity, export, server name,
 *     timestamp, mac1 = HMAC(HKDF-Expand(PSK, "netdisk4 mac1"), hello)[0..16)
 *                                     ---------->   checks mac1 before any X25519
 *                                     <----------   ServerHello: status,
 *                                                     nonce_s, share_s
 *   th  = SHA-256(ClientHello || ServerHello)
 *   PRK = HKDF-Extract(nonce_c || nonce_s, PSK || X25519(priv_c, share_s))
 *   c2s, s2c, cfin, sfin = HKDF-Expand(PRK, "netdisk4 <label>" || th)
 *   ClientFinished: HMAC(cfin, th)    ---------->
 *                                     <----------   ServerFinished: HMAC(sfin, th)
 *   records: AES-256-GCM under c2s / s2c
 *
 * The whole exchange shares one deadline: a peer that trickles bytes gets
 * no more time than one that sends nothing.
 */
#define pr_fmt(fmt) "netdisk: " fmt

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/sock.h>

#include "handshake.h"

#define nd_hs_err(i, t, fmt, ...) \
	pr_err("netdisk%d (%s): " fmt, i, (t)->host, ##__VA_ARGS__)

int nd_sock_xfer_until(struct socket *sock, void *buf, size_t len, bool send,
		       unsigned long deadline)
{
	while (len) {
		struct kvec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		long left = (long)(deadline - jiffies);
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		lock_sock(sock->sk);
		sock->sk->sk_rcvtimeo = left;
		sock->sk->sk_sndtimeo = left;
		release_sock(sock->sk);
		if (send) {
			n = kernel_sendmsg(sock, &msg, &iov, 1, len);
		} else {
			msg.msg_flags |= MSG_WAITALL;
			n = kernel_recvmsg(sock, &msg, &iov, 1, len, msg.msg_flags);
		}
		if (n == -EAGAIN)
			return -ETIMEDOUT;
		if (n <= 0)
			return n ? n : -ECONNRESET;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads the ServerHello: the 8 bytes every version shares, then the rest. */
static int nd_read_server_hello(struct nd_handshake *hs, struct socket *sock,
			     const struct nd_target *t, unsigned long deadline,
			     int idx)
{
	struct nd_server_hello *sh = &hs->sh;
	struct nd_hello_prefix *pre = (struct nd_hello_prefix *)sh;
	int ret = nd_sock_xfer_until(sock, pre, sizeof(*pre), false, deadline);

	if (ret) {
		nd_hs_err(idx, t, "no answer to the hello (%d)\n", ret);
		return ret;
	}
	if (be32_to_cpu(sh->magic) != ND_MAGIC) {
		nd_hs_err(idx, t, "not a netdisk server\n");
		return -EPROTO;
	}
	if (be16_to_cpu(sh->status) == ND_HELLO_VERSION ||
	    be16_to_cpu(sh->version) != ND_VERSION) {
		nd_hs_err(idx, t, "server speaks protocol version %u, we speak %u\n",
			  be16_to_cpu(sh->version), ND_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (be16_to_cpu(sh->status) == ND_HELLO_WRONG_SERVER) {
		nd_hs_err(idx, t, "the server does not answer to the name '%s' on port %u: another server, or a relayed connection (if both are right, add them to server-name and server-port in its netdiskd.conf)\n",
			  t->server_name, t->port);
		return -EHOSTUNREACH;
	}
	if (be16_to_cpu(sh->status) == ND_HELLO_KEY) {
		nd_hs_err(idx, t, "server rejected the key for identity '%s' (wrong key or unknown identity)\n",
			  t->identity);
		return -EKEYREJECTED;
	}
	if (sh->status && be16_to_cpu(sh->status) != ND_HELLO_BUSY) {
		nd_hs_err(idx, t, "server refused the hello (status %u)\n",
			  be16_to_cpu(sh->status));
		return -EPROTO;
	}
	ret = nd_sock_xfer_until(sock, (u8 *)sh + sizeof(*pre),
				 sizeof(*sh) - sizeof(*pre), false, deadline);
	if (ret) {
		nd_hs_err(idx, t, "hello cut short (%d)\n", ret);
		return ret;
	}
	if (sh->status) {
		u32 ms = be32_to_cpu(sh->retry_after_ms);

		/* at a connection limit, before any key was used: the caller retries */
		hs->retry_after_ms = ms && ms <= ND_RETRY_AFTER_MAX_MS ? ms : 1000;
		return -EAGAIN;
	}
	return 0;
}

static void nd_handshake_wipe(struct nd_handshake *hs)
{
	memzero_explicit(&hs->ch, sizeof(*hs) - offsetof(struct nd_handshake, ch));
}

int nd_handshake_run(struct nd_handshake *hs, struct socket *sock,
		     const struct nd_target *t, unsigned long deadline, int idx)
{
	__be64 now;
	int ret;

	nd_handshake_wipe(hs);
	hs->retry_after_ms = 0;
	hs->ch.magic = cpu_to_be32(ND_MAGIC);
	hs->ch.version = cpu_to_be16(ND_VERSION);
	memcpy(hs->ch.identity, t->identity, strlen(t->identity));
	memcpy(hs->ch.export_name, t->export_name, strlen(t->export_name));
	memcpy(hs->ch.server_name, t->server_name, strlen(t->server_name));
	hs->ch.server_port = cpu_to_be16(t->port);
	get_random_bytes(hs->ch.nonce, sizeof(hs->ch.nonce));
	curve25519_generate_secret(hs->priv);
	if (!curve25519_generate_public(hs->ch.share, hs->priv)) {
		ret = -EINVAL;
		goto fail;
	}
	now = cpu_to_be64(ktime_get_real_seconds());
	memcpy(hs->ch.timestamp, &now, sizeof(now));
	/* the PSK is copied once per handshake, and wiped on every way out */
	nd_target_key(t, hs->psk);
	ret = nd_hello_mac1(hs->hmac, &hs->ch, hs->psk, hs->ch.mac1);
	if (ret)
		goto fail;
	ret = nd_sock_xfer_until(sock, &hs->ch, sizeof(hs->ch), true, deadline);
	if (ret) {
		nd_hs_err(idx, t, "cannot send the hello (%d)\n", ret);
		goto fail;
	}
	ret = nd_read_server_hello(hs, sock, t, deadline, idx);
	if (ret)
		goto fail;
	if (!curve25519(hs->dh, hs->priv, hs->sh.share)) {
		nd_hs_err(idx, t, "server sent an invalid X25519 share\n");
		ret = -EPROTO;
		goto fail;
	}
	ret = nd_derive_keys(hs->hmac, &hs->ch, &hs->sh, hs->psk, hs->dh, &hs->k);
	memzero_explicit(hs->psk, sizeof(hs->psk));
	if (!ret)
		ret = nd_hmac_sha256(hs->hmac, hs->k.cfin, hs->k.th, ND_HASH_SIZE,
				     hs->mac);
	if (!ret)
		ret = nd_sock_xfer_until(sock, hs->mac, sizeof(hs->mac), true,
					 deadline);
	if (ret)
		goto fail;
	ret = nd_sock_xfer_until(sock, hs->fin, sizeof(hs->fin), false, deadline);
	if (ret) {
		nd_hs_err(idx, t, "server rejected the key for identity '%s' (wrong key or unknown identity)\n",
			  t->identity);
		ret = -EKEYREJECTED;
		goto fail;
	}
	ret = nd_hmac_sha256(hs->hmac, hs->k.sfin, hs->k.th, ND_HASH_SIZE, hs->mac);
	if (ret)
		goto fail;
	if (crypto_memneq(hs->mac, hs->fin, ND_HASH_SIZE)) {
		nd_hs_err(idx, t, "server failed key confirmation (it holds a different key)\n");
		ret = -EKEYREJECTED;
		goto fail;
	}
	/*
	 * With the PSK, which the device keeps, the ephemeral secret and the
	 * shared one re-derive every key of the session: wipe them now, not at
	 * the next handshake. The caller wipes hs->k once the keys are set.
	 */
	memzero_explicit(hs->priv, sizeof(hs->priv));
	memzero_explicit(hs->dh, sizeof(hs->dh));
	return 0;
fail:
	nd_handshake_wipe(hs);
	return ret;
}

int nd_handshake_init(struct nd_handshake *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->hmac = nd_hmac_alloc();
	if (IS_ERR(hs->hmac)) {
		int ret = PTR_ERR(hs->hmac);

		hs->hmac = NULL;
		return ret;
	}
	return 0;
}

void nd_handshake_free(struct nd_handshake *hs)
{
	nd_handshake_wipe(hs);
	if (hs->hmac)
		crypto_free_shash(hs->hmac);
	hs->hmac = NULL;
}
