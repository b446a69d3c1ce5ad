// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* Published test vectors, and the record AEAD's failure behaviour. */
#include "check.h"
#include "nd_crypto.h"

/* RFC 5869, appendix A.1 */
static void test_hkdf_rfc5869(void)
{
	unsigned char ikm[22], salt[13], info[10], prk[32], okm[42];
	unsigned char want_prk[32], want_okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (unsigned char)i;
	for (int i = 0; i < 10; i++)
		info[i] = (unsigned char)(0xf0 + i);
	unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	      want_prk, 32);
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	      "34007208d5b887185865", want_okm, 42);
	CHECK(nd_hkdf_extract(salt, sizeof(salt), ikm, sizeof(ikm), prk) == 0);
	CHECK_MEM(prk, want_prk, 32);
	CHECK(nd_hkdf_expand(prk, info, sizeof(info), okm, sizeof(okm)) == 0);
	CHECK_MEM(okm, want_okm, 42);
}

/* The GCM specification (McGrew and Viega), test case 16: AES-256, AAD. */
static void test_gcm_vector(void)
{
	unsigned char key[32], iv[12], aad[20], pt[60], want_ct[60], want_tag[16];
	unsigned char ct[60], tag[16];

	unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	      key, 32);
	unhex("cafebabefacedbaddecaf888", iv, 12);
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, 20);
	unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", pt, 60);
	unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662", want_ct, 60);
	unhex("76fc6ece0f4e1768cddf8853bb2d551b", want_tag, 16);
	CHECK(nd_aes_gcm_encrypt(key, iv, 12, aad, 20, pt, 60, ct, tag) == 0);
	CHECK_MEM(ct, want_ct, 60);
	CHECK_MEM(tag, want_tag, 16);
}

/* RFC 4231 test case 2 */
static void test_hmac_vector(void)
{
	/* nd_hmac_sha256 takes 32-byte keys: use RFC 4231 case with a 32-byte key */
	unsigned char key[32], mac[32], want[32];
	const char *msg = "what do ya want for nothing?";

	memset(key, 0, sizeof(key));
	memcpy(key, "Jefe", 4);
	/* HMAC zero-pads keys shorter than the block, so this equals case 2 */
	unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	      want, 32);
	CHECK(nd_hmac_sha256(key, msg, strlen(msg), mac) == 0);
	CHECK_MEM(mac, want, 32);
}

static void pair(struct nd_aead_dir *tx, struct nd_aead_dir *rx)
{
	unsigned char secret[32];

	memset(secret, 0x42, sizeof(secret));
	CHECK(nd_aead_init(tx, secret) == 0);
	CHECK(nd_aead_init(rx, secret) == 0);
}

static void test_record_roundtrip_and_tamper(void)
{
	struct nd_aead_dir tx, rx;
	unsigned char hdr[8] = { 0, 0, 0, 5, 2, 0, 0, 0 };
	unsigned char buf[5], tag[16], saved[5], saved_tag[16];

	pair(&tx, &rx);
	memcpy(buf, "hello", 5);
	CHECK(nd_aead_seal(&tx, hdr, 8, buf, 5, tag) == 0);
	CHECK(memcmp(buf, "hello", 5) != 0);
	memcpy(saved, buf, 5);
	memcpy(saved_tag, tag, 16);
	CHECK(nd_aead_open(&rx, hdr, 8, buf, 5, tag) == 0);
	CHECK_MEM(buf, "hello", 5);

	/* the same record again (a replay) is under the next nonce: refused */
	memcpy(buf, saved, 5);
	CHECK(nd_aead_open(&rx, hdr, 8, buf, 5, tag) != 0);
	CHECK(memcmp(buf, "\0\0\0\0\0", 5) == 0);	/* nothing left behind */
	nd_aead_free(&tx);
	nd_aead_free(&rx);

	/* a flipped bit in ciphertext, tag or header is refused */
	for (int where = 0; where < 3; where++) {
		pair(&tx, &rx);
		memcpy(buf, "hello", 5);
		CHECK(nd_aead_seal(&tx, hdr, 8, buf, 5, tag) == 0);
		if (where == 0)
			buf[2] ^= 1;
		else if (where == 1)
			tag[15] ^= 0x80;
		else
			hdr[4] ^= 1;
		CHECK(nd_aead_open(&rx, hdr, 8, buf, 5, tag) != 0);
		if (where == 2)
			hdr[4] ^= 1;
		nd_aead_free(&tx);
		nd_aead_free(&rx);
	}
}

static void test_epochs(void)
{
	struct nd_aead_dir tx, rx;
	unsigned char hdr[8] = { 0 }, buf[4], epoch0[4], tag[16];

	/* a receiver that missed the key update cannot open the record */
	pair(&tx, &rx);
	CHECK(nd_aead_next_epoch(&tx) == 0);
	memcpy(buf, "data", 4);
	CHECK(nd_aead_seal(&tx, hdr, 8, buf, 4, tag) == 0);
	CHECK(nd_aead_open(&rx, hdr, 8, buf, 4, tag) != 0);
	nd_aead_free(&tx);
	nd_aead_free(&rx);

	/* both sides rotating stay in step; each epoch has its own key */
	pair(&tx, &rx);
	memcpy(buf, "data", 4);
	CHECK(nd_aead_seal(&tx, hdr, 8, buf, 4, tag) == 0);
	memcpy(epoch0, buf, 4);
	CHECK(nd_aead_open(&rx, hdr, 8, buf, 4, tag) == 0);
	for (int i = 0; i < 5; i++) {
		CHECK(nd_aead_next_epoch(&tx) == 0);
		CHECK(nd_aead_next_epoch(&rx) == 0);
		CHECK(tx.seq == 0 && rx.seq == 0 && tx.epoch == (uint64_t)i + 1);
		memcpy(buf, "data", 4);
		CHECK(nd_aead_seal(&tx, hdr, 8, buf, 4, tag) == 0);
		CHECK(memcmp(buf, epoch0, 4) != 0);	/* same seq, new key */
		CHECK(nd_aead_open(&rx, hdr, 8, buf, 4, tag) == 0);
		CHECK_MEM(buf, "data", 4);
	}
	nd_aead_free(&tx);
	nd_aead_free(&rx);
}

/* RFC 7748, section 6.1: both sides reach the same shared secret. */
static void test_x25519_rfc7748(void)
{
	unsigned char a[32], a_pub[32], b[32], b_pub[32], want[32], out[32];
	unsigned char priv[32], pub[32], zero[32] = { 0 };

	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", a_pub, 32);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", b_pub, 32);
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want, 32);
	CHECK(nd_x25519(a, b_pub, out) == 0);
	CHECK_MEM(out, want, 32);
	CHECK(nd_x25519(b, a_pub, out) == 0);
	CHECK_MEM(out, want, 32);
	/* a low-order share gives an all-zero secret, which is refused */
	CHECK(nd_x25519(a, zero, out) != 0);
	/* fresh key pairs agree with each other */
	CHECK(nd_x25519_keypair(priv, pub) == 0);
	CHECK(nd_x25519(priv, a_pub, out) == 0);
	CHECK(nd_x25519(a, pub, b) == 0);
	CHECK_MEM(out, b, 32);
}

int main(void)
{
	test_x25519_rfc7748();
	test_hkdf_rfc5869();
	test_gcm_vector();
	test_hmac_vector();
	test_record_roundtrip_and_tamper();
	test_epochs();
	return check_report("test_crypto");
}
