// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

enum {
	MAX_HANDSHAKES = 256,
	MAX_HANDSHAKES_PER_ADDRESS = 64,
};

void server_init(struct server *srv)
{
	memset(srv, 0, sizeof(*srv));
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);
}

int server_open_exports(struct server *srv)
{
	char err[512];

	srv->exports = calloc(srv->cfg.export_count, sizeof(*srv->exports));
	if (!srv->exports)
		return -1;
	for (size_t i = 0; i < srv->cfg.export_count; i++)
		srv->exports[i].file.fd = -1;
	for (size_t i = 0; i < srv->cfg.export_count; i++) {
		struct export *e = &srv->exports[i];

		if (export_open(e, &srv->cfg.exports[i], err, sizeof(err))) {
			log_err("%s", err);
			return -1;
		}
		log_info("export '%s': %s, %llu bytes, %s", e->cfg->name, e->cfg->path,
			 (unsigned long long)e->file.b.size,
			 e->read_only ? "read-only" : e->cow ? "copy-on-write" : "read-write");
	}
	return 0;
}

struct export *server_find_export(struct server *srv, const char *name)
{
	const struct export_config *ec = config_find_export(&srv->cfg, name);

	return ec ? &srv->exports[ec - srv->cfg.exports] : NULL;
}

void server_free(struct server *srv)
{
	for (size_t i = 0; srv->exports && i < srv->cfg.export_count; i++)
		export_close(&srv->exports[i]);
	free(srv->exports);
	nd_keyring_free(&srv->keys);
	config_free(&srv->cfg);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->idle);
}

/* Closes the oldest handshake, of one address or of all; server lock held. */
static void evict_oldest_handshake(struct server *srv, const char *host)
{
	struct server_peer *oldest = NULL;

	for (struct server_peer *p = srv->peers; p; p = p->next)
		if (!p->authenticated && !p->evicted && (!host || !strcmp(p->host, host)))
			oldest = p;
	if (!oldest)
		return;
	oldest->evicted = true;
	srv->handshake_count--;
	shutdown(oldest->fd, SHUT_RDWR);
}

bool server_peer_add(struct server *srv, struct server_peer *c)
{
	unsigned int same = 0;
	bool ok;

	pthread_mutex_lock(&srv->lock);
	ok = !srv->stopping;
	if (ok) {
		for (struct server_peer *o = srv->peers; o; o = o->next)
			same += !o->authenticated && !o->evicted && !strcmp(o->host, c->host);
		if (same >= MAX_HANDSHAKES_PER_ADDRESS)
			evict_oldest_handshake(srv, c->host);
		if (srv->handshake_count >= MAX_HANDSHAKES)
			evict_oldest_handshake(srv, NULL);
		c->next = srv->peers;
		if (c->next)
			c->next->prev = c;
		srv->peers = c;
		srv->live_count++;
		srv->handshake_count++;
	}
	pthread_mutex_unlock(&srv->lock);
	return ok;
}

bool server_peer_promote(struct server *srv, struct server_peer *c)
{
	bool ok;

	pthread_mutex_lock(&srv->lock);
	ok = !srv->stopping && !c->evicted && srv->conn_count < srv->cfg.max_connections;
	if (ok) {
		c->authenticated = true;
		srv->handshake_count--;
		srv->conn_count++;
	}
	pthread_mutex_unlock(&srv->lock);
	return ok;
}

void server_peer_remove(struct server *srv, struct server_peer *c)
{
	pthread_mutex_lock(&srv->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->peers = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->authenticated)
		srv->conn_count--;
	else if (!c->evicted)
		srv->handshake_count--;
	srv->live_count--;
	pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
}

void server_stop_peers(struct server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	for (struct server_peer *p = srv->peers; p; p = p->next)
		shutdown(p->fd, SHUT_RD);
	while (srv->live_count)
		pthread_cond_wait(&srv->idle, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
}

