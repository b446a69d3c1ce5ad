/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * A protocol v1 session over a connected socket: the handshake of either
 * side, then sealed records in both directions (docs/protocol.md).
 */
#ifndef ND_SESSION_H
#define ND_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "nd_crypto.h"

struct nd_session {
	int fd;
	struct nd_aead_dir tx;
	struct nd_aead_dir rx;
	uint64_t rekey_records;	/* rotate the send key after this many */
	uint64_t rekey_bytes;
	bool peer_closed;	/* the last receive met a clean end of stream */
	char error[160];	/* why the last call failed, for the log */
};

/* Result of the server's handshake; the session is usable only for OK. */
enum nd_accept_result {
	ND_ACCEPT_OK,
	ND_ACCEPT_IO,		/* peer closed, timed out, or socket error */
	ND_ACCEPT_MALFORMED,	/* not a v1 ClientHello */
	ND_ACCEPT_VERSION,	/* unsupported version, told the client */
	ND_ACCEPT_UNKNOWN_ID,	/* no key for the identity */
	ND_ACCEPT_BAD_KEY,	/* ClientFinished did not verify */
};

/*
 * Looks up the PSK for an identity; returns false when there is none.
 * ctx is passed through.
 */
typedef bool (*nd_key_lookup_fn)(void *ctx, const char *identity,
				 uint8_t key[ND_KEY_SIZE]);

/* Names sent in the hello: see docs/protocol.md for the allowed bytes. */
bool nd_valid_identity(const char *s);
bool nd_valid_export_name(const char *s);

void nd_session_init(struct nd_session *s, int fd);
void nd_session_free(struct nd_session *s);

enum nd_accept_result nd_session_accept(struct nd_session *s,
					nd_key_lookup_fn lookup, void *ctx,
					char identity[ND_NAME_SIZE],
					char export_name[ND_NAME_SIZE]);
int nd_session_connect(struct nd_session *s, const char *identity,
		       const char *export_name, const uint8_t key[ND_KEY_SIZE]);

/*
 * Record buffers are laid out as the wire wants them:
 *   [struct nd_record_header][payload, len bytes][tag]
 * so a record is sealed and sent, or received and opened, in place.
 */
#define ND_RECORD_OVERHEAD (sizeof(struct nd_record_header) + ND_TAG_SIZE)

static inline uint8_t *nd_record_payload(uint8_t *buf)
{
	return buf + sizeof(struct nd_record_header);
}

/* Seals and writes one record; rotates the send key first when due. */
int nd_session_send(struct nd_session *s, uint8_t type, uint8_t *buf,
		    size_t len);
/*
 * Reads and opens one record into buf (capacity cap, including overhead);
 * handles KEY_UPDATE records itself. Returns the payload length, or -1 with
 * s->error set (0 bytes of a bad record are left in buf).
 */
long nd_session_recv(struct nd_session *s, uint8_t *type, uint8_t *buf,
		     size_t cap);

/* A user-facing description of an ND_OK / ND_ERR_* status. */
const char *nd_status_name(uint32_t status);

/* SO_RCVTIMEO or SO_SNDTIMEO in whole seconds; 0 waits forever. */
void nd_set_socket_timeout(int fd, int opt, unsigned int seconds);

/* Socket helpers that retry on EINTR and short transfers. */
int nd_read_full(int fd, void *buf, size_t len);
int nd_write_full(int fd, const void *buf, size_t len);

#endif
