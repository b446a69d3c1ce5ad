/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* Decoding and executing the requests of protocol v2 against an export. */
#ifndef NETDISKD_REQUEST_H
#define NETDISKD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

struct request {
	uint16_t type;
	uint16_t flags;
	uint32_t length;
	uint64_t handle;
	uint64_t offset;
	const uint8_t *data;	/* WRITE payload, inside the record buffer */
};

/*
 * Decodes an opened record. Returns -1 with a reason in why when the record
 * is not a well-formed request: a protocol violation that ends the
 * connection. Requests that are merely invalid decode fine and are refused
 * by request_execute() with a status.
 */
int request_decode(uint8_t record_type, const uint8_t *payload, size_t len,
		   struct request *rq, char *why, size_t why_len);

/*
 * Runs rq, against ov instead of the export's file when ov is set. READ data goes to read_buf (room for rq->length bytes) and its
 * length to *data_len. Returns ND_OK or an ND_ERR_* status.
 */
uint32_t request_execute(struct export *e, struct overlay *ov, bool read_only,
			 const struct request *rq, uint8_t *read_buf,
			 uint32_t *data_len);

#endif
