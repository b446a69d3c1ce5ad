/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * The write verifier an export's INFO carries (docs/protocol.md, "Write
 * verifier"): it changes when the server may have lost writes it
 * acknowledged. netdiskd's own death loses none (the page cache outlives
 * it, and the overlay's journal is there too), so for exports on files it
 * changes with the host's boot, and with the export's file.
 */
#ifndef NETDISKD_VERIFIER_H
#define NETDISKD_VERIFIER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VERIFIER_BOOT_ID_SIZE 64

/*
 * The host's boot id: boot_id_arg when set (--boot-id: netdiskd.service
 * passes systemd's %b, since its sandbox hides /proc/sys; tests pass
 * another to stand in for a reboot), else the kernel's. 0, or -errno with
 * a message in err.
 */
int verifier_boot_id(const char *boot_id_arg, char out[VERIFIER_BOOT_ID_SIZE],
		     char *err, size_t err_len);
/* The verifier of the export named name, on the file at (dev, ino). 0 or -EIO. */
int verifier_of(const char *boot_id, const char *name, dev_t dev, ino_t ino, uint64_t *out);

#endif
