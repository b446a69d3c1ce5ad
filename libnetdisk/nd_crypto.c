// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "nd_crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

int nd_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int nd_sha256(const void *data, size_t len, uint8_t out[ND_HASH_SIZE])
{
	return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int nd_hmac_sha256(const uint8_t key[ND_HASH_SIZE], const void *data,
		   size_t len, uint8_t out[ND_HASH_SIZE])
{
	unsigned int out_len = ND_HASH_SIZE;

	return HMAC(EVP_sha256(), key, ND_HASH_SIZE, data, len, out,
		    &out_len) ? 0 : -1;
}

static int hkdf(int mode, const void *salt, size_t salt_len, const void *key,
		size_t key_len, const void *info, size_t info_len, void *out,
		size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[6], *p = params;
	int ret = -1;

	EVP_KDF_free(kdf);
	if (!ctx)
		return -1;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)key, key_len);
	if (salt)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt, salt_len);
	if (info)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
		ret = 0;
	EVP_KDF_CTX_free(ctx);
	return ret;
}

int nd_hkdf_extract(const void *salt, size_t salt_len, const void *ikm,
		    size_t ikm_len, uint8_t prk[ND_HASH_SIZE])
{
	return hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, salt_len, ikm,
		    ikm_len, NULL, 0, prk, ND_HASH_SIZE);
}

int nd_hkdf_expand(const uint8_t prk[ND_HASH_SIZE], const void *info,
		   size_t info_len, void *out, size_t out_len)
{
	return hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk, ND_HASH_SIZE,
		    info, info_len, out, out_len);
}

int nd_x25519_keypair(uint8_t priv[ND_SHARE_SIZE], uint8_t pub[ND_SHARE_SIZE])
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t priv_len = ND_SHARE_SIZE, pub_len = ND_SHARE_SIZE;
	int ret = -1;

	if (!pk)
		return -1;
	if (EVP_PKEY_get_raw_private_key(pk, priv, &priv_len) == 1 &&
	    EVP_PKEY_get_raw_public_key(pk, pub, &pub_len) == 1 &&
	    priv_len == ND_SHARE_SIZE && pub_len == ND_SHARE_SIZE)
		ret = 0;
	EVP_PKEY_free(pk);
	return ret;
}

int nd_x25519(const uint8_t priv[ND_SHARE_SIZE], const uint8_t peer[ND_SHARE_SIZE],
	      uint8_t out[ND_SHARE_SIZE])
{
	static const uint8_t zero[ND_SHARE_SIZE];
	EVP_PKEY *own = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
						     ND_SHARE_SIZE);
	EVP_PKEY *other = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
						      ND_SHARE_SIZE);
	EVP_PKEY_CTX *ctx = own ? EVP_PKEY_CTX_new(own, NULL) : NULL;
	size_t len = ND_SHARE_SIZE;
	int ret = -1;

	/* OpenSSL refuses an all-zero result (a low-order peer share) itself */
	if (ctx && other && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, other) == 1 &&
	    EVP_PKEY_derive(ctx, out, &len) == 1 && len == ND_SHARE_SIZE &&
	    CRYPTO_memcmp(out, zero, ND_SHARE_SIZE))
		ret = 0;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(own);
	EVP_PKEY_free(other);
	if (ret)
		nd_wipe(out, ND_SHARE_SIZE);
	return ret;
}

bool nd_equal_ct(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void nd_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

static int expand_label(const uint8_t secret[ND_HASH_SIZE], const char *label,
			void *out, size_t len)
{
	return nd_hkdf_expand(secret, label, strlen(label), out, len);
}

static int aead_key_epoch(struct nd_aead_dir *d)
{
	uint8_t key[32];
	int ret = -1;

	if (expand_label(d->secret, "netdisk4 key", key, sizeof(key)) ||
	    expand_label(d->secret, "netdisk4 iv", d->iv, sizeof(d->iv)))
		goto out;
	if (EVP_CipherInit_ex(d->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, -1) != 1 ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_GCM_SET_IVLEN, ND_IV_SIZE, NULL) != 1 ||
	    EVP_CipherInit_ex(d->ctx, NULL, NULL, key, NULL, -1) != 1)
		goto out;
	d->seq = 0;
	d->bytes = 0;
	ret = 0;
out:
	nd_wipe(key, sizeof(key));
	return ret;
}

int nd_aead_init(struct nd_aead_dir *d, const uint8_t secret[ND_HASH_SIZE])
{
	memset(d, 0, sizeof(*d));
	d->ctx = EVP_CIPHER_CTX_new();
	if (!d->ctx)
		return -1;
	memcpy(d->secret, secret, ND_HASH_SIZE);
	return aead_key_epoch(d);
}

int nd_aead_next_epoch(struct nd_aead_dir *d)
{
	uint8_t next[ND_HASH_SIZE];

	if (expand_label(d->secret, "netdisk4 upd", next, sizeof(next)))
		return -1;
	memcpy(d->secret, next, sizeof(next));
	nd_wipe(next, sizeof(next));
	d->epoch++;
	return aead_key_epoch(d);
}

void nd_aead_free(struct nd_aead_dir *d)
{
	EVP_CIPHER_CTX_free(d->ctx);
	nd_wipe(d, sizeof(*d));
}

static void record_nonce(const struct nd_aead_dir *d, uint8_t nonce[ND_IV_SIZE])
{
	memcpy(nonce, d->iv, ND_IV_SIZE);
	for (int i = 0; i < 8; i++)
		nonce[ND_IV_SIZE - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

static int gcm_run(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *nonce,
		   const void *aad, size_t aad_len, const uint8_t *in,
		   uint8_t *out, size_t len, uint8_t tag[ND_TAG_SIZE])
{
	int outl;

	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc) != 1)
		return -1;
	if (EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		return -1;
	if (len && EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1)
		return -1;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, ND_TAG_SIZE,
					tag) != 1)
		return -1;
	if (EVP_CipherFinal_ex(ctx, out + len, &outl) != 1)
		return -1;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, ND_TAG_SIZE,
				       tag) != 1)
		return -1;
	return 0;
}

int nd_aead_seal(struct nd_aead_dir *d, const void *aad, size_t aad_len,
		 uint8_t *buf, size_t len, uint8_t tag[ND_TAG_SIZE])
{
	uint8_t nonce[ND_IV_SIZE];

	record_nonce(d, nonce);
	if (gcm_run(d->ctx, 1, nonce, aad, aad_len, buf, buf, len, tag))
		return -1;
	d->seq++;
	d->bytes += len;
	return 0;
}

int nd_aead_open(struct nd_aead_dir *d, const void *aad, size_t aad_len,
		 uint8_t *buf, size_t len, const uint8_t tag[ND_TAG_SIZE])
{
	uint8_t nonce[ND_IV_SIZE], t[ND_TAG_SIZE];

	memcpy(t, tag, sizeof(t));
	record_nonce(d, nonce);
	if (gcm_run(d->ctx, 0, nonce, aad, aad_len, buf, buf, len, t)) {
		/* never leave unauthenticated plaintext behind */
		memset(buf, 0, len);
		return -1;
	}
	d->seq++;
	d->bytes += len;
	return 0;
}

int nd_aes_gcm_encrypt(const uint8_t key[32], const uint8_t *iv, size_t iv_len,
		       const void *aad, size_t aad_len, const void *in,
		       size_t len, void *out, uint8_t tag[ND_TAG_SIZE])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ret = -1;

	if (!ctx)
		return -1;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL) == 1 &&
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, NULL) == 1)
		ret = gcm_run(ctx, 1, iv, aad, aad_len, in, out, len, tag);
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

void nd_crypto_thread_end(void)
{
	OPENSSL_thread_stop();
}
