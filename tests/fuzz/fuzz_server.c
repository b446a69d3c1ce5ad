// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * libFuzzer target over everything netdiskd parses from the network. The
 * first input byte picks the layer:
 *   0: the handshake (ClientHello, ClientFinished) into nd_session_accept()
 *   1: record framing and authentication into nd_session_recv()
 *   2: decrypted request records into protocol_decode() and
 *      protocol_execute() against a memory-backed file backend
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "nd_session.h"
#include "protocol.h"

#define EXPORT_SIZE (1 << 20)

static enum nd_key_kind lookup(void *ctx, const char *identity, struct nd_psks *psks)
{
	(void)ctx;
	/* 'r': two keys, as during a rotation */
	psks->count = identity[0] == 'r' ? 2 : 1;
	memset(psks->key, 0x5a, sizeof(psks->key));
	return identity[0] == 'x' ? ND_KEY_NONE :
	       identity[0] == 'd' ? ND_KEY_DEFAULT : ND_KEY_IDENTITY;
}

static bool answers_to(void *ctx, int fd, const char *name, uint16_t port)
{
	(void)ctx;
	(void)fd;
	return name[0] != 'x' && port != 1;
}

static unsigned int admit(void *ctx, const struct nd_hello_names *names)
{
	(void)ctx;
	return names->identity[0] == 'b' ? 1000 : 0;
}

/* Hands data to a socket; returns the other end, or -1. */
static int feed(const uint8_t *data, size_t len)
{
	int sp[2], size = 1 << 22;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		return -1;
	setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sp[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (len > 65536 || write(sp[1], data, len) != (ssize_t)len) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	close(sp[1]);
	return sp[0];
}

static int proven(void *ctx, const struct nd_hello_names *names, enum nd_key_kind kind,
		  uint64_t timestamp, const uint8_t mac1[ND_MAC1_SIZE])
{
	(void)ctx;
	(void)names;
	(void)mac1;
	(void)kind;
	return timestamp & 2 ? -1 : timestamp & 1 ? 100 : 0;
}

static void fuzz_handshake(const uint8_t *data, size_t len)
{
	static const struct nd_accept_ops ops = { lookup, answers_to, admit, proven, NULL };
	struct nd_hello_names names;
	uint8_t key[ND_KEY_SIZE];
	enum nd_key_kind kind;
	static uint8_t copy[65536];
	struct nd_client_hello *ch = (struct nd_client_hello *)copy;
	struct nd_session s;
	int fd;

	/*
	 * A whole hello whose mac1 is all 0xff gets the right one, under the
	 * key lookup() gives, so that the fuzzer reaches what mac1 guards.
	 */
	if (len > sizeof(copy))
		return;
	memcpy(copy, data, len);
	if (len >= sizeof(*ch) && ch->mac1[0] == 0xff && ch->mac1[ND_MAC1_SIZE - 1] == 0xff) {
		memset(key, 0x5a, sizeof(key));
		nd_hello_mac1(ch, key, ch->mac1);
	}
	fd = feed(copy, len);
	if (fd < 0)
		return;
	nd_session_init(&s, fd);
	nd_session_accept(&s, &ops, &names, &kind, key);
	nd_session_free(&s);
	close(fd);
}

static void fuzz_records(const uint8_t *data, size_t len)
{
	static uint8_t buf[ND_MAX_RECORD + ND_RECORD_OVERHEAD];
	uint8_t secret[ND_HASH_SIZE], type;
	struct nd_session s;
	int fd = feed(data, len);

	if (fd < 0)
		return;
	memset(secret, 7, sizeof(secret));
	nd_session_init(&s, fd);
	if (!nd_aead_init(&s.rx, secret))
		while (nd_session_recv(&s, &type, buf, sizeof(buf)) >= 0)
			;
	nd_session_free(&s);
	close(fd);
}

static void fuzz_requests(const uint8_t *data, size_t len)
{
	static uint8_t read_buf[ND_MAX_IO];
	static struct file_backend f = { .fd = -1 };

	if (f.fd < 0) {
		char path[64], err[256];
		int fd = memfd_create("fuzz-export", 0);

		if (fd < 0 || ftruncate(fd, EXPORT_SIZE))
			return;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (file_backend_open(&f, path, false, err, sizeof(err)))
			return;
		close(fd);
	}
	/* records: type byte (top bit: read-only), 16-bit length, payload */
	while (len >= 3) {
		size_t n = (size_t)data[1] << 8 | data[2];
		struct request rq;
		uint32_t out_len;
		char why[128];

		if (n > len - 3)
			n = len - 3;
		if (!protocol_decode(data[0] & 0x7f, data + 3, n, &rq, why, sizeof(why)))
			protocol_execute(&f.b, "fuzz", data[0] & 0x80, &rq, read_buf, &out_len);
		data += 3 + n;
		len -= 3 + n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_handshake(data + 1, len - 1);
		break;
	case 1:
		fuzz_records(data + 1, len - 1);
		break;
	default:
		fuzz_requests(data + 1, len - 1);
		break;
	}
	return 0;
}
