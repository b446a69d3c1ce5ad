/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protocol v2 cryptography on the kernel crypto API: the HKDF-SHA256 key
 * schedule and the AES-256-GCM record stream of one direction.
 */
#ifndef _NETDISK_CRYPTO_H
#define _NETDISK_CRYPTO_H

#include <linux/scatterlist.h>
#include <linux/types.h>

#include <netdisk/wire.h>

struct crypto_aead;
struct crypto_shash;
struct aead_request;

/* A record buffer: [header][payload][tag], vmalloc'ed, mapped by sgt. */
struct nd_buf {
	u8 *data;
	size_t size;
	struct sg_table sgt;
};

int nd_buf_alloc(struct nd_buf *b, size_t size);
void nd_buf_free(struct nd_buf *b);

/*
 * One direction of the record stream (docs/protocol.md, "Record layer").
 * The transforms are allocated once, at attach; a handshake only sets keys.
 */
struct nd_aead {
	struct crypto_aead *tfm;
	struct aead_request *req;
	struct crypto_shash *hmac;	/* borrowed, for the key updates */
	u8 secret[ND_HASH_SIZE];
	u8 iv[ND_IV_SIZE];
	u64 seq;
	u64 bytes;
	u64 epoch;
};

int __must_check nd_aead_alloc(struct nd_aead *a, struct crypto_shash *hmac);
int __must_check nd_aead_set_secret(struct nd_aead *a,
				    const u8 secret[ND_HASH_SIZE]);
int __must_check nd_aead_next_epoch(struct nd_aead *a);
void nd_aead_wipe(struct nd_aead *a);
void nd_aead_free(struct nd_aead *a);
/*
 * src and dst both start with assoc bytes of associated data (dst only
 * skips them); len bytes after it are sealed, the tag written after them.
 */
int __must_check nd_aead_seal(struct nd_aead *a, struct scatterlist *src,
			      struct scatterlist *dst, u32 assoc, u32 len);
/* Opens len bytes and checks the tag after them; dst is garbage on failure. */
int __must_check nd_aead_open(struct nd_aead *a, struct scatterlist *src,
			      struct scatterlist *dst, u32 assoc, u32 len);

struct nd_handshake_keys {
	u8 th[ND_HASH_SIZE];
	u8 c2s[ND_HASH_SIZE];
	u8 s2c[ND_HASH_SIZE];
	u8 cfin[ND_HASH_SIZE];
	u8 sfin[ND_HASH_SIZE];
};

struct crypto_shash *nd_hmac_alloc(void);
int __must_check nd_derive_keys(struct crypto_shash *tfm,
				const struct nd_client_hello *ch,
				const struct nd_server_hello *sh,
				const u8 psk[ND_KEY_SIZE],
				const u8 dh[ND_SHARE_SIZE],
				struct nd_handshake_keys *k);
/* docs/protocol.md, "Unauthenticated connections": the hello's mac1 */
int __must_check nd_hello_mac1(struct crypto_shash *tfm, const struct nd_client_hello *ch,
			       const u8 psk[ND_KEY_SIZE], u8 out[ND_MAC1_SIZE]);
int __must_check nd_hmac_sha256(struct crypto_shash *tfm,
				const u8 key[ND_HASH_SIZE], const void *data,
				unsigned int len, u8 out[ND_HASH_SIZE]);

#endif
