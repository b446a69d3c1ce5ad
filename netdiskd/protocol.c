// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "protocol.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

int protocol_decode(uint8_t record_type, const uint8_t *payload, size_t len,
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

/* Whether rq is well formed and allowed; ND_OK or the status that refuses it. */
static uint32_t validate(const struct backend *b, bool read_only, const struct request *rq)
{
	bool fua = rq->flags & ND_CMD_FLAG_FUA;

	if (rq->type > ND_CMD_WRITE_ZEROES)
		return ND_ERR_UNSUPPORTED;
	if (rq->flags & ~(ND_CMD_FLAG_FUA | ND_CMD_FLAG_NO_HOLE) ||
	    (fua && rq->type != ND_CMD_WRITE && rq->type != ND_CMD_WRITE_ZEROES) ||
	    (rq->flags & ND_CMD_FLAG_NO_HOLE && rq->type != ND_CMD_WRITE_ZEROES))
		return ND_ERR_INVALID;
	if (rq->type == ND_CMD_FLUSH)
		return rq->offset || rq->length ? ND_ERR_INVALID : ND_OK;
	if (!rq->length || ((rq->type == ND_CMD_READ || rq->type == ND_CMD_WRITE) &&
			    rq->length > ND_MAX_IO))
		return ND_ERR_INVALID;
	if (rq->offset > b->size || rq->length > b->size - rq->offset)
		return ND_ERR_RANGE;
	if (rq->type != ND_CMD_READ && read_only)
		return ND_ERR_READ_ONLY;
	return ND_OK;
}

static uint32_t errno_status(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return ND_ERR_NOSPC;
	case EROFS:
	case EPERM:
	case EACCES:
		return ND_ERR_READ_ONLY;
	default:
		return ND_ERR_IO;
	}
}

uint32_t protocol_execute(struct backend *b, const char *export_name, bool read_only,
			  const struct request *rq, uint8_t *read_buf, uint32_t *data_len)
{
	static const char *const what[] = {
		[ND_CMD_READ] = "read", [ND_CMD_WRITE] = "write", [ND_CMD_FLUSH] = "flush",
		[ND_CMD_TRIM] = "trim", [ND_CMD_WRITE_ZEROES] = "write zeroes",
	};
	bool fua = rq->flags & ND_CMD_FLAG_FUA;
	uint32_t st = validate(b, read_only, rq);
	int ret;

	*data_len = 0;
	if (st)
		return st;
	switch (rq->type) {
	case ND_CMD_READ:
		ret = b->ops->pread(b, read_buf, rq->length, rq->offset);
		break;
	case ND_CMD_WRITE:
		ret = b->ops->pwrite(b, rq->data, rq->length, rq->offset, fua);
		break;
	case ND_CMD_FLUSH:
		/* a reader has no writes to make stable, nor a right to sync files */
		ret = read_only ? 0 : b->ops->flush(b);
		break;
	case ND_CMD_TRIM:
		ret = b->ops->trim(b, rq->offset, rq->length);
		break;
	default:
		ret = b->ops->zero(b, rq->offset, rq->length, fua,
				   rq->flags & ND_CMD_FLAG_NO_HOLE);
		break;
	}
	if (ret) {
		log_err("export '%s': %s at offset %llu of %s failed: %s", export_name,
			what[rq->type], (unsigned long long)rq->offset, b->path, strerror(-ret));
		return errno_status(-ret);
	}
	if (rq->type == ND_CMD_READ)
		*data_len = rq->length;
	return ND_OK;
}

void protocol_encode_reply(struct nd_reply *rp, const struct request *rq, uint32_t status,
			   uint32_t data_len)
{
	rp->status = htonl(status);
	rp->length = htonl(data_len);
	rp->handle = htobe64(rq->handle);
}
