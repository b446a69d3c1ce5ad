// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * Test client: sends requests the way a misbehaving or careful client would,
 * through the real client library, and prints one line per reply.
 *
 *   ndreq KEYFILE IDENTITY URI OP...
 *     read:OFF:LEN write:OFF:LEN fua:OFF:LEN (write with FUA) trim:OFF:LEN
 *     zero:OFF:LEN flush sleep:SECONDS
 *     raw:TYPE:FLAGS:OFF:LEN   any request header (no data)
 *     writes:COUNT             COUNT pipelined 1 MiB writes of a pattern,
 *                              printing "acked OFF" for each OK reply
 *     oversize                 a record header claiming 2 GiB
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nd_client.h"
#include "nd_keys.h"

static void fill_pattern(uint8_t *p, uint32_t len, uint64_t off)
{
	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t v = (off + i) * 0x9e3779b97f4a7c15ULL;

		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

static int one(struct nd_client *c, uint16_t type, uint16_t flags, uint64_t off,
	       uint32_t len)
{
	struct nd_client_reply r;
	uint8_t *data = NULL;

	if (type == ND_CMD_WRITE) {
		data = nd_client_write_data(c);
		fill_pattern(data, len, off);
	}
	if (nd_client_send(c, type, flags, 1, off, len, data) || nd_client_recv(c, &r))
		return -1;
	printf("%s\n", r.status ? nd_status_name(r.status) : "ok");
	fflush(stdout);
	return 0;
}

static int pipelined_writes(struct nd_client *c, unsigned int count)
{
	struct nd_client_reply r;
	unsigned int sent = 0, done = 0;

	while (done < count) {
		while (sent < count && sent - done < 8) {
			uint64_t off = (uint64_t)sent * ND_MAX_IO;
			uint8_t *data = nd_client_write_data(c);

			fill_pattern(data, ND_MAX_IO, off);
			if (nd_client_send(c, ND_CMD_WRITE, 0, off, off, ND_MAX_IO, data))
				return -1;
			sent++;
		}
		if (nd_client_recv(c, &r))
			return -1;
		if (!r.status)
			printf("acked %llu\n", (unsigned long long)r.handle);
		fflush(stdout);
		done++;
	}
	return 0;
}

static int oversize(struct nd_client *c)
{
	struct nd_record_header h = { .length = htonl(0x7fffffff),
				      .type = ND_REC_REQUEST };
	struct nd_client_reply r;

	if (nd_write_full(c->s.fd, &h, sizeof(h)))
		return -1;
	return nd_client_recv(c, &r);
}

int main(int argc, char **argv)
{
	struct nd_keyring kr;
	uint8_t key[ND_KEY_SIZE];
	struct nd_client c;
	struct nd_uri uri;
	char err[512] = "";

	if (argc < 5) {
		fprintf(stderr, "usage: ndreq KEYFILE IDENTITY URI OP...\n");
		return 2;
	}
	if (nd_keyring_load(&kr, argv[1], true, err, sizeof(err)) ||
	    nd_keyring_lookup(&kr, argv[2], key) == ND_KEY_NONE ||
	    nd_uri_parse(argv[3], &uri, err, sizeof(err))) {
		fprintf(stderr, "ndreq: setup: %s\n", err);
		return 2;
	}
	nd_keyring_free(&kr);
	if (nd_client_open(&c, &uri, argv[2], NULL, key, err, sizeof(err))) {
		fprintf(stderr, "ndreq: %s\n", err);
		return 1;
	}
	for (int i = 4; i < argc; i++) {
		unsigned long long off = 0, len = 0;
		unsigned int type, flags, count;
		int rc;

		if (sscanf(argv[i], "read:%llu:%llu", &off, &len) == 2)
			rc = one(&c, ND_CMD_READ, 0, off, (uint32_t)len);
		else if (sscanf(argv[i], "write:%llu:%llu", &off, &len) == 2)
			rc = one(&c, ND_CMD_WRITE, 0, off, (uint32_t)len);
		else if (sscanf(argv[i], "fua:%llu:%llu", &off, &len) == 2)
			rc = one(&c, ND_CMD_WRITE, ND_CMD_FLAG_FUA, off, (uint32_t)len);
		else if (sscanf(argv[i], "trim:%llu:%llu", &off, &len) == 2)
			rc = one(&c, ND_CMD_TRIM, 0, off, (uint32_t)len);
		else if (sscanf(argv[i], "zero:%llu:%llu", &off, &len) == 2)
			rc = one(&c, ND_CMD_WRITE_ZEROES, 0, off, (uint32_t)len);
		else if (!strcmp(argv[i], "flush"))
			rc = one(&c, ND_CMD_FLUSH, 0, 0, 0);
		else if (sscanf(argv[i], "raw:%u:%u:%llu:%llu", &type, &flags, &off, &len) == 4)
			rc = one(&c, (uint16_t)type, (uint16_t)flags, off, (uint32_t)len);
		else if (sscanf(argv[i], "writes:%u", &count) == 1)
			rc = pipelined_writes(&c, count);
		else if (!strcmp(argv[i], "oversize"))
			rc = oversize(&c);
		else if (sscanf(argv[i], "sleep:%u", &count) == 1)
			rc = sleep(count) ? -1 : 0;
		else {
			fprintf(stderr, "ndreq: unknown op '%s'\n", argv[i]);
			nd_client_close(&c);
			return 2;
		}
		if (rc) {
			fprintf(stderr, "ndreq: %s\n", c.s.error[0] ? c.s.error : c.s.send_error);
			nd_client_close(&c);
			return 1;
		}
	}
	nd_client_close(&c);
	return 0;
}
