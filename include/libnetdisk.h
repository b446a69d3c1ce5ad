/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * libnetdisk: a client of netdisk exports, for programs (libnetdisk(3)).
 *
 * A handle is one authenticated, encrypted connection to one export. Make
 * it with netdisk_create(), give it a key, connect it to a URI, then read
 * and write it; netdisk_close() ends the connection and frees the handle.
 *
 * Calls on one handle may come from several threads: the handle runs one
 * call at a time and the others wait. For requests that run side by side,
 * open several handles to the same export (the export allows that, and a
 * FLUSH on one of them covers the writes acknowledged on all of them).
 *
 * Every call that can fail returns -1 (or NULL) and sets an error that
 * netdisk_get_error() and netdisk_get_errno() read, in the calling thread,
 * until its next failed call. The symbols are versioned NETDISK_0; what is
 * here stays for as long as the soname is libnetdisk.so.0.
 */
#ifndef LIBNETDISK_H
#define LIBNETDISK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct netdisk;

/* flags of netdisk_pwrite, netdisk_trim, netdisk_zero */
#define NETDISK_CMD_FLAG_FUA	(1U << 0)	/* stable before the call returns */
#define NETDISK_CMD_FLAG_NO_HOLE (1U << 1)	/* netdisk_zero: keep the range allocated */

/* flags of an export in netdisk_list_exports */
#define NETDISK_EXPORT_READ_ONLY (1U << 0)

#define NETDISK_KEY_SIZE 32

const char *netdisk_get_version(void);

/* The last error in this thread: a message for people, and an errno. */
const char *netdisk_get_error(void);
int netdisk_get_errno(void);

struct netdisk *netdisk_create(void);
/* Ends the connection, if any, and frees the handle; NULL is allowed. */
void netdisk_close(struct netdisk *nd);

/*
 * Before connecting. The identity defaults to the short host name; an
 * identity in the URI (netdisk://IDENTITY@HOST/...) overrides it. The key is
 * a 256-bit key, or a key file as netdiskctl(1) reads it (a bare key, or
 * "identity hexkey" lines; refused if others may read it), looked up for
 * the identity at connect time. The server name is the name the server
 * must answer to (default: the URI's host). A timeout fails a request that
 * makes no progress for that many seconds (0, the default: never).
 */
int netdisk_set_identity(struct netdisk *nd, const char *identity);
int netdisk_set_key(struct netdisk *nd, const unsigned char key[NETDISK_KEY_SIZE]);
int netdisk_set_key_file(struct netdisk *nd, const char *path);
int netdisk_set_server_name(struct netdisk *nd, const char *server_name);
int netdisk_set_timeout(struct netdisk *nd, unsigned int seconds);

/*
 * Before connecting: cb(opaque, host, wait_ms) is called, on the
 * connecting thread, before each wait for a server that answered that it
 * is at its connection limit (see netdisk_connect_uri). NULL: none. It must
 * not call back into the same handle.
 */
typedef void (*netdisk_busy_cb)(void *opaque, const char *host, unsigned int wait_ms);
int netdisk_set_busy_callback(struct netdisk *nd, netdisk_busy_cb cb, void *opaque);

/*
 * Connects to netdisk://[IDENTITY@]HOST[:PORT][/EXPORT] (no export: the
 * server's default one), authenticates and
 * reads the export's properties. errno: EINVAL (a bad URI, no key),
 * ECONNREFUSED (cannot resolve, connect, or the connection broke), EACCES
 * (the key was rejected, or the server is not the one named), ENOENT (no
 * such export, or the identity may not use it), EBUSY (the export is in use
 * on the server), EAGAIN (the server stayed at its connection limit: it is
 * asked again, with back-off, for 60 seconds first), EIO.
 */
int netdisk_connect_uri(struct netdisk *nd, const char *uri);

/* The export's properties, once connected: -1 before. */
int64_t netdisk_get_size(struct netdisk *nd);
int64_t netdisk_get_block_size(struct netdisk *nd);
int64_t netdisk_get_max_request(struct netdisk *nd);
/* Changes when the server lost writes it had acknowledged (protocol.md). */
int netdisk_get_verifier(struct netdisk *nd, uint64_t *verifier);
/* The disk's UUID, RFC 9562 binary: its stable name (protocol.md). */
int netdisk_get_uuid(struct netdisk *nd, uint8_t uuid[16]);
/* 1 or 0; -1 if not connected. */
int netdisk_is_read_only(struct netdisk *nd);
int netdisk_can_flush(struct netdisk *nd);
int netdisk_can_fua(struct netdisk *nd);
int netdisk_can_trim(struct netdisk *nd);
int netdisk_can_zero(struct netdisk *nd);

/*
 * Requests of any size inside the export: larger ones go as several
 * requests, several in flight at once. 0 once every byte is done; -1 with
 * errno EROFS, EINVAL (out of range, bad flags), ENOSPC, ENOTSUP, EIO, or
 * ECONNRESET when the connection is gone (the handle is then dead: close it
 * and connect a new one). After a failed write the range holds old data,
 * new data, or a mix.
 */
int netdisk_pread(struct netdisk *nd, void *buf, size_t count, uint64_t offset,
		  uint32_t flags);
int netdisk_pwrite(struct netdisk *nd, const void *buf, size_t count, uint64_t offset,
		   uint32_t flags);
int netdisk_flush(struct netdisk *nd, uint32_t flags);
/* The range may read back as anything afterwards (in practice, zeroes). */
int netdisk_trim(struct netdisk *nd, uint64_t count, uint64_t offset, uint32_t flags);
/* The range reads back as zeroes. */
int netdisk_zero(struct netdisk *nd, uint64_t count, uint64_t offset, uint32_t flags);

/*
 * The exports the handle's identity may use on the server a URI without an
 * export names; the handle is not connected. Calls cb once per export, in
 * the server's order, and stops when cb returns nonzero. The number of
 * exports cb saw, or -1 (errno as for netdisk_connect_uri).
 */
typedef int (*netdisk_list_cb)(void *opaque, const char *name, uint64_t size,
			       uint32_t flags);
int netdisk_list_exports(struct netdisk *nd, const char *uri, netdisk_list_cb cb,
			 void *opaque);

#ifdef __cplusplus
}
#endif

#endif
