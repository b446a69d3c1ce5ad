/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* Cryptographic primitives of protocol v2, all from OpenSSL libcrypto. */
#ifndef ND_CRYPTO_H
#define ND_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netdisk/wire.h>

int nd_random(void *buf, size_t len);
int nd_sha256(const void *data, size_t len, uint8_t out[ND_HASH_SIZE]);
int nd_hmac_sha256(const uint8_t key[ND_HASH_SIZE], const void *data,
		   size_t len, uint8_t out[ND_HASH_SIZE]);
int nd_hkdf_extract(const void *salt, size_t salt_len, const void *ikm,
		    size_t ikm_len, uint8_t prk[ND_HASH_SIZE]);
int nd_hkdf_expand(const uint8_t prk[ND_HASH_SIZE], const void *info,
		   size_t info_len, void *out, size_t out_len);
/* A fresh ephemeral X25519 key pair (RFC 7748), raw 32-byte encodings. */
int nd_x25519_keypair(uint8_t priv[ND_SHARE_SIZE], uint8_t pub[ND_SHARE_SIZE]);
/* The shared secret; fails on an all-zero result (a low-order peer share). */
int nd_x25519(const uint8_t priv[ND_SHARE_SIZE], const uint8_t peer[ND_SHARE_SIZE],
	      uint8_t out[ND_SHARE_SIZE]);
bool nd_equal_ct(const void *a, const void *b, size_t len);
void nd_wipe(void *p, size_t len);
/*
 * Frees what libcrypto keeps for the calling thread (its random generators)
 * now, not at the thread's exit: for a detached thread whose end the
 * process may not wait for.
 */
void nd_crypto_thread_end(void);

/*
 * One direction of a record stream: the traffic secret of the current epoch,
 * the key and IV derived from it, and the record counter.
 */
struct nd_aead_dir {
	uint8_t secret[ND_HASH_SIZE];
	uint8_t iv[ND_IV_SIZE];
	uint64_t seq;
	uint64_t bytes;
	uint64_t epoch;
	void *ctx;		/* EVP_CIPHER_CTX keyed for this epoch */
};

int nd_aead_init(struct nd_aead_dir *d, const uint8_t secret[ND_HASH_SIZE]);
int nd_aead_next_epoch(struct nd_aead_dir *d);
void nd_aead_free(struct nd_aead_dir *d);
/* Encrypts buf in place; aad is the record header. Advances seq. */
int nd_aead_seal(struct nd_aead_dir *d, const void *aad, size_t aad_len,
		 uint8_t *buf, size_t len, uint8_t tag[ND_TAG_SIZE]);
/* Decrypts buf in place; returns -1 and leaves no plaintext on a bad tag. */
int nd_aead_open(struct nd_aead_dir *d, const void *aad, size_t aad_len,
		 uint8_t *buf, size_t len, const uint8_t tag[ND_TAG_SIZE]);
/* Raw AES-256-GCM, for the published test vectors. */
int nd_aes_gcm_encrypt(const uint8_t key[32], const uint8_t *iv, size_t iv_len,
		       const void *aad, size_t aad_len, const void *in,
		       size_t len, void *out, uint8_t tag[ND_TAG_SIZE]);

#endif
