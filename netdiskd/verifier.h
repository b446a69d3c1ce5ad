/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * The write verifier an export's INFO carries (docs/protocol.md, "Write
 * verifier"): it changes when the server may have lost writes it
 * acknowledged. netdiskd's own death loses none (the page cache outlives
 * it, and the overlay's journal is there too), so for exports on files it
 * changes with the export's file and with the epoch: the host's boot id,
 * unless netdiskd stopped cleanly, every export synced, in an earlier boot.
 *
 * The epoch is kept in STATE_DIRECTORY/verifier-epoch when netdiskd runs
 * with one (the unit's StateDirectory=): "EPOCH BOOT-ID CLEAN", where
 * BOOT-ID is the boot whose page cache may hold what was acknowledged
 * under EPOCH. A start keeps EPOCH if CLEAN is 1 (nothing was left
 * unsynced) or BOOT-ID is this boot (the page cache is still there), and
 * otherwise takes this boot's id; either way it writes CLEAN 0 and this
 * boot before it serves. A clean stop writes CLEAN 1 once every export
 * synced. Without a state directory the epoch is the boot id.
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
/*
 * This run's epoch, from state_dir (NULL: none) and this boot's id; the
 * state is durable before it returns 0. When the state cannot be written,
 * -errno with a message in err, and epoch is a fresh one, which no start
 * will keep. -EIO with nothing in err: no random bytes.
 */
int verifier_epoch_begin(const char *state_dir, const char *boot_id,
			 char epoch[VERIFIER_BOOT_ID_SIZE], char *err, size_t err_len);
/* After a clean stop, every export synced: the next start keeps epoch. */
int verifier_epoch_clean(const char *state_dir, const char *epoch, const char *boot_id,
			 char *err, size_t err_len);
/*
 * The verifier of the export named name, whose UUID is uuid, on the file
 * whose inode number (for a block device: device number) is ino; no
 * device number of a file system, which need not survive a reboot. 0 or
 * -EIO.
 */
int verifier_of(const char *epoch, const char *name, const uint8_t uuid[16], uint64_t ino,
		uint64_t *out);

#endif
