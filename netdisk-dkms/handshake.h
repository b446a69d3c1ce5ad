/* SPDX-License-Identifier: GPL-2.0 */
/* The handshake of docs/protocol.md over a blocking socket, bounded by a deadline. */
#ifndef _NETDISK_HANDSHAKE_H
#define _NETDISK_HANDSHAKE_H

#include <crypto/curve25519.h>
#include <linux/net.h>
#include <linux/socket.h>

#include "crypto.h"
#include "target.h"
#include <netdisk/wire.h>

/* Kept from attach to detach, so that a reconnect allocates nothing. */
struct nd_handshake {
	struct crypto_shash *hmac;
	/* after -EAGAIN from a BUSY ServerHello: its hint; else 0 */
	unsigned int retry_after_ms;
	struct nd_client_hello ch;
	struct nd_server_hello sh;
	struct nd_handshake_keys k;
	u8 psk[ND_KEY_SIZE];		/* the target's key, copied for this run */
	u8 priv[CURVE25519_KEY_SIZE];
	u8 dh[CURVE25519_KEY_SIZE];
	u8 mac[ND_HASH_SIZE];
	u8 fin[ND_HASH_SIZE];
};

int nd_handshake_init(struct nd_handshake *hs);
void nd_handshake_free(struct nd_handshake *hs);
/*
 * Runs the handshake on a connected socket; on success the record keys are
 * in hs->k.c2s and hs->k.s2c, for the caller to take and wipe.
 */
int nd_handshake_run(struct nd_handshake *hs, struct socket *sock,
		     const struct nd_target *t, unsigned long deadline,
		     int disk_index);
/* Sends or receives exactly len bytes, blocking, until deadline (jiffies). */
int nd_sock_xfer_until(struct socket *sock, void *buf, size_t len, bool send,
		       unsigned long deadline);

#endif
