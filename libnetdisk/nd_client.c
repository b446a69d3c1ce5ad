// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "nd_client.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nd_crypto.h"

#define URI_PREFIX "netdisk://"

bool nd_is_uri(const char *s)
{
	return !strncmp(s, URI_PREFIX, strlen(URI_PREFIX));
}

int nd_uri_parse(const char *s, struct nd_uri *uri, char *err, size_t err_len)
{
	const char *p, *host_end, *slash, *at;
	size_t host_len;

	memset(uri, 0, sizeof(*uri));
	snprintf(uri->port, sizeof(uri->port), "%d", ND_DEFAULT_PORT);
	if (!nd_is_uri(s)) {
		snprintf(err, err_len, "'%s' is not a netdisk:// URI "
			 "(netdisk://[IDENTITY@]HOST[:PORT][/EXPORT])", s);
		return -1;
	}
	p = s + strlen(URI_PREFIX);
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at && (!slash || at < slash)) {
		size_t n = (size_t)(at - p);

		if (!n || n >= sizeof(uri->identity)) {
			snprintf(err, err_len, "'%s': the identity before '@' is empty or longer "
				 "than %d characters", s, ND_NAME_SIZE - 1);
			return -1;
		}
		memcpy(uri->identity, p, n);
		if (!nd_valid_identity(uri->identity)) {
			snprintf(err, err_len, "'%s': '%s' is not a valid identity (1 to 63 "
				 "characters from [A-Za-z0-9._:@-])", s, uri->identity);
			return -1;
		}
		p = at + 1;
	}
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (!host_end || (slash && host_end > slash)) {
			snprintf(err, err_len, "'%s': an IPv6 address needs its closing ']'", s);
			return -1;
		}
		host_len = (size_t)(host_end - p - 1);
		p++;
		host_end++;
	} else {
		host_end = p + strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789.-_");
		host_len = (size_t)(host_end - p);
	}
	if (!host_len || host_len >= sizeof(uri->host)) {
		snprintf(err, err_len, "'%s': the host is %s", s, host_len ? "too long" : "missing");
		return -1;
	}
	memcpy(uri->host, p, host_len);
	p = host_end;
	if (*p == ':') {
		size_t n = strcspn(++p, "/");
		char *end;
		long port = 0;

		/* digits only: strtol alone takes "+1" and " 1" */
		if (n && n < sizeof(uri->port) && strspn(p, "0123456789") >= n) {
			memcpy(uri->port, p, n);
			uri->port[n] = '\0';
			port = strtol(uri->port, &end, 10);
			if (*end)
				port = 0;
		}
		if (port < 1 || port > 65535) {
			snprintf(err, err_len, "'%s': the port must be a number from 1 to 65535", s);
			return -1;
		}
		p += n;
	}
	if (*p == '/') {
		p++;
		if (strlen(p) >= ND_NAME_SIZE || !nd_valid_export_name(p)) {
			snprintf(err, err_len, "'%s': '%s' is not a valid export name (up to 63 "
				 "characters from [A-Za-z0-9._:@-])", s, p);
			return -1;
		}
		strcpy(uri->export_name, p);
	} else if (*p) {
		snprintf(err, err_len, "'%s': unexpected '%c' after the host", s, *p);
		return -1;
	}
	return 0;
}

int nd_default_identity(char out[ND_NAME_SIZE])
{
	char host[256];

	if (gethostname(host, sizeof(host)))
		return -1;
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	if (strlen(host) >= ND_NAME_SIZE || !nd_valid_identity(host))
		return -1;
	strcpy(out, host);
	return 0;
}

static int tcp_connect(const struct nd_uri *uri, char *err, size_t err_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	int fd = -1, rc, saved = 0;

	rc = getaddrinfo(uri->host, uri->port, &hints, &res);
	if (rc) {
		snprintf(err, err_len, "cannot resolve %s: %s", uri->host,
			 gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, err_len, "cannot reach %s port %s: %s", uri->host,
			 uri->port, strerror(saved));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	return fd;
}

void nd_client_set_timeout(struct nd_client *c, unsigned int seconds)
{
	nd_set_socket_timeout(c->s.fd, SO_RCVTIMEO, seconds);
	nd_set_socket_timeout(c->s.fd, SO_SNDTIMEO, seconds);
}

int nd_server_name_of(const char *host, char out[ND_NAME_SIZE])
{
	unsigned char addr[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, host, addr) == 1)
		host = inet_ntop(AF_INET6, addr, text, sizeof(text));
	else if (inet_pton(AF_INET, host, addr) == 1)
		host = inet_ntop(AF_INET, addr, text, sizeof(text));
	if (!host || strlen(host) >= ND_NAME_SIZE || !nd_valid_server_name(host))
		return -1;
	strcpy(out, host);
	return 0;
}

/* Connects and authenticates, asking for an export or (ND_HELLO_LIST) the list. */
static int client_connect(struct nd_client *c, const struct nd_uri *uri,
			  const char *identity, const char *server_name, uint16_t flags,
			  const uint8_t key[ND_KEY_SIZE], char *err, size_t err_len)
{
	struct nd_hello_names names;
	int fd;

	memset(c, 0, sizeof(*c));
	memset(&names, 0, sizeof(names));
	c->s.fd = -1;
	c->buf = malloc(ND_MAX_RECORD + ND_RECORD_OVERHEAD);
	if (!c->buf) {
		snprintf(err, err_len, "out of memory");
		return ND_CLIENT_FAILED;
	}
	names.flags = flags;
	snprintf(names.identity, sizeof(names.identity), "%s", identity);
	if (!(flags & ND_HELLO_LIST))
		snprintf(names.export_name, sizeof(names.export_name), "%s", uri->export_name);
	if (server_name)
		snprintf(names.server_name, sizeof(names.server_name), "%s", server_name);
	else if (nd_server_name_of(uri->host, names.server_name)) {
		snprintf(err, err_len, "'%s' cannot be sent as the server's name (at most "
			 "63 characters from [A-Za-z0-9._:@-]); give --server-name",
			 uri->host);
		return ND_CLIENT_FAILED;
	}
	/* nd_uri_parse took digits only, 1..65535 */
	names.server_port = (uint16_t)strtoul(uri->port, NULL, 10);
	fd = tcp_connect(uri, err, err_len);
	if (fd < 0)
		return ND_CLIENT_UNREACHABLE;
	nd_session_init(&c->s, fd);
	nd_session_set_deadline(&c->s, ND_HANDSHAKE_TIMEOUT_S);
	if (nd_session_connect(&c->s, &names, key)) {
		snprintf(err, err_len, "%s: %s", uri->host, c->s.error);
		switch (c->s.connect_failure) {
		case ND_CONNECT_BROKEN:
			return ND_CLIENT_UNREACHABLE;
		case ND_CONNECT_REFUSED:
			return ND_CLIENT_AUTH;
		case ND_CONNECT_BUSY:
			return ND_CLIENT_SERVER_BUSY;
		default:
			return ND_CLIENT_FAILED;
		}
	}
	return 0;
}

/* The record after the handshake, its last step: bounded alike. */
static long recv_first(struct nd_client *c, uint8_t *type)
{
	long len;

	nd_set_socket_timeout(c->s.fd, SO_RCVTIMEO, ND_HANDSHAKE_TIMEOUT_S);
	nd_session_set_deadline(&c->s, 0);
	len = nd_session_recv(&c->s, type, c->buf, ND_MAX_RECORD + ND_RECORD_OVERHEAD);
	nd_set_socket_timeout(c->s.fd, SO_RCVTIMEO, 0);
	return len;
}

int nd_client_open(struct nd_client *c, const struct nd_uri *uri,
		   const char *identity, const char *server_name,
		   const uint8_t key[ND_KEY_SIZE], char *err, size_t err_len)
{
	struct nd_info *info;
	unsigned int hint;
	uint8_t type;
	long len;
	int ret;

	ret = client_connect(c, uri, identity, server_name, 0, key, err, err_len);
	if (ret)
		goto fail;
	ret = ND_CLIENT_FAILED;
	len = recv_first(c, &type);
	if (len < 0 || type != ND_REC_INFO || len != sizeof(*info)) {
		snprintf(err, err_len, "%s: no export info: %s", uri->host,
			 len < 0 ? c->s.error : "unexpected record");
		if (len < 0)
			ret = ND_CLIENT_UNREACHABLE;
		goto fail;
	}
	info = (struct nd_info *)nd_record_payload(c->buf);
	if (ntohl(info->status)) {
		snprintf(err, err_len, "%s: export '%s': %s", uri->host,
			 uri->export_name[0] ? uri->export_name : "(default)",
			 nd_status_name(ntohl(info->status)));
		if (ntohl(info->status) == ND_ERR_NO_EXPORT || ntohl(info->status) == ND_ERR_DENIED)
			ret = ND_CLIENT_NO_EXPORT;
		else if (ntohl(info->status) == ND_ERR_IO)
			ret = ND_CLIENT_IO;
		else if (ntohl(info->status) == ND_ERR_BUSY)
			ret = ND_CLIENT_BUSY;
		else if (ntohl(info->status) == ND_ERR_FULL)
			ret = ND_CLIENT_SERVER_BUSY;
		goto fail;
	}
	c->info.size = be64toh(info->size);
	c->info.block_size = ntohl(info->block_size);
	c->info.max_io = ntohl(info->max_io);
	c->info.flags = ntohl(info->flags);
	c->info.verifier = be64toh(info->verifier);
	memcpy(c->info.uuid, info->uuid, sizeof(c->info.uuid));
	if (!c->info.max_io || c->info.max_io > ND_MAX_IO || !c->info.block_size ||
	    !memcmp(c->info.uuid, (const uint8_t[16]){ 0 }, sizeof(c->info.uuid))) {
		snprintf(err, err_len, "%s: server sent invalid export info", uri->host);
		ret = ND_CLIENT_FAILED;
		goto fail;
	}
	return 0;
fail:
	hint = c->s.retry_after_ms;
	nd_client_close(c);
	if (ret == ND_CLIENT_SERVER_BUSY)
		c->busy_retry_after_ms = hint;
	return ret;
}

static double monotonic_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

#define BUSY_WAIT_MAX_MS 10000u
#define FULL_RETRY_AFTER_MS 1000u	/* INFO FULL carries no hint */

int nd_client_open_waiting(struct nd_client *c, const struct nd_uri *uri,
			   const char *identity, const char *server_name,
			   const uint8_t key[ND_KEY_SIZE], unsigned int wait_s,
			   void (*busy)(void *ctx, unsigned int ms), void *ctx,
			   char *err, size_t err_len)
{
	double end = monotonic_s() + wait_s;
	unsigned int refusals = 0;

	for (;;) {
		int ret = nd_client_open(c, uri, identity, server_name, key, err, err_len);
		unsigned int hint = c->busy_retry_after_ms ? c->busy_retry_after_ms :
							     FULL_RETRY_AFTER_MS;
		uint64_t wait_ms = hint, jitter;
		struct timespec t;
		double left;

		if (ret != ND_CLIENT_SERVER_BUSY)
			return ret;
		for (unsigned int i = 0; i < refusals && wait_ms < BUSY_WAIT_MAX_MS; i++)
			wait_ms *= 2;
		if (wait_ms > BUSY_WAIT_MAX_MS)
			wait_ms = BUSY_WAIT_MAX_MS;
		/* clients refused together must not all come back together */
		if (nd_random(&jitter, sizeof(jitter)))
			jitter = 0;
		wait_ms += jitter % (wait_ms + 1);
		left = end - monotonic_s();
		if (left <= 0) {
			size_t n = strlen(err);

			snprintf(err + n, err_len - n, "; still busy after %u s", wait_s);
			return ret;
		}
		/* the last wait is cut to the deadline, and one more try made */
		if (left * 1000 < (double)wait_ms)
			wait_ms = (uint64_t)(left * 1000) + 1;
		refusals++;
		if (busy)
			busy(ctx, (unsigned int)wait_ms);
		t = (struct timespec){ .tv_sec = (time_t)(wait_ms / 1000),
				       .tv_nsec = (long)(wait_ms % 1000) * 1000000 };
		while (nanosleep(&t, &t) && errno == EINTR)
			;
	}
}

int nd_client_list(const struct nd_uri *uri, const char *identity, const char *server_name,
		   const uint8_t key[ND_KEY_SIZE], struct nd_export_entry **out,
		   size_t *count, char *err, size_t err_len)
{
	const struct nd_list_entry *wire;
	struct nd_client c;
	uint8_t type;
	long len;
	size_t n;
	int ret;

	*out = NULL;
	*count = 0;
	ret = client_connect(&c, uri, identity, server_name, ND_HELLO_LIST, key, err, err_len);
	if (ret)
		goto fail;
	ret = ND_CLIENT_FAILED;
	len = recv_first(&c, &type);
	if (len < 0 || type != ND_REC_LIST || len % sizeof(*wire)) {
		snprintf(err, err_len, "%s: no export list: %s", uri->host,
			 len < 0 ? c.s.error : "unexpected record");
		if (len < 0)
			ret = ND_CLIENT_UNREACHABLE;
		goto fail;
	}
	n = (size_t)len / sizeof(*wire);
	wire = (const struct nd_list_entry *)nd_record_payload(c.buf);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct nd_export_entry *e = &(*out)[i];

		memcpy(e->name, wire[i].name, sizeof(wire[i].name));
		e->name[ND_NAME_SIZE - 1] = '\0';
		if (strlen(e->name) == ND_NAME_SIZE - 1 || !nd_valid_export_name(e->name) ||
		    !e->name[0]) {
			snprintf(err, err_len, "%s: server sent a malformed export name", uri->host);
			free(*out);
			*out = NULL;
			goto fail;
		}
		e->size = be64toh(wire[i].size);
		e->flags = ntohl(wire[i].flags);
	}
	*count = n;
	nd_client_close(&c);
	return 0;
fail:
	nd_client_close(&c);
	return ret;
}

void nd_client_close(struct nd_client *c)
{
	if (c->s.fd >= 0)
		close(c->s.fd);
	nd_session_free(&c->s);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->s.fd = -1;
}

int nd_client_send(struct nd_client *c, uint16_t type, uint16_t flags,
		   uint64_t handle, uint64_t offset, uint32_t length,
		   const void *data)
{
	struct nd_request *rq = (struct nd_request *)nd_record_payload(c->buf);
	size_t len = sizeof(*rq);

	rq->type = htons(type);
	rq->flags = htons(flags);
	rq->length = htonl(length);
	rq->handle = htobe64(handle);
	rq->offset = htobe64(offset);
	if (type == ND_CMD_WRITE) {
		if (length > ND_MAX_IO)
			return -1;
		if (data != rq + 1)
			memcpy(rq + 1, data, length);
		len += length;
	}
	return nd_session_send(&c->s, ND_REC_REQUEST, c->buf, len);
}

uint8_t *nd_client_write_data(struct nd_client *c)
{
	return nd_record_payload(c->buf) + sizeof(struct nd_request);
}

int nd_client_recv(struct nd_client *c, struct nd_client_reply *r)
{
	struct nd_reply *rp = (struct nd_reply *)nd_record_payload(c->buf);
	uint8_t type;
	long len;

	len = nd_session_recv(&c->s, &type, c->buf, ND_MAX_RECORD + ND_RECORD_OVERHEAD);
	if (len < 0)
		return -1;
	if (type != ND_REC_REPLY || (size_t)len != sizeof(*rp) + ntohl(rp->length)) {
		snprintf(c->s.error, sizeof(c->s.error), "malformed reply record");
		return -1;
	}
	r->handle = be64toh(rp->handle);
	r->status = ntohl(rp->status);
	r->length = ntohl(rp->length);
	r->data = (const uint8_t *)(rp + 1);
	return 0;
}
