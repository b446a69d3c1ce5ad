// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "verifier.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/*
 * The kernel writes the boot id as a UUID with dashes, systemd's %b as 32
 * hex digits: one boot must give one verifier either way.
 */
static void canonical_id(char *id)
{
	char hex[33];
	size_t n = 0;

	for (const char *p = id; *p; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 32)
			return;		/* not a UUID: kept as given */
		hex[n++] = (char)tolower((unsigned char)*p);
	}
	if (n != 32)
		return;
	hex[n] = '\0';
	strcpy(id, hex);
}

int verifier_boot_id(const char *boot_id_arg, char out[VERIFIER_BOOT_ID_SIZE],
		     char *err, size_t err_len)
{
	FILE *f;
	size_t n;

	if (boot_id_arg) {
		snprintf(out, VERIFIER_BOOT_ID_SIZE, "%s", boot_id_arg);
		canonical_id(out);
		return 0;
	}
	f = fopen(BOOT_ID_PATH, "re");
	if (!f) {
		int ret = -errno;

		snprintf(err, err_len, "%s: %s (give --boot-id; netdiskd.service passes %%b)",
			 BOOT_ID_PATH, strerror(errno));
		return ret;
	}
	n = fread(out, 1, VERIFIER_BOOT_ID_SIZE - 1, f);
	fclose(f);
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	if (!n) {
		snprintf(err, err_len, "%s is empty", BOOT_ID_PATH);
		return -EIO;
	}
	canonical_id(out);
	return 0;
}

int verifier_of(const char *boot_id, const char *name, dev_t dev, ino_t ino, uint64_t *out)
{
	static const char label[] = "netdisk4 verifier";
	uint8_t be[16], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -EIO;

	for (int i = 0; i < 8; i++) {
		be[i] = (uint8_t)((uint64_t)dev >> (56 - 8 * i));
		be[8 + i] = (uint8_t)((uint64_t)ino >> (56 - 8 * i));
	}
	/* neither names nor the boot id hold a NUL: each one's NUL ends it */
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, label, sizeof(label)) &&
	    EVP_DigestUpdate(ctx, boot_id, strlen(boot_id) + 1) &&
	    EVP_DigestUpdate(ctx, name, strlen(name) + 1) &&
	    EVP_DigestUpdate(ctx, be, sizeof(be)) &&
	    EVP_DigestFinal_ex(ctx, md, &md_len) && md_len >= 8) {
		*out = 0;
		for (int i = 0; i < 8; i++)
			*out = *out << 8 | md[i];
		ret = 0;
	}
	EVP_MD_CTX_free(ctx);
	return ret;
}
