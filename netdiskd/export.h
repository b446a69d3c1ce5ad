/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* An open export: the backing file or block device and its I/O operations. */
#ifndef NETDISKD_EXPORT_H
#define NETDISKD_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct export {
	const struct export_config *cfg;
	int fd;
	uint64_t size;
	uint32_t block_size;
	bool is_block_device;
	bool read_only;
};

int export_open(struct export *e, const struct export_config *cfg, char *err,
		size_t err_len);
void export_close(struct export *e);

/* Each returns an ND_OK or ND_ERR_* status. Ranges are checked by the caller. */
uint32_t export_read(struct export *e, void *buf, uint32_t len, uint64_t off);
uint32_t export_write(struct export *e, const void *buf, uint32_t len,
		      uint64_t off, bool fua);
uint32_t export_flush(struct export *e);
uint32_t export_trim(struct export *e, uint64_t off, uint64_t len);
uint32_t export_write_zeroes(struct export *e, uint64_t off, uint64_t len,
			     bool fua);

#endif
