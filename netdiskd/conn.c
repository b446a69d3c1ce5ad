// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "conn.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "export-uuid.h"
#include "log.h"
#include "nd_crypto.h"
#include "nd_session.h"
#include "protocol.h"
#include "record-buf.h"
#include "server.h"

enum {
	CONN_WORKERS = 4,	/* requests read or run at once */
	CONN_SEND_TIMEOUT_S = 60,
	BUSY_RETRY_AFTER_MS = 1000,	/* the hint of a BUSY ServerHello */
	KEEPALIVE_IDLE_S = 30,
	KEEPALIVE_INTERVAL_S = 10,
	KEEPALIVE_PROBES = 3,
};

struct job {
	uint8_t *buf;		/* one record, laid out for the wire */
	struct request rq;	/* decoded from buf */
};

struct conn {
	struct server_peer link;	/* in the server's list; first */
	struct server *srv;
	struct server_gen *gen;		/* held from the start to the end */
	int fd;
	struct nd_session s;
	struct log_peer peer;		/* names only once authenticated */
	char address[INET6_ADDRSTRLEN + 8];
	struct nd_hello_names hello;	/* as claimed in the ClientHello */
	enum nd_key_kind key_kind;
	enum server_admission admission; /* why there was no room, if none */
	char identity[ND_NAME_SIZE];	/* set once authenticated */
	char export_name[ND_NAME_SIZE];
	struct export *exp;
	struct backend *backend;	/* the export as this identity sees it */
	bool read_only;

	/*
	 * Each worker reads a request, runs it and sends its reply, so that
	 * its data is still in that core's cache when the backend takes it.
	 * No thread holds two of these locks.
	 */
	pthread_mutex_t recv_lock;	/* one reader at a time; closing, requests */
	pthread_mutex_t send_lock;	/* orders sealing and sending of replies */
	bool closing;			/* a read failed: no more requests */
	pthread_t workers[CONN_WORKERS - 1];
	unsigned int worker_count;
	/* the counters are link's: netdiskctl status reads them */
};

static enum nd_key_kind lookup_key(void *ctx, const char *identity, struct nd_psks *psks)
{
	struct conn *c = ctx;

	return nd_keyring_find(&c->gen->keys, identity, psks);
}

static struct server_limits limits_of(const struct server_config *cfg)
{
	return (struct server_limits){ cfg->max_connections, cfg->max_connections_per_identity };
}

/* docs/protocol.md, "Admission": asked before any key is looked up. */
static unsigned int admit(void *ctx, const struct nd_hello_names *names)
{
	struct conn *c = ctx;
	struct server_limits limits = limits_of(&c->gen->cfg);

	if (c->link.crowded) {
		c->admission = SERVER_CROWDED;
		return BUSY_RETRY_AFTER_MS;
	}
	/* a LIST connection takes no place: it ends once the list is sent */
	if (names->flags & ND_HELLO_LIST)
		return 0;
	c->admission = server_room(c->srv, names->identity, &limits);
	return c->admission == SERVER_ADMIT ? 0 : BUSY_RETRY_AFTER_MS;
}

/* docs/protocol.md, "Unauthenticated connections": mac1 verified. */
static int proven(void *ctx, const struct nd_hello_names *names, enum nd_key_kind kind,
		  uint64_t timestamp, const uint8_t mac1[ND_MAC1_SIZE])
{
	struct conn *c = ctx;

	c->admission = server_peer_prove(c->srv, &c->link, names->identity,
					 kind == ND_KEY_DEFAULT, timestamp, mac1);
	if (c->admission == SERVER_REPLAYED)
		return -1;
	return c->admission == SERVER_ADMIT ? 0 : BUSY_RETRY_AFTER_MS;
}

/* The canonical text of the connection's local address; IPv4-mapped as IPv4. */
static bool local_address(int fd, char *out, size_t len, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return false;
	*port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) :
					  ntohs(in6->sin6_port);
	if (ss.ss_family == AF_INET)
		return inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out,
				 (socklen_t)len) != NULL;
	if (ss.ss_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], out,
				 (socklen_t)len) != NULL;
	return inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)len) != NULL;
}

/* Whether the canonical address text is on a loopback network. */
static bool is_loopback(const char *addr)
{
	return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1");
}

/* docs/protocol.md, "Server names" */
static bool answers_to(void *ctx, int fd, const char *name, uint16_t port)
{
	const struct server_gen *gen = ((struct conn *)ctx)->gen;
	char local[INET6_ADDRSTRLEN];
	uint16_t local_port;
	bool port_ok;

	if (!local_address(fd, local, sizeof(local), &local_port))
		return false;
	port_ok = port == local_port;
	for (size_t i = 0; !port_ok && i < gen->cfg.server_port_count; i++)
		port_ok = port == gen->cfg.server_ports[i];
	if (!port_ok)
		return false;
	for (size_t i = 0; i < gen->cfg.server_name_count; i++)
		if (!strcasecmp(gen->cfg.server_names[i], name))
			return true;
	return !strcasecmp(local, name) || (!strcasecmp(name, "localhost") && is_loopback(local));
}

/* Runs one request and sends its reply. */
static void run_request(struct conn *c, struct job *j)
{
	struct nd_reply *rp = (struct nd_reply *)nd_record_payload(j->buf);
	char why[sizeof(c->s.send_error)];
	uint32_t data_len, st;
	int rc;

#ifdef NETDISK_TEST_HOOKS
	if (j->rq.type == ND_CMD_READ && c->gen->cfg.test_unanswered_offset &&
	    j->rq.offset == c->gen->cfg.test_unanswered_offset) {
		atomic_fetch_sub(&c->link.in_flight, 1);
		return;	/* a server that loses a request */
	}
#endif
	/* The reply header overwrites the request header: rq is a copy. */
	st = protocol_execute(c->backend, c->export_name, c->read_only, &j->rq,
			      (uint8_t *)(rp + 1), &data_len);
#ifdef NETDISK_TEST_HOOKS
	if (j->rq.type == ND_CMD_READ && c->gen->cfg.test_empty_read_offset &&
	    j->rq.offset == c->gen->cfg.test_empty_read_offset)
		data_len = 0;	/* a server that says OK and sends nothing */
#endif
	protocol_encode_reply(rp, &j->rq, st, data_len);
	if (st)
		log_msg(LOG_DEBUG, &c->peer, "request type %u at %llu+%u refused: %s",
			j->rq.type, (unsigned long long)j->rq.offset,
			j->rq.length, nd_status_name(st));
	pthread_mutex_lock(&c->send_lock);
	rc = nd_session_send(&c->s, ND_REC_REPLY, j->buf, sizeof(*rp) + data_len);
	if (rc)
		memcpy(why, c->s.send_error, sizeof(why));
	pthread_mutex_unlock(&c->send_lock);
	if (rc) {
		log_msg(LOG_WARNING, &c->peer, "dropping connection: %s", why);
		shutdown(c->fd, SHUT_RDWR);
	}
	if (!st && j->rq.type == ND_CMD_READ)
		atomic_fetch_add(&c->link.bytes_read, j->rq.length);
	else if (!st && j->rq.type == ND_CMD_WRITE)
		atomic_fetch_add(&c->link.bytes_written, j->rq.length);
	atomic_fetch_sub(&c->link.in_flight, 1);
}

/*
 * Reads one request into j. Returns false when the connection must end: the
 * peer closed it, or sent something that is not a well-formed request.
 */
static bool read_request(struct conn *c, struct job *j)
{
	uint8_t type;
	long len = nd_session_recv(&c->s, &type, j->buf, RECORD_BUF_SIZE);
	char why[128];

	if (len < 0) {
		bool closed = c->s.peer_closed;

		log_msg(closed ? LOG_DEBUG : LOG_WARNING, &c->peer,
			"%s%s", closed ? "" : "dropping connection: ", c->s.error);
		return false;
	}
	if (protocol_decode(type, nd_record_payload(j->buf), (size_t)len, &j->rq,
			   why, sizeof(why))) {
		log_msg(LOG_WARNING, &c->peer, "dropping connection: %s", why);
		return false;
	}
	return true;
}

/* Reads the next request into j; false once the connection is closing. */
static bool next_request(struct conn *c, struct job *j)
{
	bool ok;

	pthread_mutex_lock(&c->recv_lock);
	ok = !c->closing && read_request(c, j);
	if (ok) {
		atomic_fetch_add(&c->link.requests, 1);
		atomic_fetch_add(&c->link.in_flight, 1);
	} else {
		c->closing = true;
	}
	pthread_mutex_unlock(&c->recv_lock);
	return ok;
}

/*
 * Serves requests until the connection closes. The other workers answer
 * the requests they already read before they stop.
 */
static void *worker_main(void *arg)
{
	struct conn *c = arg;
	struct job j = { .buf = record_buf_get() };

	if (!j.buf) {
		log_msg(LOG_ERR, &c->peer, "out of memory for a request buffer");
		return NULL;
	}
	while (next_request(c, &j))
		run_request(c, &j);
	record_buf_put(j.buf);
	return NULL;
}

static bool send_info(struct conn *c, uint32_t status)
{
	uint8_t buf[sizeof(struct nd_info) + ND_RECORD_OVERHEAD];
	struct nd_info *info = (struct nd_info *)nd_record_payload(buf);
	uint32_t flags = ND_INFO_FLUSH;

	memset(info, 0, sizeof(*info));
	info->status = htonl(status);
	if (!status) {
		/* a copy-on-write export is writable: writes go to the overlay */
		if (c->read_only)
			flags |= ND_INFO_READ_ONLY;
		else
			flags |= ND_INFO_FUA | ND_INFO_TRIM | ND_INFO_WRITE_ZEROES;
		info->flags = htonl(flags);
		info->size = htobe64(c->backend->size);
		info->block_size = htonl(c->backend->block_size);
		info->max_io = htonl(ND_MAX_IO);
		info->verifier = htobe64(c->exp->verifier);
		if (c->exp->cow)
			export_uuid_of_identity(c->exp->uuid, c->hello.identity, info->uuid);
		else
			memcpy(info->uuid, c->exp->uuid, sizeof(info->uuid));
	}
	if (nd_session_send(&c->s, ND_REC_INFO, buf, sizeof(*info))) {
		log_msg(LOG_WARNING, &c->peer, "cannot send export info: %s",
			c->s.send_error);
		return false;
	}
	return status == ND_OK;
}

static struct log_limit handshake_failures = LOG_LIMIT_INIT;

/* Logs a failed handshake: under the address only, and at a bounded rate. */
static void log_handshake_failure(struct conn *c, enum nd_accept_result r)
{
	const struct nd_hello_names *h = &c->hello;
	int prio = r == ND_ACCEPT_IO || r == ND_ACCEPT_TIMEOUT ? LOG_INFO : LOG_WARNING;

	if (!h->identity[0])
		log_limited(&handshake_failures, prio, &c->peer, "handshake failed: %s",
			    c->s.error);
	else
		log_limited(&handshake_failures, prio, &c->peer,
			    "handshake failed: %s; claimed identity '%s', export '%s'",
			    c->s.error, h->identity, h->export_name);
}

/* Whether an authenticated client may use an export, and how; logs nothing. */
static bool may_use(const struct conn *c, const struct export_config *ec,
		    const struct export *e, bool *read_only)
{
	bool verified = c->key_kind == ND_KEY_IDENTITY;
	const char *id = c->hello.identity;

	if (!ec->allow.any && !(verified && id_list_contains(&ec->allow, id)))
		return false;
	/* overlays belong to identities, which only their own keys prove */
	if (e->cow && !verified)
		return false;
	*read_only = e->read_only ||
		     !(ec->allow_write.any || (verified && id_list_contains(&ec->allow_write, id)));
	return true;
}

/* What an authenticated client may do on its export; false if nothing. */
static bool grant_access(struct conn *c, const struct export_config *ec)
{
	bool verified = c->key_kind == ND_KEY_IDENTITY;
	const char *id = c->hello.identity;

	if (may_use(c, ec, c->exp, &c->read_only))
		return true;
	if (ec->allow.any || (verified && id_list_contains(&ec->allow, id)))
		log_msg(LOG_WARNING, &c->peer, "refused: copy-on-write overlays belong to "
			"identities, and the default key does not prove the identity '%s'; "
			"give it a key of its own", id);
	else if (id_list_contains(&ec->allow, id))
		log_msg(LOG_WARNING, &c->peer, "refused: the default key does not "
			"prove the identity '%s'; give it a key of its own", id);
	else
		log_msg(LOG_WARNING, &c->peer, "refused: identity '%s' not allowed "
			"on export '%s'", id, ec->name);
	return false;
}

/* The LIST record: the exports this client may connect to (docs/protocol.md). */
static void send_list(struct conn *c)
{
	const struct server_config *cfg = &c->gen->cfg;
	size_t max = cfg->export_count < ND_LIST_MAX ? cfg->export_count : ND_LIST_MAX;
	uint8_t *buf = malloc(max * sizeof(struct nd_list_entry) + ND_RECORD_OVERHEAD);
	struct nd_list_entry *list;
	size_t n = 0;

	if (!buf) {
		log_msg(LOG_ERR, &c->peer, "out of memory for the export list");
		return;
	}
	list = (struct nd_list_entry *)nd_record_payload(buf);
	for (size_t i = 0; i < cfg->export_count && n < max; i++) {
		const struct export *e = c->gen->exports[i];
		bool read_only;

		if (!may_use(c, &cfg->exports[i], e, &read_only))
			continue;
		memset(&list[n], 0, sizeof(list[n]));
		memcpy(list[n].name, e->name, strlen(e->name));
		list[n].size = htobe64(e->file.b.size);
		list[n].flags = htonl(ND_INFO_FLUSH | (read_only ? ND_INFO_READ_ONLY :
				      ND_INFO_FUA | ND_INFO_TRIM | ND_INFO_WRITE_ZEROES));
		n++;
	}
	if (nd_session_send(&c->s, ND_REC_LIST, buf, n * sizeof(*list)))
		log_msg(LOG_WARNING, &c->peer, "cannot send the export list: %s",
			c->s.send_error);
	else
		log_msg(LOG_INFO, &c->peer, "listed %zu of %zu export(s)", n, cfg->export_count);
	free(buf);
}

static struct log_limit busy_answers = LOG_LIMIT_INIT;

/* A connection that found no room: counted, and why goes to the log. */
static void no_room(struct conn *c, const char *told)
{
	const struct server_config *cfg = &c->gen->cfg;

	atomic_fetch_add(&c->srv->busy, 1);
	if (c->admission == SERVER_CROWDED)
		log_limited(&busy_answers, LOG_INFO, &c->peer, "%s: %u handshakes are open "
			    "from this address", told, MAX_HANDSHAKES_PER_ADDRESS);
	else if (c->admission == SERVER_STOPPING)
		log_limited(&busy_answers, LOG_INFO, &c->peer, "%s: the server is stopping", told);
	else if (c->admission == SERVER_PROVEN_FULL)
		log_limited(&busy_answers, LOG_INFO, &c->peer, "%s: %u proven handshakes are "
			    "open, or %u of identity '%s'", told, MAX_PROVEN,
			    MAX_PROVEN_PER_IDENTITY, c->hello.identity);
	else if (c->admission == SERVER_IDENTITY_FULL)
		log_limited(&busy_answers, LOG_INFO, &c->peer, "%s: identity '%s' is at "
			    "max-connections-per-identity (%u)", told, c->hello.identity,
			    cfg->max_connections_per_identity);
	else
		log_limited(&busy_answers, LOG_INFO, &c->peer, "%s: at max-connections (%u)",
			    told, cfg->max_connections);
}

/*
 * The handshake used the keys of the generation the connection was accepted
 * under. A reload since then applies now: the connection goes on under the
 * current generation, and only if that still holds key, the one it
 * authenticated with, as the same kind of key. False if it does not.
 */
static bool adopt_current_gen(struct conn *c, const uint8_t key[ND_KEY_SIZE])
{
	struct server_gen *now = server_gen_get(c->srv);
	struct nd_psks psks;
	bool same = false;

	if (now == c->gen) {
		server_gen_put(c->srv, now);
		return true;
	}
	if (nd_keyring_find(&now->keys, c->hello.identity, &psks) == c->key_kind)
		for (unsigned int i = 0; i < psks.count; i++)
			same |= nd_equal_ct(psks.key[i], key, ND_KEY_SIZE);
	nd_wipe(&psks, sizeof(psks));
	if (!same) {
		server_gen_put(c->srv, now);
		return false;
	}
	server_gen_put(c->srv, c->gen);
	c->gen = now;
	return true;
}

/* Authenticates the client and picks its export; false ends the connection. */
static bool handshake(struct conn *c)
{
	struct server *srv = c->srv;
	const struct server_config *cfg;
	const struct nd_accept_ops ops = { lookup_key, answers_to, admit, proven, c };
	struct server_limits limits;
	uint8_t key[ND_KEY_SIZE];
	enum nd_accept_result r;
	bool adopted;
	const struct export_config *ec;
	char err[400];
	int error = 0;

	r = nd_session_accept(&c->s, &ops, &c->hello, &c->key_kind, key);
	if (r == ND_ACCEPT_BUSY) {
		no_room(c, "told busy before the handshake");
		return false;
	}
	if (r != ND_ACCEPT_OK) {
		log_handshake_failure(c, r);
		return false;
	}
	nd_session_set_deadline(&c->s, 0);
	adopted = adopt_current_gen(c, key);
	nd_wipe(key, sizeof(key));
	if (!adopted) {
		log_msg(LOG_WARNING, &c->peer, "refused '%s': a reload removed or changed the "
			"key it authenticated with", c->hello.identity);
		send_info(c, ND_ERR_DENIED);
		return false;
	}
	cfg = &c->gen->cfg;
	limits = limits_of(cfg);
	if (!(c->hello.flags & ND_HELLO_LIST)) {
		c->admission = server_peer_promote(srv, &c->link, c->hello.identity, &limits);
		if (c->admission != SERVER_ADMIT) {
			/* others took the last places while this one authenticated */
			no_room(c, "told FULL after the handshake");
			send_info(c, ND_ERR_FULL);
			return false;
		}
	}
	if (cfg->rekey_records)
		c->s.rekey_records = cfg->rekey_records;
	/* from here the names are authenticated: log under them */
	if (c->key_kind == ND_KEY_IDENTITY) {
		strcpy(c->identity, c->hello.identity);
		c->peer.identity = c->identity;
	}
	if (c->hello.flags & ND_HELLO_LIST) {
		send_list(c);
		return false;
	}
	strcpy(c->export_name, c->hello.export_name);
	c->peer.export_name = c->export_name;

	c->exp = server_find_export(c->gen, c->export_name, &ec);
	if (!c->exp) {
		log_msg(LOG_WARNING, &c->peer, "refused: no export named '%s'",
			c->export_name);
		send_info(c, ND_ERR_NO_EXPORT);
		return false;
	}
	strcpy(c->export_name, ec->name);
	if (!grant_access(c, ec)) {
		send_info(c, ND_ERR_DENIED);
		return false;
	}
	c->backend = export_backend_get(c->exp, c->identity, &error, err, sizeof(err));
	if (!c->backend) {
		log_msg(LOG_ERR, &c->peer, "refused: %s", err);
		send_info(c, error == -EBUSY ? ND_ERR_BUSY : ND_ERR_IO);
		return false;
	}
	if (!send_info(c, ND_OK))
		return false;
	server_peer_serving(srv, &c->link, c->export_name);
	if (c->key_kind == ND_KEY_IDENTITY)
		log_msg(LOG_INFO, &c->peer, "connected to export '%s' (%s)", ec->name,
			c->read_only ? "read-only" : "read-write");
	else
		log_msg(LOG_INFO, &c->peer, "connected to export '%s' (%s) with the "
			"default key, as '%s'", ec->name,
			c->read_only ? "read-only" : "read-write", c->hello.identity);
	return true;
}

/* Everything a connection holds but its descriptor and its own memory. */
static void conn_release(struct conn *c)
{
	nd_session_free(&c->s);
	pthread_mutex_destroy(&c->recv_lock);
	pthread_mutex_destroy(&c->send_lock);
}

static void conn_free(struct conn *c)
{
	conn_release(c);
	free(c);
}

static void serve(struct conn *c)
{
	for (unsigned int i = 0; i < CONN_WORKERS - 1; i++) {
		if (pthread_create(&c->workers[i], NULL, worker_main, c)) {
			log_msg(LOG_ERR, &c->peer, "cannot start worker thread");
			break;
		}
		c->worker_count++;
	}
	worker_main(c);
	for (unsigned int i = 0; i < c->worker_count; i++)
		pthread_join(c->workers[i], NULL);
	log_msg(LOG_INFO, &c->peer,
		"disconnected after %llu requests (%llu bytes read, %llu written)",
		(unsigned long long)atomic_load(&c->link.requests),
		(unsigned long long)atomic_load(&c->link.bytes_read),
		(unsigned long long)atomic_load(&c->link.bytes_written));
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;

	if (handshake(c))
		serve(c);
	if (c->backend)
		export_backend_put(c->exp, c->backend);
	/*
	 * Before the server learns this connection ended, since the server may
	 * then be freed and the process exit: its generation, what the session
	 * holds, and libcrypto's state for this thread. The descriptor stays
	 * open until the server's list no longer names it, so that a stop never
	 * shuts down a reused number.
	 */
	server_gen_put(c->srv, c->gen);
	conn_release(c);
	nd_crypto_thread_end();
	server_peer_remove(c->srv, &c->link);
	close(c->fd);
	free(c);
	return NULL;
}

static void format_address(const struct sockaddr *sa, char *out, size_t len,
			   char host[INET6_ADDRSTRLEN])
{
	unsigned int port = 0;

	strcpy(host, "?");
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, INET6_ADDRSTRLEN);
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		/* a dual-stack socket's IPv4 client, as IPv4: one host, one name */
		bool v4 = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);

		if (v4)
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, INET6_ADDRSTRLEN);
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, host, INET6_ADDRSTRLEN);
		port = ntohs(in6->sin6_port);
		snprintf(out, len, v4 ? "%s:%u" : "[%s]:%u", host, port);
	} else {
		snprintf(out, len, "local");
	}
}

int conn_start(struct server *srv, int fd, const struct sockaddr *addr,
	       socklen_t addr_len)
{
	struct conn *c = calloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t thread;
	int one = 1;

	(void)addr_len;
	if (!c) {
		close(fd);
		return -1;
	}
	c->srv = srv;
	c->gen = server_gen_get(srv);
	c->fd = fd;
	format_address(addr, c->address, sizeof(c->address), c->link.host);
	c->link.fd = fd;
	c->peer.address = c->address;
	nd_session_init(&c->s, fd);
	pthread_mutex_init(&c->recv_lock, NULL);
	pthread_mutex_init(&c->send_lock, NULL);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	/* a client that vanished gives its place back within about a minute */
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &(int){ KEEPALIVE_IDLE_S }, sizeof(int));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &(int){ KEEPALIVE_INTERVAL_S }, sizeof(int));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &(int){ KEEPALIVE_PROBES }, sizeof(int));
	nd_set_socket_timeout(fd, SO_SNDTIMEO, CONN_SEND_TIMEOUT_S);

	if (!server_peer_add(srv, &c->link)) {
		server_gen_put(srv, c->gen);
		goto fail;
	}
	nd_session_set_deadline(&c->s, c->gen->cfg.handshake_timeout_s);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&thread, &attr, conn_main, c)) {
		pthread_attr_destroy(&attr);
		log_msg(LOG_ERR, &c->peer, "cannot start connection thread");
		server_gen_put(srv, c->gen);
		server_peer_remove(srv, &c->link);
		goto fail;
	}
	pthread_attr_destroy(&attr);
	return 0;
fail:
	close(fd);
	conn_free(c);
	return -1;
}
