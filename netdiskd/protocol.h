/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * The server's side of a request (docs/protocol.md, "Requests and replies"):
 * decode, validate, execute on a backend, map errno to a status once, and
 * encode the reply header.
 */
#ifndef NETDISKD_PROTOCOL_H
#define NETDISKD_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include <netdisk/wire.h>

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
 * by protocol_execute() with a status.
 */
int protocol_decode(uint8_t record_type, const uint8_t *payload, size_t len,
		    struct request *rq, char *why, size_t why_len);

/*
 * Runs rq on b. READ data goes to read_buf (room for rq->length bytes) and
 * its length to *data_len. A failure of the backend is logged, naming
 * export_name. Returns ND_OK or an ND_ERR_* status.
 */
uint32_t protocol_execute(struct backend *b, const char *export_name, bool read_only,
			  const struct request *rq, uint8_t *read_buf, uint32_t *data_len);

/* The reply header for rq, its status and its data length. */
void protocol_encode_reply(struct nd_reply *rp, const struct request *rq, uint32_t status,
			   uint32_t data_len);

#endif
