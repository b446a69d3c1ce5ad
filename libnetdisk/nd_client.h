/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* Userspace protocol v2 client: one authenticated connection to an export. */
#ifndef ND_CLIENT_H
#define ND_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nd_session.h"

struct nd_uri {
	char identity[ND_NAME_SIZE];	/* IDENTITY@, or "" */
	char host[256];
	char port[8];
	char export_name[ND_NAME_SIZE];
};

struct nd_export_info {
	uint64_t size;
	uint32_t block_size;
	uint32_t max_io;
	uint32_t flags;		/* ND_INFO_* */
	uint64_t verifier;	/* changes when the server lost acknowledged writes */
	uint8_t uuid[16];	/* the disk's name (protocol.md, "Export UUID") */
};

struct nd_client {
	struct nd_session s;
	struct nd_export_info info;
	uint8_t *buf;		/* one record, ND_MAX_RECORD + overhead */
	/* after ND_CLIENT_SERVER_BUSY: the server's retry_after, 0 if none */
	unsigned int busy_retry_after_ms;
};

struct nd_client_reply {
	uint64_t handle;
	uint32_t status;
	uint32_t length;
	const uint8_t *data;	/* READ data, valid until the next receive */
};

/* "netdisk://[IDENTITY@]HOST[:PORT][/EXPORT]"; err says what is wrong. */
bool nd_is_uri(const char *s);
int nd_uri_parse(const char *s, struct nd_uri *uri, char *err, size_t err_len);

/*
 * The name a client sends for a server it reaches as host: an IP address in
 * canonical form, a host name as it is. -1 if it cannot be sent.
 */
int nd_server_name_of(const char *host, char out[ND_NAME_SIZE]);

/* Why nd_client_open or nd_client_list failed: what they return. */
enum nd_client_failure {
	ND_CLIENT_FAILED = -1,		/* anything below does not fit */
	ND_CLIENT_UNREACHABLE = -2,	/* cannot resolve or connect; connection broke */
	ND_CLIENT_AUTH = -3,		/* key rejected, or not the server named */
	ND_CLIENT_NO_EXPORT = -4,	/* no such export, or the identity may not use it */
	ND_CLIENT_IO = -5,		/* the server could not open the export */
	ND_CLIENT_BUSY = -6,		/* another process on the server holds it */
	ND_CLIENT_SERVER_BUSY = -7,	/* at a connection limit: try again later */
};

/*
 * Connects, authenticates and reads the export info. server_name is the
 * name the server must answer to, NULL for nd_server_name_of(uri->host). On
 * failure returns an enum nd_client_failure and writes a user-facing
 * reason into err.
 */
int nd_client_open(struct nd_client *c, const struct nd_uri *uri,
		   const char *identity, const char *server_name,
		   const uint8_t key[ND_KEY_SIZE], char *err, size_t err_len);
void nd_client_close(struct nd_client *c);

/*
 * nd_client_open, tried again while the server answers that it is at a
 * connection limit (docs/protocol.md, "Admission"): each wait is the
 * server's hint doubled for each refusal in a row, at most 10 s, plus a
 * random share of as much again. Gives up with ND_CLIENT_SERVER_BUSY once
 * wait_s seconds have passed (0: one try). busy(ctx, ms), if set, is told
 * of each wait.
 */
int nd_client_open_waiting(struct nd_client *c, const struct nd_uri *uri,
			   const char *identity, const char *server_name,
			   const uint8_t key[ND_KEY_SIZE], unsigned int wait_s,
			   void (*busy)(void *ctx, unsigned int ms), void *ctx,
			   char *err, size_t err_len);

struct nd_export_entry {
	char name[ND_NAME_SIZE];
	uint64_t size;
	uint32_t flags;		/* ND_INFO_*, as this identity would get them */
};

/*
 * The exports this identity may connect to (docs/protocol.md, "Export
 * list"); *out is malloc'ed, free it. An enum nd_client_failure with a
 * reason in err.
 */
int nd_client_list(const struct nd_uri *uri, const char *identity, const char *server_name,
		   const uint8_t key[ND_KEY_SIZE], struct nd_export_entry **out,
		   size_t *count, char *err, size_t err_len);
/* Fails sends and receives that make no progress for this long (0: never). */
void nd_client_set_timeout(struct nd_client *c, unsigned int seconds);

/* On failure, c->s.send_error says why. */
int nd_client_send(struct nd_client *c, uint16_t type, uint16_t flags,
		   uint64_t handle, uint64_t offset, uint32_t length,
		   const void *data);
/* Where WRITE data may be placed to be sent without a copy. */
uint8_t *nd_client_write_data(struct nd_client *c);
int nd_client_recv(struct nd_client *c, struct nd_client_reply *r);

/* The default client identity: the short host name. */
int nd_default_identity(char out[ND_NAME_SIZE]);

#endif
