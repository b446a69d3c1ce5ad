// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * libnetdisk's public API (include/libnetdisk.h) on top of nd_client: a
 * handle's lifecycle, its lock, and requests split and pipelined.
 *
 * A handle's states, each edge taken under nd->lock:
 *   CREATED --connect ok--> CONNECTED --connection broke--> DEAD
 *   CREATED --connect failed--> CREATED (it may try again)
 * Only netdisk_close leaves DEAD.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libnetdisk.h"
#include "nd_client.h"
#include "nd_keys.h"

#define WINDOW 8			/* requests in flight per call */
#define MAX_RANGE_REQUEST (1U << 30)	/* largest TRIM or WRITE_ZEROES sent */

enum handle_state { CREATED, CONNECTED, DEAD };

struct netdisk {
	pthread_mutex_t lock;	/* one call at a time; guards all below */
	enum handle_state state;
	char identity[ND_NAME_SIZE];	/* "": the URI's, else the host name */
	char server_name[ND_NAME_SIZE];	/* "": the URI's host */
	bool has_key;
	uint8_t key[ND_KEY_SIZE];
	char *key_file;		/* looked up at connect, unless has_key */
	unsigned int timeout;
	netdisk_busy_cb busy_cb;	/* told of each wait for a busy server */
	void *busy_opaque;
	uint64_t next_handle;
	struct nd_client c;	/* CONNECTED, DEAD: open */
};

static _Thread_local char last_error[1024];
static _Thread_local int last_errno;

static int fail(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	last_errno = errnum;
	errno = errnum;
	return -1;
}

const char *netdisk_get_version(void)
{
	return NETDISK_VERSION;
}

const char *netdisk_get_error(void)
{
	return last_error[0] ? last_error : NULL;
}

int netdisk_get_errno(void)
{
	return last_errno;
}

struct netdisk *netdisk_create(void)
{
	struct netdisk *nd = calloc(1, sizeof(*nd));

	if (!nd) {
		fail(ENOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&nd->lock, NULL);
	nd->c.s.fd = -1;
	nd->next_handle = 1;
	return nd;
}

void netdisk_close(struct netdisk *nd)
{
	if (!nd)
		return;
	if (nd->state != CREATED)
		nd_client_close(&nd->c);
	nd_wipe(nd->key, sizeof(nd->key));
	free(nd->key_file);
	pthread_mutex_destroy(&nd->lock);
	free(nd);
}

/* Takes the lock if the handle is in state want; otherwise fails. */
static int lock_in(struct netdisk *nd, enum handle_state want)
{
	enum handle_state state;

	if (!nd)
		return fail(EFAULT, "no handle");
	pthread_mutex_lock(&nd->lock);
	state = nd->state;
	if (state == want)
		return 0;
	pthread_mutex_unlock(&nd->lock);
	if (state == DEAD)
		return fail(ECONNRESET, "the connection is gone; connect a new handle");
	if (want == CREATED)
		return fail(EISCONN, "the handle is already connected");
	return fail(ENOTCONN, "the handle is not connected");
}

static int set_name(struct netdisk *nd, char *dst, const char *name,
		    bool (*valid)(const char *), const char *what)
{
	if (!name || strlen(name) >= ND_NAME_SIZE || !valid(name))
		return fail(EINVAL, "'%s' is not a valid %s", name ? name : "(null)", what);
	if (lock_in(nd, CREATED))
		return -1;
	strcpy(dst, name);
	pthread_mutex_unlock(&nd->lock);
	return 0;
}

int netdisk_set_identity(struct netdisk *nd, const char *identity)
{
	return set_name(nd, nd ? nd->identity : NULL, identity, nd_valid_identity, "identity");
}

int netdisk_set_server_name(struct netdisk *nd, const char *server_name)
{
	return set_name(nd, nd ? nd->server_name : NULL, server_name, nd_valid_server_name,
			"server name");
}

int netdisk_set_key(struct netdisk *nd, const unsigned char key[NETDISK_KEY_SIZE])
{
	if (!key)
		return fail(EINVAL, "no key");
	if (lock_in(nd, CREATED))
		return -1;
	memcpy(nd->key, key, ND_KEY_SIZE);
	nd->has_key = true;
	free(nd->key_file);
	nd->key_file = NULL;
	pthread_mutex_unlock(&nd->lock);
	return 0;
}

int netdisk_set_key_file(struct netdisk *nd, const char *path)
{
	char *copy = path ? strdup(path) : NULL;

	if (!copy)
		return fail(path ? ENOMEM : EINVAL, path ? "out of memory" : "no key file");
	if (lock_in(nd, CREATED)) {
		free(copy);
		return -1;
	}
	free(nd->key_file);
	nd->key_file = copy;
	nd->has_key = false;
	nd_wipe(nd->key, sizeof(nd->key));
	pthread_mutex_unlock(&nd->lock);
	return 0;
}

int netdisk_set_timeout(struct netdisk *nd, unsigned int seconds)
{
	if (lock_in(nd, CREATED))
		return -1;
	nd->timeout = seconds;
	pthread_mutex_unlock(&nd->lock);
	return 0;
}

int netdisk_set_busy_callback(struct netdisk *nd, netdisk_busy_cb cb, void *opaque)
{
	if (lock_in(nd, CREATED))
		return -1;
	nd->busy_cb = cb;
	nd->busy_opaque = opaque;
	pthread_mutex_unlock(&nd->lock);
	return 0;
}

#define CONNECT_BUSY_WAIT_S 60	/* a server at its connection limit, this long */

struct busy_relay {
	const struct netdisk *nd;
	const char *host;
};

/* From nd_client_open_waiting, under the handle's lock, to the caller's callback. */
static void relay_busy(void *ctx, unsigned int wait_ms)
{
	const struct busy_relay *r = ctx;

	if (r->nd->busy_cb)
		r->nd->busy_cb(r->nd->busy_opaque, r->host, wait_ms);
}

static int errno_of_failure(int failure)
{
	switch (failure) {
	case ND_CLIENT_UNREACHABLE:
		return ECONNREFUSED;
	case ND_CLIENT_AUTH:
		return EACCES;
	case ND_CLIENT_NO_EXPORT:
		return ENOENT;
	case ND_CLIENT_BUSY:
		return EBUSY;
	case ND_CLIENT_SERVER_BUSY:
		return EAGAIN;
	default:
		return EIO;
	}
}

/*
 * Under the lock, in CREATED: the URI parsed, the identity it implies, and
 * the key for that identity. The caller wipes key.
 */
static int prepare(struct netdisk *nd, const char *uri_text, struct nd_uri *uri,
		   char identity[ND_NAME_SIZE], uint8_t key[ND_KEY_SIZE])
{
	struct nd_keyring kr;
	char err[512];

	if (!uri_text)
		return fail(EINVAL, "no URI");
	if (nd_uri_parse(uri_text, uri, err, sizeof(err)))
		return fail(EINVAL, "%s", err);
	if (uri->identity[0] && nd->identity[0] && strcmp(uri->identity, nd->identity))
		return fail(EINVAL, "%s names identity '%s', but the handle's is '%s'",
			    uri_text, uri->identity, nd->identity);
	if (uri->identity[0])
		strcpy(identity, uri->identity);
	else if (nd->identity[0])
		strcpy(identity, nd->identity);
	else if (nd_default_identity(identity))
		return fail(EINVAL, "the host name is not a valid identity; set one");
	if (nd->has_key) {
		memcpy(key, nd->key, ND_KEY_SIZE);
		return 0;
	}
	if (!nd->key_file)
		return fail(EINVAL, "no key: call netdisk_set_key or netdisk_set_key_file");
	if (nd_keyring_load(&kr, nd->key_file, false, err, sizeof(err)))
		return fail(EINVAL, "%s", err);
	if (nd_keyring_lookup(&kr, identity, key) == ND_KEY_NONE) {
		nd_keyring_free(&kr);
		return fail(EINVAL, "%s has no key for identity '%s'", nd->key_file, identity);
	}
	nd_keyring_free(&kr);
	return 0;
}

int netdisk_connect_uri(struct netdisk *nd, const char *uri_text)
{
	char identity[ND_NAME_SIZE], err[512];
	uint8_t key[ND_KEY_SIZE];
	struct nd_uri uri;
	int ret;

	if (lock_in(nd, CREATED))
		return -1;
	ret = prepare(nd, uri_text, &uri, identity, key);
	if (!ret) {
		struct busy_relay relay = { nd, uri.host };

		ret = nd_client_open_waiting(&nd->c, &uri, identity,
					     nd->server_name[0] ? nd->server_name : NULL, key,
					     CONNECT_BUSY_WAIT_S, relay_busy, &relay,
					     err, sizeof(err));
		if (ret)
			ret = fail(errno_of_failure(ret), "%s", err);
	}
	nd_wipe(key, sizeof(key));
	if (!ret) {
		nd_client_set_timeout(&nd->c, nd->timeout);
		nd->state = CONNECTED;
	}
	pthread_mutex_unlock(&nd->lock);
	return ret;
}

int netdisk_list_exports(struct netdisk *nd, const char *uri_text, netdisk_list_cb cb,
			 void *opaque)
{
	char identity[ND_NAME_SIZE], err[512];
	struct nd_export_entry *list = NULL;
	uint8_t key[ND_KEY_SIZE];
	struct nd_uri uri;
	size_t n = 0, i = 0;
	int ret;

	if (!cb)
		return fail(EINVAL, "no callback");
	if (lock_in(nd, CREATED))
		return -1;
	ret = prepare(nd, uri_text, &uri, identity, key);
	if (!ret && uri.export_name[0])
		ret = fail(EINVAL, "%s names an export; a list needs the server alone",
			   uri_text);
	if (!ret) {
		ret = nd_client_list(&uri, identity, nd->server_name[0] ? nd->server_name : NULL,
				     key, &list, &n, err, sizeof(err));
		if (ret)
			ret = fail(errno_of_failure(ret), "%s", err);
	}
	nd_wipe(key, sizeof(key));
	pthread_mutex_unlock(&nd->lock);
	if (ret)
		return -1;
	/* outside the lock: the callback may use the handle */
	while (i < n) {
		uint32_t flags = list[i].flags & ND_INFO_READ_ONLY ? NETDISK_EXPORT_READ_ONLY : 0;

		if (cb(opaque, list[i].name, list[i].size, flags)) {
			i++;
			break;
		}
		i++;
	}
	free(list);
	return (int)i;
}

/* A getter's value, or -1 with an error when not connected. */
static int64_t get(struct netdisk *nd, int64_t (*value)(const struct nd_export_info *))
{
	int64_t v;

	if (!nd)
		return fail(EFAULT, "no handle");
	pthread_mutex_lock(&nd->lock);
	if (nd->state == CREATED) {
		pthread_mutex_unlock(&nd->lock);
		return fail(ENOTCONN, "the handle is not connected");
	}
	v = value(&nd->c.info);
	pthread_mutex_unlock(&nd->lock);
	return v;
}

static int64_t size_of(const struct nd_export_info *i) { return (int64_t)i->size; }
static int64_t block_size_of(const struct nd_export_info *i) { return i->block_size; }
static int64_t max_io_of(const struct nd_export_info *i) { return i->max_io; }
static int64_t read_only_of(const struct nd_export_info *i) { return !!(i->flags & ND_INFO_READ_ONLY); }
static int64_t flush_of(const struct nd_export_info *i) { return !!(i->flags & ND_INFO_FLUSH); }
static int64_t fua_of(const struct nd_export_info *i) { return !!(i->flags & ND_INFO_FUA); }
static int64_t trim_of(const struct nd_export_info *i) { return !!(i->flags & ND_INFO_TRIM); }
static int64_t zero_of(const struct nd_export_info *i) { return !!(i->flags & ND_INFO_WRITE_ZEROES); }

int64_t netdisk_get_size(struct netdisk *nd) { return get(nd, size_of); }
int64_t netdisk_get_block_size(struct netdisk *nd) { return get(nd, block_size_of); }
int64_t netdisk_get_max_request(struct netdisk *nd) { return get(nd, max_io_of); }
int netdisk_is_read_only(struct netdisk *nd) { return (int)get(nd, read_only_of); }
int netdisk_can_flush(struct netdisk *nd) { return (int)get(nd, flush_of); }
int netdisk_can_fua(struct netdisk *nd) { return (int)get(nd, fua_of); }
int netdisk_can_trim(struct netdisk *nd) { return (int)get(nd, trim_of); }
int netdisk_can_zero(struct netdisk *nd) { return (int)get(nd, zero_of); }

/* A copy of the export's info into *info once connected; out is the caller's. */
static int info_of(struct netdisk *nd, const void *out, const char *no_out,
		   struct nd_export_info *info)
{
	if (!out)
		return fail(EINVAL, "%s", no_out);
	if (!nd)
		return fail(EFAULT, "no handle");
	pthread_mutex_lock(&nd->lock);
	if (nd->state == CREATED) {
		pthread_mutex_unlock(&nd->lock);
		return fail(ENOTCONN, "the handle is not connected");
	}
	*info = nd->c.info;
	pthread_mutex_unlock(&nd->lock);
	return 0;
}

int netdisk_get_verifier(struct netdisk *nd, uint64_t *verifier)
{
	struct nd_export_info info = { 0 };

	if (info_of(nd, verifier, "no verifier pointer", &info))
		return -1;
	*verifier = info.verifier;
	return 0;
}

int netdisk_get_uuid(struct netdisk *nd, uint8_t uuid[16])
{
	struct nd_export_info info = { 0 };

	if (info_of(nd, uuid, "no uuid pointer", &info))
		return -1;
	memcpy(uuid, info.uuid, sizeof(info.uuid));
	return 0;
}

static int errno_of_status(uint32_t status)
{
	switch (status) {
	case ND_ERR_READ_ONLY:
		return EROFS;
	case ND_ERR_RANGE:
	case ND_ERR_INVALID:
		return EINVAL;
	case ND_ERR_NOSPC:
		return ENOSPC;
	case ND_ERR_UNSUPPORTED:
		return ENOTSUP;
	case ND_ERR_DENIED:
		return EPERM;
	default:
		return EIO;
	}
}

/* A request in flight: where its part of the caller's range is. */
struct slot {
	uint64_t handle;	/* 0: free */
	uint64_t pos;		/* from the start of the call's range */
	uint32_t len;
};

static const char *type_name(uint16_t type)
{
	static const char *const names[] = {
		[ND_CMD_READ] = "read", [ND_CMD_WRITE] = "write", [ND_CMD_FLUSH] = "flush",
		[ND_CMD_TRIM] = "trim", [ND_CMD_WRITE_ZEROES] = "zero",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "request";
}

/* The connection failed: nothing more goes on it. Under the lock. */
static int broke(struct netdisk *nd, const char *why)
{
	nd->state = DEAD;
	return fail(ECONNRESET, "connection lost: %s", why);
}

/*
 * Runs [offset, offset + count) as requests of at most chunk bytes, up to
 * WINDOW in flight. READ data lands in rbuf, WRITE data comes from wbuf.
 * Under the lock, CONNECTED. The first failure wins; the requests already
 * in flight are still answered before the call returns, so that no reply
 * meets a later call.
 */
static int run(struct netdisk *nd, uint16_t type, uint16_t flags, uint8_t *rbuf,
	       const uint8_t *wbuf, uint64_t count, uint64_t offset, uint32_t chunk)
{
	struct slot slots[WINDOW] = { { 0 } };
	struct nd_client_reply r;
	uint64_t pos = 0;
	unsigned int inflight = 0;
	int ret = 0;

	do {
		while (!ret && inflight < WINDOW && (pos < count || (!count && !pos))) {
			uint32_t len = count - pos < chunk ? (uint32_t)(count - pos) : chunk;
			struct slot *s = slots;

			while (s->handle)
				s++;
			*s = (struct slot){ nd->next_handle++, pos, len };
			if (nd_client_send(&nd->c, type, flags, s->handle, offset + pos, len,
					   wbuf ? wbuf + pos : NULL))
				return broke(nd, nd->c.s.send_error);
			inflight++;
			pos += len;
			if (!count)
				pos = 1;	/* FLUSH: one request */
		}
		if (!inflight)
			break;
		if (nd_client_recv(&nd->c, &r))
			return broke(nd, nd->c.s.error);
		struct slot *s = slots;

		while (s < slots + WINDOW && s->handle != r.handle)
			s++;
		if (s == slots + WINDOW || !r.handle)
			return broke(nd, "the server answered a request that was not sent");
		if (r.status != ND_OK && !ret)
			ret = fail(errno_of_status(r.status), "%s of %u bytes at offset %llu: %s",
				   type_name(type), s->len, (unsigned long long)(offset + s->pos),
				   nd_status_name(r.status));
		else if (r.status == ND_OK && type == ND_CMD_READ) {
			if (r.length != s->len)
				return broke(nd, "a read reply of the wrong length");
			memcpy(rbuf + s->pos, r.data, s->len);
		}
		s->handle = 0;
		inflight--;
	} while (inflight || (!ret && pos < count));
	return ret;
}

static int request(struct netdisk *nd, uint16_t type, uint32_t flags, uint8_t *rbuf,
		   const uint8_t *wbuf, uint64_t count, uint64_t offset)
{
	uint32_t allowed = type == ND_CMD_READ || type == ND_CMD_FLUSH ? 0 : NETDISK_CMD_FLAG_FUA;
	uint32_t chunk, wire_flags = 0;
	bool flush_after = false;
	int ret;

	if (type == ND_CMD_WRITE_ZEROES)
		allowed |= NETDISK_CMD_FLAG_NO_HOLE;

	if (flags & ~allowed)
		return fail(EINVAL, "%s: flags %#x are not allowed", type_name(type), flags);
	if (lock_in(nd, CONNECTED))
		return -1;
	if (type != ND_CMD_FLUSH &&
	    (offset > nd->c.info.size || count > nd->c.info.size - offset)) {
		pthread_mutex_unlock(&nd->lock);
		return fail(EINVAL, "%s of %llu bytes at offset %llu: beyond the export's "
			    "end (%llu bytes)", type_name(type), (unsigned long long)count,
			    (unsigned long long)offset, (unsigned long long)nd->c.info.size);
	}
	if (type != ND_CMD_FLUSH && !count) {
		pthread_mutex_unlock(&nd->lock);
		return 0;
	}
	if (flags & NETDISK_CMD_FLAG_FUA) {
		/* FUA goes on the wire where the protocol has it, else a FLUSH after */
		if (type != ND_CMD_TRIM && nd->c.info.flags & ND_INFO_FUA)
			wire_flags |= ND_CMD_FLAG_FUA;
		else
			flush_after = true;
	}
	if (flags & NETDISK_CMD_FLAG_NO_HOLE)
		wire_flags |= ND_CMD_FLAG_NO_HOLE;
	chunk = type == ND_CMD_READ || type == ND_CMD_WRITE ? nd->c.info.max_io
							     : MAX_RANGE_REQUEST;
	if (!chunk || chunk > MAX_RANGE_REQUEST)
		chunk = ND_MAX_IO;
	ret = run(nd, type, (uint16_t)wire_flags, rbuf, wbuf, count, offset, chunk);
	if (!ret && flush_after)
		ret = run(nd, ND_CMD_FLUSH, 0, NULL, NULL, 0, 0, 1);
	pthread_mutex_unlock(&nd->lock);
	return ret;
}

int netdisk_pread(struct netdisk *nd, void *buf, size_t count, uint64_t offset,
		  uint32_t flags)
{
	if (!buf && count)
		return fail(EINVAL, "no buffer");
	return request(nd, ND_CMD_READ, flags, buf, NULL, count, offset);
}

int netdisk_pwrite(struct netdisk *nd, const void *buf, size_t count, uint64_t offset,
		   uint32_t flags)
{
	if (!buf && count)
		return fail(EINVAL, "no buffer");
	return request(nd, ND_CMD_WRITE, flags, NULL, buf, count, offset);
}

int netdisk_flush(struct netdisk *nd, uint32_t flags)
{
	return request(nd, ND_CMD_FLUSH, flags, NULL, NULL, 0, 0);
}

int netdisk_trim(struct netdisk *nd, uint64_t count, uint64_t offset, uint32_t flags)
{
	return request(nd, ND_CMD_TRIM, flags, NULL, NULL, count, offset);
}

int netdisk_zero(struct netdisk *nd, uint64_t count, uint64_t offset, uint32_t flags)
{
	return request(nd, ND_CMD_WRITE_ZEROES, flags, NULL, NULL, count, offset);
}
