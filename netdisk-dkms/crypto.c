// SPDX-License-Identifier: GPL-2.0
#define pr_fmt(fmt) "netdisk: " fmt

#include <crypto/aead.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "crypto.h"

int nd_buf_alloc(struct nd_buf *b, size_t size)
{
	unsigned int i, pages = DIV_ROUND_UP(size, PAGE_SIZE);
	struct scatterlist *sg;

	b->size = size;
	b->data = vmalloc(size);
	if (!b->data)
		return -ENOMEM;
	if (sg_alloc_table(&b->sgt, pages, GFP_KERNEL)) {
		vfree(b->data);
		b->data = NULL;
		return -ENOMEM;
	}
	for_each_sg(b->sgt.sgl, sg, pages, i)
		sg_set_page(sg, vmalloc_to_page(b->data + i * PAGE_SIZE),
			    PAGE_SIZE, 0);
	return 0;
}

void nd_buf_free(struct nd_buf *b)
{
	if (!b->data)
		return;
	sg_free_table(&b->sgt);
	vfree(b->data);
	b->data = NULL;
}

struct crypto_shash *nd_hmac_alloc(void)
{
	struct crypto_shash *tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);

	if (IS_ERR(tfm))
		pr_err("no hmac(sha256) in this kernel (error %ld): are its modules installed?\n",
		       PTR_ERR(tfm));
	return tfm;
}

int nd_hmac_sha256(struct crypto_shash *tfm, const u8 key[ND_HASH_SIZE],
		   const void *data, unsigned int len, u8 out[ND_HASH_SIZE])
{
	int ret = crypto_shash_setkey(tfm, key, ND_HASH_SIZE);

	if (!ret)
		ret = crypto_shash_tfm_digest(tfm, data, len, out);
	return ret;
}

/* RFC 5869 HKDF-Expand with SHA-256; info is the concatenation of two parts. */
static int nd_hkdf_expand(struct crypto_shash *tfm, const u8 prk[ND_HASH_SIZE],
		       const char *label, const u8 *context,
		       unsigned int context_len, u8 *out, unsigned int out_len)
{
	u8 t[ND_HASH_SIZE];
	unsigned int done = 0;
	u8 counter = 1;
	int ret = crypto_shash_setkey(tfm, prk, ND_HASH_SIZE);

	if (ret)
		return ret;
	while (done < out_len) {
		SHASH_DESC_ON_STACK(desc, tfm);
		unsigned int n = min_t(unsigned int, out_len - done, ND_HASH_SIZE);

		desc->tfm = tfm;
		ret = crypto_shash_init(desc);
		if (!ret && counter > 1)
			ret = crypto_shash_update(desc, t, ND_HASH_SIZE);
		if (!ret)
			ret = crypto_shash_update(desc, label, strlen(label));
		if (!ret && context_len)
			ret = crypto_shash_update(desc, context, context_len);
		if (!ret)
			ret = crypto_shash_update(desc, &counter, 1);
		if (!ret)
			ret = crypto_shash_final(desc, t);
		shash_desc_zero(desc);
		if (ret)
			break;
		memcpy(out + done, t, n);
		done += n;
		counter++;
	}
	memzero_explicit(t, sizeof(t));
	return ret;
}

int nd_hello_mac1(struct crypto_shash *tfm, const struct nd_client_hello *ch,
		  const u8 psk[ND_KEY_SIZE], u8 out[ND_MAC1_SIZE])
{
	u8 key[ND_HASH_SIZE], mac[ND_HASH_SIZE];
	int ret = nd_hkdf_expand(tfm, psk, ND_MAC1_LABEL, NULL, 0, key, sizeof(key));

	if (!ret)
		ret = nd_hmac_sha256(tfm, key, ch, offsetof(struct nd_client_hello, mac1), mac);
	if (!ret)
		memcpy(out, mac, ND_MAC1_SIZE);
	memzero_explicit(key, sizeof(key));
	memzero_explicit(mac, sizeof(mac));
	return ret;
}

int nd_derive_keys(struct crypto_shash *tfm, const struct nd_client_hello *ch,
		   const struct nd_server_hello *sh, const u8 psk[ND_KEY_SIZE],
		   const u8 dh[ND_SHARE_SIZE], struct nd_handshake_keys *k)
{
	static const char *const labels[] = {
		"netdisk4 c2s", "netdisk4 s2c", "netdisk4 cfin", "netdisk4 sfin",
	};
	u8 *outs[] = { k->c2s, k->s2c, k->cfin, k->sfin };
	u8 transcript[sizeof(*ch) + sizeof(*sh)];
	u8 salt[2 * ND_NONCE_SIZE], prk[ND_HASH_SIZE];
	u8 ikm[ND_KEY_SIZE + ND_SHARE_SIZE];
	int i, ret;

	/* one-shot sha256(): its streaming API changed types in 6.16 */
	memcpy(transcript, ch, sizeof(*ch));
	memcpy(transcript + sizeof(*ch), sh, sizeof(*sh));
	sha256(transcript, sizeof(transcript), k->th);

	/* HKDF-Extract: PRK = HMAC(salt, PSK || DH) */
	memcpy(salt, ch->nonce, ND_NONCE_SIZE);
	memcpy(salt + ND_NONCE_SIZE, sh->nonce, ND_NONCE_SIZE);
	memcpy(ikm, psk, ND_KEY_SIZE);
	memcpy(ikm + ND_KEY_SIZE, dh, ND_SHARE_SIZE);
	ret = crypto_shash_setkey(tfm, salt, sizeof(salt));
	if (!ret)
		ret = crypto_shash_tfm_digest(tfm, ikm, sizeof(ikm), prk);
	if (ret)
		goto out;
	for (i = 0; i < ARRAY_SIZE(labels); i++) {
		ret = nd_hkdf_expand(tfm, prk, labels[i], k->th, ND_HASH_SIZE, outs[i],
				  ND_HASH_SIZE);
		if (ret)
			break;
	}
out:
	memzero_explicit(ikm, sizeof(ikm));
	memzero_explicit(prk, sizeof(prk));
	return ret;
}

static int nd_aead_key_epoch(struct nd_aead *a)
{
	u8 key[ND_KEY_SIZE];
	int ret;

	ret = nd_hkdf_expand(a->hmac, a->secret, "netdisk4 key", NULL, 0, key,
			  sizeof(key));
	if (!ret)
		ret = nd_hkdf_expand(a->hmac, a->secret, "netdisk4 iv", NULL, 0, a->iv,
				  sizeof(a->iv));
	if (!ret)
		ret = crypto_aead_setkey(a->tfm, key, sizeof(key));
	memzero_explicit(key, sizeof(key));
	a->seq = 0;
	a->bytes = 0;
	return ret;
}

int nd_aead_alloc(struct nd_aead *a, struct crypto_shash *hmac)
{
	int ret;

	memset(a, 0, sizeof(*a));
	a->hmac = hmac;
	a->tfm = crypto_alloc_aead("gcm(aes)", 0, 0);
	if (IS_ERR(a->tfm)) {
		ret = PTR_ERR(a->tfm);
		pr_err("no gcm(aes) in this kernel (error %d): are the gcm and aes modules installed?\n",
		       ret);
		a->tfm = NULL;
		return ret;
	}
	ret = crypto_aead_setauthsize(a->tfm, ND_TAG_SIZE);
	if (ret)
		goto fail;
	a->req = aead_request_alloc(a->tfm, GFP_KERNEL);
	if (!a->req) {
		ret = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	nd_aead_free(a);
	return ret;
}

int nd_aead_set_secret(struct nd_aead *a, const u8 secret[ND_HASH_SIZE])
{
	memcpy(a->secret, secret, ND_HASH_SIZE);
	a->epoch = 0;
	return nd_aead_key_epoch(a);
}

void nd_aead_wipe(struct nd_aead *a)
{
	memzero_explicit(a->secret, sizeof(a->secret));
	memzero_explicit(a->iv, sizeof(a->iv));
	a->seq = 0;
	a->bytes = 0;
	a->epoch = 0;
}

int nd_aead_next_epoch(struct nd_aead *a)
{
	u8 next[ND_HASH_SIZE];
	int ret;

	ret = nd_hkdf_expand(a->hmac, a->secret, "netdisk4 upd", NULL, 0, next,
			  sizeof(next));
	if (ret)
		return ret;
	memcpy(a->secret, next, sizeof(next));
	memzero_explicit(next, sizeof(next));
	a->epoch++;
	return nd_aead_key_epoch(a);
}

void nd_aead_free(struct nd_aead *a)
{
	aead_request_free(a->req);
	if (a->tfm)
		crypto_free_aead(a->tfm);
	memzero_explicit(a, sizeof(*a));
}


/*
 * src and dst each start with assoc bytes of associated data, which dst
 * only skips; len counts the bytes sealed or opened, without the tag.
 */
static int nd_aead_run(struct nd_aead *a, struct scatterlist *src,
		    struct scatterlist *dst, u32 assoc, u32 len, bool enc)
{
	DECLARE_CRYPTO_WAIT(wait);
	u8 nonce[ND_IV_SIZE];
	__be64 seq = cpu_to_be64(a->seq);
	int i, ret;

	memcpy(nonce, a->iv, ND_IV_SIZE);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= ((u8 *)&seq)[i];
	aead_request_set_callback(a->req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_ad(a->req, assoc);
	aead_request_set_crypt(a->req, src, dst, enc ? len : len + ND_TAG_SIZE,
			       nonce);
	ret = crypto_wait_req(enc ? crypto_aead_encrypt(a->req) :
			      crypto_aead_decrypt(a->req), &wait);
	if (ret)
		return ret;
	a->seq++;
	a->bytes += len;
	return 0;
}

int nd_aead_seal(struct nd_aead *a, struct scatterlist *src,
		 struct scatterlist *dst, u32 assoc, u32 len)
{
	return nd_aead_run(a, src, dst, assoc, len, true);
}

int nd_aead_open(struct nd_aead *a, struct scatterlist *src,
		 struct scatterlist *dst, u32 assoc, u32 len)
{
	return nd_aead_run(a, src, dst, assoc, len, false);
}
