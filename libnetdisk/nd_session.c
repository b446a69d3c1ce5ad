// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "nd_session.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct nd_client_hello) == 292, "ClientHello size");
_Static_assert(sizeof(struct nd_server_hello) == 72, "ServerHello size");
_Static_assert(sizeof(struct nd_hello_prefix) == 8, "hello prefix size");
_Static_assert(sizeof(struct nd_record_header) == 8, "record header size");
_Static_assert(sizeof(struct nd_info) == 48, "info size");
_Static_assert(sizeof(struct nd_request) == 24, "request size");
_Static_assert(sizeof(struct nd_reply) == 16, "reply size");

struct handshake_keys {
	uint8_t th[ND_HASH_SIZE];
	uint8_t c2s[ND_HASH_SIZE];
	uint8_t s2c[ND_HASH_SIZE];
	uint8_t cfin[ND_HASH_SIZE];
	uint8_t sfin[ND_HASH_SIZE];
};

static void set_error(struct nd_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct nd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
}

static void set_send_error(struct nd_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_send_error(struct nd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->send_error, sizeof(s->send_error), fmt, ap);
	va_end(ap);
}

void nd_set_socket_timeout(int fd, int opt, unsigned int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

void nd_session_set_deadline(struct nd_session *s, unsigned int seconds)
{
	memset(&s->deadline, 0, sizeof(s->deadline));
	if (!seconds)
		return;
	clock_gettime(CLOCK_MONOTONIC, &s->deadline);
	s->deadline.tv_sec += seconds;
}

/* Waits until fd is ready or the deadline passes (ETIMEDOUT). */
static int wait_ready(int fd, const struct timespec *deadline, short events)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		struct timespec now;
		long long left_ms;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
			  (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (left_ms <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, left_ms > 60000 ? 60000 : (int)left_ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Sends or receives exactly len bytes, through short transfers and EINTR.
 * With a deadline, waits for the socket no longer than that; without one,
 * blocks as the socket's own timeouts allow.
 */
static int io_full(int fd, const struct timespec *deadline, void *buf, size_t len,
		   bool out)
{
	int flags = deadline ? MSG_DONTWAIT : 0;
	uint8_t *p = buf;

	while (len) {
		ssize_t n;

		if (deadline && wait_ready(fd, deadline, out ? POLLOUT : POLLIN))
			return -1;
		n = out ? send(fd, p, len, MSG_NOSIGNAL | flags) : recv(fd, p, len, flags);
		if (n < 0 && (errno == EINTR || (deadline && errno == EAGAIN)))
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int nd_read_full(int fd, void *buf, size_t len)
{
	return io_full(fd, NULL, buf, len, false);
}

int nd_write_full(int fd, const void *buf, size_t len)
{
	return io_full(fd, NULL, (void *)buf, len, true);
}

static int session_io(struct nd_session *s, void *buf, size_t len, bool out)
{
	bool bounded = s->deadline.tv_sec || s->deadline.tv_nsec;

	return io_full(s->fd, bounded ? &s->deadline : NULL, buf, len, out);
}

static int session_read(struct nd_session *s, void *buf, size_t len)
{
	return session_io(s, buf, len, false);
}

static int session_write(struct nd_session *s, const void *buf, size_t len)
{
	return session_io(s, (void *)buf, len, true);
}

const char *nd_status_name(uint32_t status)
{
	static const char *const names[] = {
		[ND_OK] = "success",
		[ND_ERR_READ_ONLY] = "export is read-only",
		[ND_ERR_RANGE] = "beyond the end of the export",
		[ND_ERR_IO] = "I/O error on the server",
		[ND_ERR_NOSPC] = "no space left on the server",
		[ND_ERR_UNSUPPORTED] = "not supported by the export",
		[ND_ERR_INVALID] = "invalid request",
		[ND_ERR_NO_EXPORT] = "no such export",
		[ND_ERR_DENIED] = "identity not allowed on this export",
		[ND_ERR_BUSY] = "in use by another process on the server",
		[ND_ERR_FULL] = "server busy: it reached its connection limit",
	};

	if (status < sizeof(names) / sizeof(names[0]) && names[status])
		return names[status];
	return "unknown error";
}

static bool valid_name(const char *s, size_t min)
{
	size_t n = strnlen(s, ND_NAME_SIZE);

	if (n < min || n >= ND_NAME_SIZE)
		return false;
	if (n && (s[0] == '.' || s[0] == '-'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("._:@-", c)))
			return false;
	}
	return true;
}

bool nd_valid_identity(const char *s)
{
	return valid_name(s, 1);
}

bool nd_valid_export_name(const char *s)
{
	return valid_name(s, 0);
}

bool nd_valid_server_name(const char *s)
{
	return valid_name(s, 1);
}

/* A name field is valid only if it is NUL padded to the end. */
static bool field_to_name(const char field[ND_NAME_SIZE], char out[ND_NAME_SIZE])
{
	size_t n = strnlen(field, ND_NAME_SIZE);

	if (n == ND_NAME_SIZE)
		return false;
	for (size_t i = n; i < ND_NAME_SIZE; i++)
		if (field[i])
			return false;
	memcpy(out, field, ND_NAME_SIZE);
	return true;
}

int nd_hello_mac1(const struct nd_client_hello *ch, const uint8_t psk[ND_KEY_SIZE],
		      uint8_t out[ND_MAC1_SIZE])
{
	uint8_t key[ND_HASH_SIZE], mac[ND_HASH_SIZE];
	int ret = nd_hkdf_expand(psk, ND_MAC1_LABEL, strlen(ND_MAC1_LABEL), key, sizeof(key)) ||
		  nd_hmac_sha256(key, ch, offsetof(struct nd_client_hello, mac1), mac);

	if (!ret)
		memcpy(out, mac, ND_MAC1_SIZE);
	nd_wipe(key, sizeof(key));
	nd_wipe(mac, sizeof(mac));
	return ret ? -1 : 0;
}

/* the timestamp field is a be64 at an offset a __be64 may not have */
static uint64_t get_be64(const uint8_t b[8])
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return be64toh(v);
}

static void put_be64(uint8_t b[8], uint64_t v)
{
	v = htobe64(v);
	memcpy(b, &v, sizeof(v));
}

/*
 * Keeps in psks only the key whose mac1 matches ch's; false if none does.
 * As many MACs are made whatever psks holds, none of them for an unknown
 * identity: the time taken says neither whether the identity is known nor
 * whether it is rolling over to a new key.
 */
static bool mac1_verifies(const struct nd_client_hello *ch, struct nd_psks *psks)
{
	uint8_t mac1[ND_MAC1_SIZE], dummy[ND_KEY_SIZE];
	unsigned int i, used = 0;
	bool verified = false;

	/* a dummy never verifies a hello, whatever its bytes: see real */
	if (nd_random(dummy, sizeof(dummy)))
		memset(dummy, 0x5a, sizeof(dummy));
	for (i = 0; i < ND_KEYS_PER_IDENTITY; i++) {
		bool real = i < psks->count;
		bool match = !nd_hello_mac1(ch, real ? psks->key[i] : dummy, mac1) &&
			     nd_equal_ct(mac1, ch->mac1, ND_MAC1_SIZE) && real;

		used = match ? i : used;
		verified |= match;
	}
	nd_wipe(mac1, sizeof(mac1));
	nd_wipe(dummy, sizeof(dummy));
	if (verified && used)
		memcpy(psks->key[0], psks->key[used], ND_KEY_SIZE);
	psks->count = 1;
	return verified;
}

/* docs/protocol.md, "Key schedule"; dh is the X25519 shared secret. */
static int derive(const struct nd_client_hello *ch,
		  const struct nd_server_hello *sh,
		  const uint8_t psk[ND_KEY_SIZE], const uint8_t dh[ND_SHARE_SIZE],
		  struct handshake_keys *k)
{
	uint8_t transcript[sizeof(*ch) + sizeof(*sh)];
	uint8_t salt[2 * ND_NONCE_SIZE];
	uint8_t ikm[ND_KEY_SIZE + ND_SHARE_SIZE];
	uint8_t prk[ND_HASH_SIZE];
	static const char *const labels[] = { "c2s", "s2c", "cfin", "sfin" };
	uint8_t *outs[] = { k->c2s, k->s2c, k->cfin, k->sfin };
	int ret = -1;

	memcpy(transcript, ch, sizeof(*ch));
	memcpy(transcript + sizeof(*ch), sh, sizeof(*sh));
	memcpy(salt, ch->nonce, ND_NONCE_SIZE);
	memcpy(salt + ND_NONCE_SIZE, sh->nonce, ND_NONCE_SIZE);
	memcpy(ikm, psk, ND_KEY_SIZE);
	memcpy(ikm + ND_KEY_SIZE, dh, ND_SHARE_SIZE);
	if (nd_sha256(transcript, sizeof(transcript), k->th) ||
	    nd_hkdf_extract(salt, sizeof(salt), ikm, sizeof(ikm), prk))
		goto out;
	for (size_t i = 0; i < 4; i++) {
		char info[16 + ND_HASH_SIZE];
		int n = snprintf(info, 16, "netdisk4 %s", labels[i]);

		memcpy(info + n, k->th, ND_HASH_SIZE);
		if (nd_hkdf_expand(prk, info, (size_t)n + ND_HASH_SIZE, outs[i],
				   ND_HASH_SIZE))
			goto out;
	}
	ret = 0;
out:
	nd_wipe(ikm, sizeof(ikm));
	nd_wipe(prk, sizeof(prk));
	return ret;
}

static int start_records(struct nd_session *s, const uint8_t *tx_secret,
			 const uint8_t *rx_secret)
{
	if (nd_aead_init(&s->tx, tx_secret) || nd_aead_init(&s->rx, rx_secret)) {
		set_error(s, "cannot set up AES-256-GCM");
		return -1;
	}
	return 0;
}

void nd_session_init(struct nd_session *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->rekey_records = ND_REKEY_RECORDS;
	s->rekey_bytes = ND_REKEY_BYTES;
}

void nd_session_free(struct nd_session *s)
{
	if (s->tx.ctx)
		nd_aead_free(&s->tx);
	if (s->rx.ctx)
		nd_aead_free(&s->rx);
}

static void cut_short(struct nd_session *s, const char *what)
{
	if (errno == ETIMEDOUT)
		set_error(s, "handshake timed out");
	else
		set_error(s, "%s: %s", what, errno == ECONNRESET ?
			  "connection closed" : strerror(errno));
}

/* A ServerHello that refuses: status set, no nonce and no share. */
static void refuse_hello(struct nd_session *s, uint16_t status, unsigned int retry_after_ms)
{
	struct nd_server_hello sh = { .magic = htonl(ND_MAGIC),
				      .version = htons(ND_VERSION),
				      .status = htons(status) };

	if (status == ND_HELLO_BUSY)
		sh.retry_after_ms = htonl(retry_after_ms);
	session_write(s, &sh, sizeof(sh));
}

/* Reads and checks a ClientHello; false ends the handshake. */
static enum nd_accept_result read_client_hello(struct nd_session *s,
					       struct nd_client_hello *ch,
					       struct nd_hello_names *names)
{
	struct nd_hello_prefix *pre = (struct nd_hello_prefix *)ch;

	if (session_read(s, pre, sizeof(*pre))) {
		cut_short(s, "no complete ClientHello");
		return errno == ETIMEDOUT ? ND_ACCEPT_TIMEOUT : ND_ACCEPT_IO;
	}
	if (ntohl(pre->magic) != ND_MAGIC) {
		set_error(s, "not a netdisk client (bad magic)");
		return ND_ACCEPT_MALFORMED;
	}
	if (ntohs(pre->version) != ND_VERSION) {
		set_error(s, "client speaks protocol version %u, server speaks %u",
			  ntohs(pre->version), ND_VERSION);
		refuse_hello(s, ND_HELLO_VERSION, 0);
		return ND_ACCEPT_VERSION;
	}
	if (session_read(s, (uint8_t *)ch + sizeof(*pre), sizeof(*ch) - sizeof(*pre))) {
		cut_short(s, "no complete ClientHello");
		return errno == ETIMEDOUT ? ND_ACCEPT_TIMEOUT : ND_ACCEPT_IO;
	}
	names->flags = ntohs(ch->flags);
	names->server_port = ntohs(ch->server_port);
	if ((names->flags & ~ND_HELLO_LIST) || !names->server_port || ch->reserved ||
	    (names->flags & ND_HELLO_LIST && ch->export_name[0]) ||
	    !field_to_name(ch->identity, names->identity) ||
	    !field_to_name(ch->export_name, names->export_name) ||
	    !field_to_name(ch->server_name, names->server_name) ||
	    !nd_valid_identity(names->identity) ||
	    !nd_valid_export_name(names->export_name) ||
	    !nd_valid_server_name(names->server_name)) {
		memset(names, 0, sizeof(*names));
		set_error(s, "malformed ClientHello");
		return ND_ACCEPT_MALFORMED;
	}
	return ND_ACCEPT_OK;
}

enum nd_accept_result nd_session_accept(struct nd_session *s,
					const struct nd_accept_ops *ops,
					struct nd_hello_names *names,
					enum nd_key_kind *kind, uint8_t key[ND_KEY_SIZE])
{
	struct nd_client_hello ch;
	struct nd_server_hello sh = { .magic = htonl(ND_MAGIC),
				      .version = htons(ND_VERSION) };
	struct handshake_keys k;
	struct nd_psks psks = { 0 };	/* after mac1: the one key it verified with */
	uint8_t priv[ND_SHARE_SIZE], dh[ND_SHARE_SIZE];
	uint8_t fin[ND_HASH_SIZE], mac[ND_HASH_SIZE];
	enum nd_accept_result ret;
	int proof;

	memset(names, 0, sizeof(*names));
	*kind = ND_KEY_NONE;
	ret = read_client_hello(s, &ch, names);
	if (ret != ND_ACCEPT_OK)
		return ret;
	if (!ops->answers_to(ops->ctx, s->fd, names->server_name, names->server_port)) {
		set_error(s, "client asked for server '%s' port %u, a name or port this "
			  "server does not answer to", names->server_name, names->server_port);
		refuse_hello(s, ND_HELLO_WRONG_SERVER, 0);
		return ND_ACCEPT_WRONG_SERVER;
	}
	s->retry_after_ms = ops->admit(ops->ctx, names);
	if (s->retry_after_ms) {
		set_error(s, "at a connection limit: told to retry after %u ms",
			  s->retry_after_ms);
		refuse_hello(s, ND_HELLO_BUSY, s->retry_after_ms);
		return ND_ACCEPT_BUSY;
	}
	ret = ND_ACCEPT_IO;
	*kind = ops->lookup(ops->ctx, names->identity, &psks);
	if (*kind == ND_KEY_NONE)
		psks.count = 0;
	if (!mac1_verifies(&ch, &psks)) {
		/* the same answer for both: an unknown identity looks like a wrong key */
		set_error(s, *kind == ND_KEY_NONE ? "unknown identity and no default key" :
			  "wrong key (mac1 did not verify)");
		refuse_hello(s, ND_HELLO_KEY, 0);
		ret = *kind == ND_KEY_NONE ? ND_ACCEPT_UNKNOWN_ID : ND_ACCEPT_BAD_KEY;
		goto out;
	}
	proof = ops->proven(ops->ctx, names, *kind, get_be64(ch.timestamp), ch.mac1);
	if (proof < 0) {
		set_error(s, "a ClientHello seen before (a replay)");
		ret = ND_ACCEPT_REPLAY;
		goto out;
	}
	s->retry_after_ms = (unsigned int)proof;
	if (s->retry_after_ms) {
		set_error(s, "at the limit of proven handshakes: told to retry after %u ms",
			  s->retry_after_ms);
		refuse_hello(s, ND_HELLO_BUSY, s->retry_after_ms);
		ret = ND_ACCEPT_BUSY;
		goto out;
	}
	if (nd_random(sh.nonce, sizeof(sh.nonce)) || nd_x25519_keypair(priv, sh.share)) {
		set_error(s, "no random bytes for the handshake");
		goto out;
	}
	if (nd_x25519(priv, ch.share, dh)) {
		set_error(s, "client sent an invalid X25519 share");
		ret = ND_ACCEPT_MALFORMED;
		goto out;
	}
	if (derive(&ch, &sh, psks.key[0], dh, &k) ||
	    nd_hmac_sha256(k.cfin, k.th, ND_HASH_SIZE, mac)) {
		set_error(s, "key derivation failed");
		goto out;
	}
	if (session_write(s, &sh, sizeof(sh)) || session_read(s, fin, sizeof(fin))) {
		cut_short(s, "handshake cut short");
		if (errno == ETIMEDOUT)
			ret = ND_ACCEPT_TIMEOUT;
		goto out;
	}
	if (!nd_equal_ct(mac, fin, ND_HASH_SIZE)) {
		set_error(s, "wrong key (key confirmation failed)");
		ret = ND_ACCEPT_BAD_KEY;
		goto out;
	}
	if (nd_hmac_sha256(k.sfin, k.th, ND_HASH_SIZE, mac) ||
	    session_write(s, mac, sizeof(mac))) {
		cut_short(s, "cannot send ServerFinished");
		goto out;
	}
	if (start_records(s, k.s2c, k.c2s))
		goto out;
	memcpy(key, psks.key[0], ND_KEY_SIZE);
	ret = ND_ACCEPT_OK;
out:
	nd_wipe(&psks, sizeof(psks));
	nd_wipe(priv, sizeof(priv));
	nd_wipe(dh, sizeof(dh));
	nd_wipe(&k, sizeof(k));
	return ret;
}

/* Reads the ServerHello; 0 when it accepts the hello. */
static int read_server_hello(struct nd_session *s, struct nd_server_hello *sh,
			     const struct nd_hello_names *names)
{
	struct nd_hello_prefix *pre = (struct nd_hello_prefix *)sh;

	if (session_read(s, pre, sizeof(*pre))) {
		if (errno == ETIMEDOUT)
			set_error(s, "no answer to the hello within %d s",
				  ND_HANDSHAKE_TIMEOUT_S);
		else
			set_error(s, "server closed the connection during the hello (%s)",
				  strerror(errno));
		return -1;
	}
	if (ntohl(pre->magic) != ND_MAGIC) {
		set_error(s, "not a netdisk server (bad magic)");
		s->connect_failure = ND_CONNECT_PROTOCOL;
		return -1;
	}
	if (ntohs(sh->status) == ND_HELLO_VERSION || ntohs(sh->version) != ND_VERSION) {
		set_error(s, "server speaks protocol version %u, we speak %u",
			  ntohs(sh->version), ND_VERSION);
		s->connect_failure = ND_CONNECT_PROTOCOL;
		return -1;
	}
	if (ntohs(sh->status) == ND_HELLO_WRONG_SERVER) {
		set_error(s, "the server does not answer to the name '%s' on port %u: it "
			  "is another server, or the connection was relayed (if the name "
			  "and port are right, add them to server-name and server-port in "
			  "the server's netdiskd.conf)",
			  names->server_name, names->server_port);
		s->connect_failure = ND_CONNECT_REFUSED;
		return -1;
	}
	if (ntohs(sh->status) == ND_HELLO_KEY) {
		set_error(s, "server rejected the key for identity '%s' (wrong key or unknown "
			  "identity)", names->identity);
		s->connect_failure = ND_CONNECT_REFUSED;
		return -1;
	}
	if (sh->status && ntohs(sh->status) != ND_HELLO_BUSY) {
		set_error(s, "server refused the hello (status %u)", ntohs(sh->status));
		s->connect_failure = ND_CONNECT_PROTOCOL;
		return -1;
	}
	if (session_read(s, (uint8_t *)sh + sizeof(*pre), sizeof(*sh) - sizeof(*pre))) {
		cut_short(s, "server closed the connection during the hello");
		return -1;
	}
	if (sh->status) {
		uint32_t ms = ntohl(sh->retry_after_ms);

		/* a hint out of range is the server's mistake, not a reason to spin */
		s->retry_after_ms = ms && ms <= ND_RETRY_AFTER_MAX_MS ? ms : 1000;
		set_error(s, "server busy: at its connection limit");
		s->connect_failure = ND_CONNECT_BUSY;
		return -1;
	}
	return 0;
}

int nd_session_connect(struct nd_session *s, const struct nd_hello_names *names,
		       const uint8_t key[ND_KEY_SIZE])
{
	struct nd_client_hello ch = { .magic = htonl(ND_MAGIC),
				      .version = htons(ND_VERSION),
				      .flags = htons(names->flags) };
	struct nd_server_hello sh;
	struct handshake_keys k;
	uint8_t priv[ND_SHARE_SIZE], dh[ND_SHARE_SIZE];
	uint8_t mac[ND_HASH_SIZE], fin[ND_HASH_SIZE];
	int ret = -1;

	s->connect_failure = ND_CONNECT_PROTOCOL;
	if (!nd_valid_identity(names->identity)) {
		set_error(s, "invalid identity '%.63s'", names->identity);
		return -1;
	}
	if (!nd_valid_export_name(names->export_name)) {
		set_error(s, "invalid export name '%.63s'", names->export_name);
		return -1;
	}
	if (!nd_valid_server_name(names->server_name)) {
		set_error(s, "invalid server name '%.63s' (1 to 63 characters from "
			  "[A-Za-z0-9._:@-])", names->server_name);
		return -1;
	}
	if (!names->server_port) {
		set_error(s, "no server port");
		return -1;
	}
	ch.server_port = htons(names->server_port);
	/* validated above: shorter than the fields, which stay NUL padded */
	memcpy(ch.identity, names->identity, strlen(names->identity));
	memcpy(ch.export_name, names->export_name, strlen(names->export_name));
	memcpy(ch.server_name, names->server_name, strlen(names->server_name));
	s->connect_failure = ND_CONNECT_BROKEN;
	if (nd_random(ch.nonce, sizeof(ch.nonce)) || nd_x25519_keypair(priv, ch.share)) {
		set_error(s, "no random bytes");
		goto out;
	}
	put_be64(ch.timestamp, (uint64_t)time(NULL));
	if (nd_hello_mac1(&ch, key, ch.mac1)) {
		set_error(s, "key derivation failed");
		goto out;
	}
	if (session_write(s, &ch, sizeof(ch))) {
		cut_short(s, "cannot send the hello");
		goto out;
	}
	if (read_server_hello(s, &sh, names))
		goto out;
	if (nd_x25519(priv, sh.share, dh)) {
		set_error(s, "server sent an invalid X25519 share");
		goto out;
	}
	if (derive(&ch, &sh, key, dh, &k) ||
	    nd_hmac_sha256(k.cfin, k.th, ND_HASH_SIZE, mac)) {
		set_error(s, "key derivation failed");
		goto out;
	}
	if (session_write(s, mac, sizeof(mac)) || session_read(s, fin, sizeof(fin))) {
		if (errno == ETIMEDOUT)
			cut_short(s, "");
		else {
			set_error(s, "server rejected the key for identity '%s' "
				  "(wrong key or unknown identity)", names->identity);
			s->connect_failure = ND_CONNECT_REFUSED;
		}
		goto out;
	}
	if (nd_hmac_sha256(k.sfin, k.th, ND_HASH_SIZE, mac) ||
	    !nd_equal_ct(mac, fin, ND_HASH_SIZE)) {
		set_error(s, "server failed key confirmation (it holds a different key)");
		s->connect_failure = ND_CONNECT_REFUSED;
		goto out;
	}
	ret = start_records(s, k.c2s, k.s2c);
out:
	nd_wipe(priv, sizeof(priv));
	nd_wipe(dh, sizeof(dh));
	nd_wipe(&k, sizeof(k));
	return ret;
}

static int send_sealed(struct nd_session *s, uint8_t type, uint8_t *buf,
		       size_t len)
{
	struct nd_record_header *h = (struct nd_record_header *)buf;
	size_t clear = nd_record_clear_len(type);

	memset(h, 0, sizeof(*h));
	h->length = htonl((uint32_t)len);
	h->type = type;
	/* the associated data is the header and the clear part after it */
	if (nd_aead_seal(&s->tx, buf, sizeof(*h) + clear,
			 nd_record_payload(buf) + clear, len - clear,
			 nd_record_payload(buf) + len)) {
		set_send_error(s, "encryption failed");
		return -1;
	}
	if (nd_write_full(s->fd, buf, len + ND_RECORD_OVERHEAD)) {
		set_send_error(s, "send failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int nd_session_send(struct nd_session *s, uint8_t type, uint8_t *buf,
		    size_t len)
{
	if (len > ND_MAX_RECORD || len < nd_record_clear_len(type)) {
		set_send_error(s, "record of %zu bytes is malformed", len);
		return -1;
	}
	if (s->tx.seq >= s->rekey_records || s->tx.bytes >= s->rekey_bytes) {
		uint8_t upd[ND_RECORD_OVERHEAD];

		if (send_sealed(s, ND_REC_KEY_UPDATE, upd, 0))
			return -1;
		if (nd_aead_next_epoch(&s->tx)) {
			set_send_error(s, "key update failed");
			return -1;
		}
	}
	return send_sealed(s, type, buf, len);
}

long nd_session_recv(struct nd_session *s, uint8_t *type, uint8_t *buf,
		     size_t cap)
{
	for (;;) {
		struct nd_record_header *h = (struct nd_record_header *)buf;
		uint32_t len, clear;

		if (nd_read_full(s->fd, h, sizeof(*h))) {
			s->peer_closed = errno == ECONNRESET;
			if (s->peer_closed)
				set_error(s, "connection closed");
			else
				set_error(s, "receive failed: %s", strerror(errno));
			return -1;
		}
		len = ntohl(h->length);
		if (len > ND_MAX_RECORD || len + ND_RECORD_OVERHEAD > cap) {
			set_error(s, "oversized record (%u bytes)", len);
			return -1;
		}
		clear = nd_record_clear_len(h->type);
		if (h->reserved[0] || h->reserved[1] || h->reserved[2] ||
		    h->type < ND_REC_INFO || h->type > ND_REC_LIST || len < clear) {
			set_error(s, "malformed record header");
			return -1;
		}
		if (s->rx.seq >= ND_HARD_RECORDS || s->rx.bytes >= ND_HARD_BYTES) {
			set_error(s, "peer did not rotate its key in time");
			return -1;
		}
		if (nd_read_full(s->fd, nd_record_payload(buf), len + ND_TAG_SIZE)) {
			set_error(s, "connection closed inside a record");
			return -1;
		}
		if (nd_aead_open(&s->rx, buf, sizeof(*h) + clear,
				 nd_record_payload(buf) + clear, len - clear,
				 nd_record_payload(buf) + len)) {
			set_error(s, "record failed authentication");
			return -1;
		}
		if (h->type != ND_REC_KEY_UPDATE) {
			*type = h->type;
			return len;
		}
		if (len) {
			set_error(s, "malformed key update");
			return -1;
		}
		if (nd_aead_next_epoch(&s->rx)) {
			set_error(s, "key update failed");
			return -1;
		}
	}
}
