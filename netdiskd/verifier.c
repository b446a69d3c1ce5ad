// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "verifier.h"

#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nd_crypto.h"
#include "nd_fileio.h"
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

#define EPOCH_FILE "verifier-epoch"

/* Creates path with text, synced; 0 or -errno. */
static int write_synced(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int ret;

	if (fd < 0)
		return -errno;
	ret = nd_pwrite_full(fd, text, len, 0);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* Writes the state durably: a new file renamed over the old, then the directory synced. */
static int write_epoch(const char *dir, const char *epoch, const char *boot_id, bool clean,
		       char *err, size_t err_len)
{
	char path[PATH_MAX], tmp[PATH_MAX], text[2 * VERIFIER_BOOT_ID_SIZE + 8];
	int n = snprintf(text, sizeof(text), "%s %s %d\n", epoch, boot_id, clean);
	int ret;

	if (snprintf(path, sizeof(path), "%s/" EPOCH_FILE, dir) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/." EPOCH_FILE ".new", dir) >= (int)sizeof(tmp)) {
		snprintf(err, err_len, "state directory %s: name too long", dir);
		return -ENAMETOOLONG;
	}
	ret = write_synced(tmp, text, (size_t)n);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (!ret)
		ret = nd_sync_dir(dir);
	if (ret) {
		snprintf(err, err_len, "cannot keep the write verifier's epoch in %s: %s",
			 path, strerror(-ret));
		unlink(tmp);
	}
	return ret;
}

int verifier_epoch_begin(const char *state_dir, const char *boot_id,
			 char epoch[VERIFIER_BOOT_ID_SIZE], char *err, size_t err_len)
{
	char path[PATH_MAX], stored[VERIFIER_BOOT_ID_SIZE], boot[VERIFIER_BOOT_ID_SIZE];
	int clean = 0;
	FILE *f;

	uint8_t fresh[16];
	int ret;

	snprintf(epoch, VERIFIER_BOOT_ID_SIZE, "%s", boot_id);
	if (!state_dir)
		return 0;
	/*
	 * A fresh epoch is random: no other run, such as one without a state
	 * directory (whose epoch is the boot id), can have had it.
	 */
	if (nd_random(fresh, sizeof(fresh)))
		return -EIO;
	for (size_t i = 0; i < sizeof(fresh); i++)
		snprintf(epoch + 2 * i, 3, "%02x", fresh[i]);
	snprintf(path, sizeof(path), "%s/" EPOCH_FILE, state_dir);
	f = fopen(path, "re");
	/* VERIFIER_BOOT_ID_SIZE is 64: 63 characters a field */
	if (f && fscanf(f, "%63s %63s %d", stored, boot, &clean) == 3 &&
	    (clean == 1 || !strcmp(boot, boot_id)))
		snprintf(epoch, VERIFIER_BOOT_ID_SIZE, "%s", stored);
	if (f)
		fclose(f);
	ret = write_epoch(state_dir, epoch, boot_id, false, err, err_len);
	/* a kept epoch that the file does not say is in use must not be kept */
	for (size_t i = 0; ret && i < sizeof(fresh); i++)
		snprintf(epoch + 2 * i, 3, "%02x", fresh[i]);
	nd_wipe(fresh, sizeof(fresh));
	return ret;
}

int verifier_epoch_clean(const char *state_dir, const char *epoch, const char *boot_id,
			 char *err, size_t err_len)
{
	return state_dir ? write_epoch(state_dir, epoch, boot_id, true, err, err_len) : 0;
}

int verifier_of(const char *epoch, const char *name, const uint8_t uuid[16], uint64_t ino,
		uint64_t *out)
{
	static const char label[] = "netdisk4 verifier";
	/* the label, the epoch and the name, each with its NUL; the UUID, ino */
	char in[sizeof(label) + VERIFIER_BOOT_ID_SIZE + ND_NAME_SIZE + 16 + 8];
	uint8_t md[ND_HASH_SIZE];
	size_t n = 0, bl = strlen(epoch) + 1, nl = strlen(name) + 1;
	uint64_t be = htobe64(ino);

	if (bl > VERIFIER_BOOT_ID_SIZE || nl > ND_NAME_SIZE)
		return -EIO;
	memcpy(in, label, sizeof(label));
	n += sizeof(label);
	memcpy(in + n, epoch, bl);
	n += bl;
	memcpy(in + n, name, nl);
	n += nl;
	memcpy(in + n, uuid, 16);
	n += 16;
	memcpy(in + n, &be, sizeof(be));
	n += sizeof(be);
	if (nd_sha256(in, n, md))
		return -EIO;
	memcpy(out, md, sizeof(*out));
	*out = be64toh(*out);
	return 0;
}
