/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * A protocol v2 session over a connected socket: the handshake of either
 * side, then sealed records in both directions (docs/protocol.md).
 */
#ifndef ND_SESSION_H
#define ND_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>

#include "nd_crypto.h"

struct nd_session {
	int fd;
	struct nd_aead_dir tx;
	struct nd_aead_dir rx;
	uint64_t rekey_records;	/* rotate the send key after this many */
	uint64_t rekey_bytes;
	struct timespec deadline; /* CLOCK_MONOTONIC; zero: none */
	bool peer_closed;	/* the last receive met a clean end of stream */
	/*
	 * Why the last call failed, for the log. The handshake and receives
	 * write error, sends write send_error: a connection's receiver and its
	 * senders are different threads. Read send_error under the lock that
	 * serialises the sends.
	 */
	char error[512];		/* holds every message whole: names are at most 63 bytes */
	enum nd_connect_failure {
		ND_CONNECT_BROKEN,	/* the connection failed or timed out */
		ND_CONNECT_REFUSED,	/* key rejected, or not the server named */
		ND_CONNECT_PROTOCOL,	/* another version, not netdisk, bad names */
		ND_CONNECT_BUSY,	/* at a connection limit: retry_after_ms */
	} connect_failure;		/* why nd_session_connect failed */
	unsigned int retry_after_ms;	/* ND_CONNECT_BUSY: the server's hint */
	char send_error[512];
};

/* Result of the server's handshake; the session is usable only for OK. */
enum nd_accept_result {
	ND_ACCEPT_OK,
	ND_ACCEPT_IO,		/* peer closed, timed out, or socket error */
	ND_ACCEPT_TIMEOUT,	/* the handshake deadline passed */
	ND_ACCEPT_MALFORMED,	/* not a v2 ClientHello */
	ND_ACCEPT_VERSION,	/* unsupported version, told the client */
	ND_ACCEPT_WRONG_SERVER,	/* server name not ours, told the client */
	ND_ACCEPT_BUSY,		/* admit() refused, told the client; no key used */
	ND_ACCEPT_UNKNOWN_ID,	/* no key for the identity, told the client */
	ND_ACCEPT_BAD_KEY,	/* mac1 (told the client) or ClientFinished did not verify */
	ND_ACCEPT_REPLAY,	/* proven() refused a ClientHello it had seen */
};

/* Which key a server holds for an identity. */
enum nd_key_kind {
	ND_KEY_NONE,		/* none: the identity is unknown */
	ND_KEY_IDENTITY,	/* the identity's own key: it proves the identity */
	ND_KEY_DEFAULT,		/* the default key: it proves only that key */
};

/*
 * The keys a server holds for one identity, oldest first: two while the
 * identity rolls over to a new key (see netdiskd(8), "Key rotation").
 */
#define ND_KEYS_PER_IDENTITY 2
struct nd_psks {
	unsigned int count;	/* 1 or 2 */
	uint8_t key[ND_KEYS_PER_IDENTITY][ND_KEY_SIZE];
};

/* What a ClientHello asks for: its flags, and its names NUL terminated. */
struct nd_hello_names {
	uint16_t flags;			/* enum nd_hello_flags */
	char identity[ND_NAME_SIZE];
	char export_name[ND_NAME_SIZE];
	char server_name[ND_NAME_SIZE];
	uint16_t server_port;		/* the port the client dialed */
};

/* What the server side of the handshake asks of the server; ctx is passed. */
struct nd_accept_ops {
	/* fills psks unless the result is ND_KEY_NONE */
	enum nd_key_kind (*lookup)(void *ctx, const char *identity, struct nd_psks *psks);
	/* whether the server answers to this name and port on the connection fd */
	bool (*answers_to)(void *ctx, int fd, const char *server_name,
			   uint16_t server_port);
	/*
	 * Before any key is looked up: 0 admits the hello, else the
	 * retry_after (1 to ND_RETRY_AFTER_MAX_MS) of a BUSY answer.
	 */
	unsigned int (*admit)(void *ctx, const struct nd_hello_names *names);
	/*
	 * Once mac1 verified under a key of that kind, before any X25519: 0
	 * goes on, a positive value is the retry_after of a BUSY answer, -1
	 * closes without one (a replay). timestamp is the client's clock.
	 */
	int (*proven)(void *ctx, const struct nd_hello_names *names, enum nd_key_kind kind,
		      uint64_t timestamp, const uint8_t mac1[ND_MAC1_SIZE]);
	void *ctx;
};

/* docs/protocol.md, "Unauthenticated connections": ch's mac1 under psk. 0 or -1. */
int nd_hello_mac1(const struct nd_client_hello *ch, const uint8_t psk[ND_KEY_SIZE],
		  uint8_t out[ND_MAC1_SIZE]);

/* Names sent in the hello: see docs/protocol.md for the allowed bytes. */
bool nd_valid_identity(const char *s);
bool nd_valid_export_name(const char *s);
bool nd_valid_server_name(const char *s);

void nd_session_init(struct nd_session *s, int fd);
void nd_session_free(struct nd_session *s);
/* Bounds the handshake's reads and writes, together, to seconds from now. */
void nd_session_set_deadline(struct nd_session *s, unsigned int seconds);

/*
 * The server's handshake. names are filled in once the ClientHello parsed,
 * but they are only claims unless the result is OK; kind says what the key
 * proved, and key is the one, of those lookup gave, that the client holds.
 */
enum nd_accept_result nd_session_accept(struct nd_session *s,
					const struct nd_accept_ops *ops,
					struct nd_hello_names *names,
					enum nd_key_kind *kind, uint8_t key[ND_KEY_SIZE]);
int nd_session_connect(struct nd_session *s, const struct nd_hello_names *names,
		       const uint8_t key[ND_KEY_SIZE]);

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

/*
 * Seals and writes one record; rotates the send key first when due. The
 * first nd_record_clear_len(type) bytes of the payload go in the clear.
 * On failure s->send_error says why.
 */
int nd_session_send(struct nd_session *s, uint8_t type, uint8_t *buf,
		    size_t len);
/*
 * Reads and opens one record into buf (capacity cap, including overhead);
 * handles KEY_UPDATE records itself. Returns the payload length, or -1 with
 * s->error set (0 bytes of a bad record's ciphertext are left in buf).
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
