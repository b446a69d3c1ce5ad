// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "nd_session.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

_Static_assert(sizeof(struct nd_client_hello) == 168, "ClientHello size");
_Static_assert(sizeof(struct nd_server_hello) == 40, "ServerHello size");
_Static_assert(sizeof(struct nd_record_header) == 8, "record header size");
_Static_assert(sizeof(struct nd_info) == 32, "info size");
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

void nd_set_socket_timeout(int fd, int opt, unsigned int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

int nd_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
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

int nd_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
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

static int derive(const struct nd_client_hello *ch,
		  const struct nd_server_hello *sh,
		  const uint8_t psk[ND_KEY_SIZE], struct handshake_keys *k)
{
	uint8_t transcript[sizeof(*ch) + sizeof(*sh)];
	uint8_t salt[2 * ND_NONCE_SIZE];
	uint8_t prk[ND_HASH_SIZE];
	static const char *const labels[] = { "c2s", "s2c", "cfin", "sfin" };
	uint8_t *outs[] = { k->c2s, k->s2c, k->cfin, k->sfin };
	int ret = -1;

	memcpy(transcript, ch, sizeof(*ch));
	memcpy(transcript + sizeof(*ch), sh, sizeof(*sh));
	memcpy(salt, ch->nonce, ND_NONCE_SIZE);
	memcpy(salt + ND_NONCE_SIZE, sh->nonce, ND_NONCE_SIZE);
	if (nd_sha256(transcript, sizeof(transcript), k->th) ||
	    nd_hkdf_extract(salt, sizeof(salt), psk, ND_KEY_SIZE, prk))
		goto out;
	for (size_t i = 0; i < 4; i++) {
		char info[16 + ND_HASH_SIZE];
		int n = snprintf(info, 16, "netdisk1 %s", labels[i]);

		memcpy(info + n, k->th, ND_HASH_SIZE);
		if (nd_hkdf_expand(prk, info, (size_t)n + ND_HASH_SIZE, outs[i],
				   ND_HASH_SIZE))
			goto out;
	}
	ret = 0;
out:
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

enum nd_accept_result nd_session_accept(struct nd_session *s,
					nd_key_lookup_fn lookup, void *ctx,
					char identity[ND_NAME_SIZE],
					char export_name[ND_NAME_SIZE])
{
	struct nd_client_hello ch;
	struct nd_server_hello sh = { .magic = htonl(ND_MAGIC),
				      .version = htons(ND_VERSION) };
	struct handshake_keys k;
	uint8_t psk[ND_KEY_SIZE], fin[ND_HASH_SIZE], mac[ND_HASH_SIZE];
	enum nd_accept_result ret = ND_ACCEPT_IO;
	bool known;

	identity[0] = export_name[0] = '\0';
	if (nd_read_full(s->fd, &ch, sizeof(ch))) {
		set_error(s, "no complete ClientHello: %s", strerror(errno));
		return ND_ACCEPT_IO;
	}
	if (ntohl(ch.magic) != ND_MAGIC) {
		set_error(s, "not a netdisk client (bad magic)");
		return ND_ACCEPT_MALFORMED;
	}
	if (ntohs(ch.version) != ND_VERSION) {
		set_error(s, "client speaks protocol version %u, server speaks %u",
			  ntohs(ch.version), ND_VERSION);
		sh.status = htons(ND_HELLO_VERSION);
		nd_random(sh.nonce, sizeof(sh.nonce));
		nd_write_full(s->fd, &sh, sizeof(sh));
		return ND_ACCEPT_VERSION;
	}
	if (ch.flags || !field_to_name(ch.identity, identity) ||
	    !field_to_name(ch.export_name, export_name) ||
	    !nd_valid_identity(identity) || !nd_valid_export_name(export_name)) {
		identity[0] = export_name[0] = '\0';
		set_error(s, "malformed ClientHello");
		return ND_ACCEPT_MALFORMED;
	}
	known = lookup(ctx, identity, psk);
	if (!known && nd_random(psk, sizeof(psk)))
		goto out;
	if (nd_random(sh.nonce, sizeof(sh.nonce)) || derive(&ch, &sh, psk, &k)) {
		set_error(s, "key derivation failed");
		goto out;
	}
	if (nd_write_full(s->fd, &sh, sizeof(sh)) ||
	    nd_read_full(s->fd, fin, sizeof(fin))) {
		set_error(s, "handshake cut short: %s", strerror(errno));
		goto out;
	}
	if (nd_hmac_sha256(k.cfin, k.th, ND_HASH_SIZE, mac))
		goto out;
	if (!known) {
		set_error(s, "unknown identity and no default key");
		ret = ND_ACCEPT_UNKNOWN_ID;
		goto out;
	}
	if (!nd_equal_ct(mac, fin, ND_HASH_SIZE)) {
		set_error(s, "wrong key (key confirmation failed)");
		ret = ND_ACCEPT_BAD_KEY;
		goto out;
	}
	if (nd_hmac_sha256(k.sfin, k.th, ND_HASH_SIZE, mac) ||
	    nd_write_full(s->fd, mac, sizeof(mac))) {
		set_error(s, "cannot send ServerFinished: %s", strerror(errno));
		goto out;
	}
	if (start_records(s, k.s2c, k.c2s))
		goto out;
	ret = ND_ACCEPT_OK;
out:
	nd_wipe(psk, sizeof(psk));
	nd_wipe(&k, sizeof(k));
	return ret;
}

int nd_session_connect(struct nd_session *s, const char *identity,
		       const char *export_name, const uint8_t key[ND_KEY_SIZE])
{
	struct nd_client_hello ch = { .magic = htonl(ND_MAGIC),
				      .version = htons(ND_VERSION) };
	struct nd_server_hello sh;
	struct handshake_keys k;
	uint8_t mac[ND_HASH_SIZE], fin[ND_HASH_SIZE];
	int ret = -1;

	if (!nd_valid_identity(identity)) {
		set_error(s, "invalid identity '%s'", identity);
		return -1;
	}
	if (!nd_valid_export_name(export_name)) {
		set_error(s, "invalid export name '%s'", export_name);
		return -1;
	}
	/* validated above: shorter than the fields, which stay NUL padded */
	memcpy(ch.identity, identity, strlen(identity));
	memcpy(ch.export_name, export_name, strlen(export_name));
	if (nd_random(ch.nonce, sizeof(ch.nonce))) {
		set_error(s, "no random bytes");
		return -1;
	}
	if (nd_write_full(s->fd, &ch, sizeof(ch)) ||
	    nd_read_full(s->fd, &sh, sizeof(sh))) {
		set_error(s, "server closed the connection during the hello (%s)",
			  strerror(errno));
		return -1;
	}
	if (ntohl(sh.magic) != ND_MAGIC) {
		set_error(s, "not a netdisk server (bad magic)");
		return -1;
	}
	if (ntohs(sh.status) == ND_HELLO_VERSION || ntohs(sh.version) != ND_VERSION) {
		set_error(s, "server speaks protocol version %u, we speak %u",
			  ntohs(sh.version), ND_VERSION);
		return -1;
	}
	if (sh.status) {
		set_error(s, "server refused the hello (status %u)", ntohs(sh.status));
		return -1;
	}
	if (derive(&ch, &sh, key, &k) ||
	    nd_hmac_sha256(k.cfin, k.th, ND_HASH_SIZE, mac)) {
		set_error(s, "key derivation failed");
		goto out;
	}
	if (nd_write_full(s->fd, mac, sizeof(mac)) ||
	    nd_read_full(s->fd, fin, sizeof(fin))) {
		set_error(s, "server rejected the key for identity '%s' "
			  "(wrong key or unknown identity)", identity);
		goto out;
	}
	if (nd_hmac_sha256(k.sfin, k.th, ND_HASH_SIZE, mac) ||
	    !nd_equal_ct(mac, fin, ND_HASH_SIZE)) {
		set_error(s, "server failed key confirmation (it holds a different key)");
		goto out;
	}
	ret = start_records(s, k.c2s, k.s2c);
out:
	nd_wipe(&k, sizeof(k));
	return ret;
}

static int send_sealed(struct nd_session *s, uint8_t type, uint8_t *buf,
		       size_t len)
{
	struct nd_record_header *h = (struct nd_record_header *)buf;

	memset(h, 0, sizeof(*h));
	h->length = htonl((uint32_t)len);
	h->type = type;
	if (nd_aead_seal(&s->tx, h, sizeof(*h), nd_record_payload(buf), len,
			 nd_record_payload(buf) + len)) {
		set_error(s, "encryption failed");
		return -1;
	}
	if (nd_write_full(s->fd, buf, len + ND_RECORD_OVERHEAD)) {
		set_error(s, "send failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int nd_session_send(struct nd_session *s, uint8_t type, uint8_t *buf,
		    size_t len)
{
	if (len > ND_MAX_RECORD) {
		set_error(s, "record of %zu bytes is too large", len);
		return -1;
	}
	if (s->tx.seq >= s->rekey_records || s->tx.bytes >= s->rekey_bytes) {
		uint8_t upd[ND_RECORD_OVERHEAD];

		if (send_sealed(s, ND_REC_KEY_UPDATE, upd, 0))
			return -1;
		if (nd_aead_next_epoch(&s->tx)) {
			set_error(s, "key update failed");
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
		uint32_t len;

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
		if (h->reserved[0] || h->reserved[1] || h->reserved[2] ||
		    h->type < ND_REC_INFO || h->type > ND_REC_KEY_UPDATE) {
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
		if (nd_aead_open(&s->rx, h, sizeof(*h), nd_record_payload(buf),
				 len, nd_record_payload(buf) + len)) {
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
