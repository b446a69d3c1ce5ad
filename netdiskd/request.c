// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "request.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>

int request_decode(uint8_t record_type, const uint8_t *payload, size_t len,
		   struct request *rq, char *why, size_t why_len)
{
	struct nd_request wire;
	size_t expect;

	if (record_type != ND_REC_REQUEST) {
		snprintf(why, why_len, "unexpected record type %u", record_type);
		return -1;
	}
	if (len < sizeof(wire)) {
		snprintf(why, why_len, "request record of %zu bytes is too short", len);
		return -1;
	}
	memcpy(&wire, payload, sizeof(wire));
	rq->type = ntohs(wire.type);
	rq->flags = ntohs(wire.flags);
	rq->length = ntohl(wire.length);
	rq->handle = be64toh(wire.handle);
	rq->offset = be64toh(wire.offset);
	rq->data = payload + sizeof(wire);
	expect = sizeof(wire) + (rq->type == ND_CMD_WRITE ? rq->length : 0);
	if (len != expect) {
		snprintf(why, why_len, "request record of %zu bytes, expected %zu",
			 len, expect);
		return -1;
	}
	return 0;
}

uint32_t request_execute(struct export *e, bool read_only,
			 const struct request *rq, uint8_t *read_buf,
			 uint32_t *data_len)
{
	bool fua = rq->flags & ND_CMD_FLAG_FUA;
	uint32_t st;

	*data_len = 0;
	if (rq->type > ND_CMD_WRITE_ZEROES)
		return ND_ERR_UNSUPPORTED;
	if (rq->flags & ~ND_CMD_FLAG_FUA ||
	    (fua && rq->type != ND_CMD_WRITE && rq->type != ND_CMD_WRITE_ZEROES))
		return ND_ERR_INVALID;
	if (rq->type == ND_CMD_FLUSH)
		return rq->offset || rq->length ? ND_ERR_INVALID : export_flush(e);
	if (!rq->length || ((rq->type == ND_CMD_READ || rq->type == ND_CMD_WRITE) &&
			    rq->length > ND_MAX_IO))
		return ND_ERR_INVALID;
	if (rq->offset > e->size || rq->length > e->size - rq->offset)
		return ND_ERR_RANGE;
	if (rq->type != ND_CMD_READ && read_only)
		return ND_ERR_READ_ONLY;

	switch (rq->type) {
	case ND_CMD_READ:
		st = export_read(e, read_buf, rq->length, rq->offset);
		if (st == ND_OK)
			*data_len = rq->length;
		return st;
	case ND_CMD_WRITE:
		return export_write(e, rq->data, rq->length, rq->offset, fua);
	case ND_CMD_TRIM:
		return export_trim(e, rq->offset, rq->length);
	default:
		return export_write_zeroes(e, rq->offset, rq->length, fua);
	}
}
