/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protocol v2 cryptography on the kernel crypto API: the HKDF-SHA256 key
 * schedule and the AES-256-GCM record stream of one direction.
 */
#ifndef _NETDISK_CRYPTO_H
#define _NETDISK_CRYPTO_H

#include <linux/scatterlist.h>
#include <linux/types.h>

#include "netdisk_wire.h"

struct crypto_aead;
struct aead_request;

/* A record buffer: [header][payload][tag], vmalloc'ed, mapped by sgt. */
struct nd_buf {
	u8 *data;
	size_t size;
	struct sg_table sgt;
};

int nd_buf_alloc(struct nd_buf *b, size_t size);
void nd_buf_free(struct nd_buf *b);

/* One direction of the record stream (docs/protocol.md, "Record layer"). */
struct nd_aead {
	struct crypto_aead *tfm;
	struct aead_request *req;
	u8 secret[ND_HASH_SIZE];
	u8 iv[ND_IV_SIZE];
	u64 seq;
	u64 bytes;
	u64 epoch;
};

int __must_check nd_aead_init(struct nd_aead *a, const u8 secret[ND_HASH_SIZE]);
int __must_check nd_aead_next_epoch(struct nd_aead *a);
void nd_aead_free(struct nd_aead *a);
/*
 * Seals the len-byte payload of b in place, tag appended; its first clear
 * bytes stay in the clear, authenticated with the header.
 */
int __must_check nd_aead_seal(struct nd_aead *a, struct nd_buf *b, u32 len,
			      u32 clear);
/* Opens it in place; on failure the payload is wiped. */
int __must_check nd_aead_open(struct nd_aead *a, struct nd_buf *b, u32 len,
			      u32 clear);

struct nd_handshake_keys {
	u8 th[ND_HASH_SIZE];
	u8 c2s[ND_HASH_SIZE];
	u8 s2c[ND_HASH_SIZE];
	u8 cfin[ND_HASH_SIZE];
	u8 sfin[ND_HASH_SIZE];
};

int __must_check nd_derive_keys(const struct nd_client_hello *ch,
				const struct nd_server_hello *sh,
				const u8 psk[ND_KEY_SIZE],
				const u8 dh[ND_SHARE_SIZE],
				struct nd_handshake_keys *k);
int __must_check nd_hmac_sha256(const u8 key[ND_HASH_SIZE], const void *data,
				unsigned int len, u8 out[ND_HASH_SIZE]);

#endif
