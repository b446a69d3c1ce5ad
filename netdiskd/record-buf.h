/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * Buffers for one wire record each, kept between connections. A fresh
 * buffer costs a page fault per page on first use, which on a short copy
 * costs more than the copy itself; a kept one is already mapped.
 */
#ifndef NETDISKD_RECORD_BUF_H
#define NETDISKD_RECORD_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "nd_session.h"

#define RECORD_BUF_SIZE (ND_MAX_RECORD + ND_RECORD_OVERHEAD)

/*
 * NULL when out of memory. A kept buffer still holds the bytes of the
 * connection that used it last: send only bytes written for this request.
 */
uint8_t *record_buf_get(void);
/* Keeps buf for the next get, or frees it when enough are kept; NULL is ok. */
void record_buf_put(uint8_t *buf);
/* The memory the buffers take: those in use and those kept idle. */
size_t record_buf_mapped_bytes(void);

#endif
