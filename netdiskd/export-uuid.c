// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "export-uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "log.h"

/* The namespace of the name-based UUIDs netdiskd makes (version 5). */
static const uuid_t netdisk_uuid_ns = {
	0x9d, 0x27, 0x4f, 0x1f, 0xe3, 0x76, 0x4e, 0x86,
	0xbc, 0x8a, 0xa1, 0x1f, 0xd7, 0x4a, 0x76, 0x07,
};

/* /etc/machine-id, else the host name: what sets this server apart. */
static void machine_id(char out[128])
{
	int fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, 127) : -1;

	if (fd >= 0)
		close(fd);
	if (n >= 32) {
		out[32] = '\0';
		return;
	}
	if (gethostname(out, 127))
		strcpy(out, "localhost");
	out[127] = '\0';
}

/* For a file that cannot keep one: the version 5 UUID of this server and the path. */
static void derived_file_uuid(const char *path, uint8_t out[16])
{
	char name[128 + PATH_MAX + 2];
	char id[128];
	int n;

	machine_id(id);
	n = snprintf(name, sizeof(name), "%s%c%s", id, 0, path);
	uuid_generate_sha1(out, netdisk_uuid_ns, name,
			   n < (int)sizeof(name) ? (size_t)n : sizeof(name) - 1);
}

/* 1 with the UUID the file keeps, 0 if it keeps none, -1 on a bad one. */
static int kept_uuid(int fd, uint8_t out[16])
{
	char text[UUID_STR_LEN];
	ssize_t n = fgetxattr(fd, EXPORT_UUID_XATTR, text, sizeof(text) - 1);

	if (n < 0)
		return errno == ERANGE ? -1 : 0;
	text[n] = '\0';
	return n == UUID_STR_LEN - 1 && !uuid_parse(text, out) && !uuid_is_null(out) ? 1 : -1;
}

/* The UUID the export's file keeps, made (random) if it has none yet. */
static int file_uuid(const struct export_config *cfg, int fd, uint8_t out[16], char *err,
		     size_t err_len)
{
	char text[UUID_STR_LEN];
	struct stat st;
	int kept, error;

	/* a device node's extended attributes belong to /dev, not to the disk */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		derived_file_uuid(cfg->path, out);
		return 0;
	}
	kept = kept_uuid(fd, out);
	if (kept < 0) {
		snprintf(err, err_len, "export '%s': %s holds a %s that is not a UUID; "
			 "remove it (setfattr -x %s %s) or set uuid= in its section",
			 cfg->name, cfg->path, EXPORT_UUID_XATTR, EXPORT_UUID_XATTR, cfg->path);
		return -1;
	}
	if (kept)
		return 0;
	uuid_generate_random(out);
	uuid_unparse_lower(out, text);
	if (!fsetxattr(fd, EXPORT_UUID_XATTR, text, UUID_STR_LEN - 1, XATTR_CREATE))
		return 0;
	error = errno;
	/* another netdiskd, opening the same file, was first */
	if (error == EEXIST && kept_uuid(fd, out) == 1)
		return 0;
	derived_file_uuid(cfg->path, out);
	uuid_unparse_lower(out, text);
	log_info("export '%s': %s cannot keep %s (%s): its UUID follows from this server's "
		 "machine id and the path; set uuid= to keep it if the path changes",
		 cfg->name, cfg->path, EXPORT_UUID_XATTR, strerror(error));
	return 0;
}

int export_uuid(const struct export_config *cfg, int fd, uint8_t out[16], char *err,
		size_t err_len)
{
	uint8_t file[16];

	if (cfg->has_uuid) {
		memcpy(out, cfg->uuid, 16);
		return 0;
	}
	if (file_uuid(cfg, fd, file, err, err_len))
		return -1;
	/* two exports of one file are two disks */
	uuid_generate_sha1(out, file, cfg->name, strlen(cfg->name));
	return 0;
}

void export_uuid_of_identity(const uint8_t base[16], const char *identity, uint8_t out[16])
{
	uuid_generate_sha1(out, base, identity, strlen(identity));
}
