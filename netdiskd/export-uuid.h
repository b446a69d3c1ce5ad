/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * An export's UUID, the disk's stable name (docs/protocol.md, "Export
 * UUID"): uuid= from the configuration; else the version 5 UUID of the
 * export's name under its file's UUID. The file keeps that in the extended
 * attribute user.netdisk.uuid, random, made at its first open; a file that
 * cannot keep one (a block device, a file system without user xattrs) has
 * the version 5 UUID of this server's machine id and its path. A
 * copy-on-write export is a disk of its own per identity.
 */
#ifndef NETDISKD_EXPORT_UUID_H
#define NETDISKD_EXPORT_UUID_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define EXPORT_UUID_XATTR "user.netdisk.uuid"

/* The UUID of the export cfg names, open on fd. 0, or -1 with a message in err. */
int export_uuid(const struct export_config *cfg, int fd, uint8_t out[16], char *err,
		size_t err_len);
/* The UUID of identity's disk on a copy-on-write export whose UUID is base. */
void export_uuid_of_identity(const uint8_t base[16], const char *identity, uint8_t out[16]);

#endif
