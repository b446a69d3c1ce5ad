// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "verifier.h"

#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nd_crypto.h"
#include <netdisk/wire.h>

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
	/* the label, the boot id and the name, each with its NUL; dev, ino */
	char in[sizeof(label) + VERIFIER_BOOT_ID_SIZE + ND_NAME_SIZE + 16];
	uint8_t md[ND_HASH_SIZE];
	size_t n = 0, bl = strlen(boot_id) + 1, nl = strlen(name) + 1;
	uint64_t be[2] = { htobe64((uint64_t)dev), htobe64((uint64_t)ino) };

	if (bl > VERIFIER_BOOT_ID_SIZE || nl > ND_NAME_SIZE)
		return -EIO;
	memcpy(in, label, sizeof(label));
	n += sizeof(label);
	memcpy(in + n, boot_id, bl);
	n += bl;
	memcpy(in + n, name, nl);
	n += nl;
	memcpy(in + n, be, sizeof(be));
	n += sizeof(be);
	if (nd_sha256(in, n, md))
		return -EIO;
	memcpy(out, md, sizeof(*out));
	*out = be64toh(*out);
	return 0;
}
