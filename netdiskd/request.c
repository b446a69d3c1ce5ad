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

static uint32_t execute_overlay(struct export *e, struct overlay *ov,
				const struct request *rq, uint8_t *read_buf)
{
	bool fua = rq->flags & ND_CMD_FLAG_FUA;
	const char *what;
	int ret;

	switch (rq->type) {
	case ND_CMD_READ:
		what = "overlay read";
		ret = overlay_read(ov, read_buf, rq->length, rq->offset);
		break;
	case ND_CMD_WRITE:
		what = "overlay write";
		ret = overlay_write(ov, rq->data, rq->length, rq->offset);
		break;
	default:	/* TRIM and WRITE_ZEROES: the base must not show through */
		what = "overlay zeroing";
		ret = overlay_write_zeroes(ov, rq->length, rq->offset);
		break;
	}
	if (!ret && fua)
		ret = overlay_flush(ov);
	return ret ? export_error_status(e, what, ret, rq->offset) : ND_OK;
}

uint32_t request_execute(struct export *e, struct overlay *ov, bool read_only,
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
	if (rq->type == ND_CMD_FLUSH) {
		if (rq->offset || rq->length)
			return ND_ERR_INVALID;
		if (ov) {
			int ret = overlay_flush(ov);

			return ret ? export_error_status(e, "overlay flush", ret, 0) : ND_OK;
		}
		return export_flush(e);
	}
	if (!rq->length || ((rq->type == ND_CMD_READ || rq->type == ND_CMD_WRITE) &&
			    rq->length > ND_MAX_IO))
		return ND_ERR_INVALID;
	if (rq->offset > e->size || rq->length > e->size - rq->offset)
		return ND_ERR_RANGE;
	if (rq->type != ND_CMD_READ && read_only)
		return ND_ERR_READ_ONLY;

	if (ov) {
		st = execute_overlay(e, ov, rq, read_buf);
		if (st == ND_OK && rq->type == ND_CMD_READ)
			*data_len = rq->length;
		return st;
	}
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
