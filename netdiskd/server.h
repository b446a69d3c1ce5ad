/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * What every connection of the daemon shares: the settings, the keys, the
 * open exports, and the list of connections with its limits.
 */
#ifndef NETDISKD_SERVER_H
#define NETDISKD_SERVER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>

#include "config.h"
#include "export.h"
#include "nd_keys.h"

/* A connection as the server counts it; the fields are under server.lock. */
struct server_peer {
	struct server_peer *next, *prev;	/* newest first */
	int fd;
	char host[INET6_ADDRSTRLEN];		/* the client's address, no port */
	bool authenticated;
	bool evicted;				/* told to go, to make room */
};

/*
 * One generation of settings, keys and open exports. Nothing in it changes
 * once published: a reload (SIGHUP) publishes a new one. A connection holds
 * the generation it started under until it ends, so nothing it uses goes
 * away under it; exports a reload keeps are shared by both generations.
 */
struct server_gen {
	struct server_config cfg;
	struct nd_keyring keys;
	struct export **exports;	/* parallel to cfg.exports */
	unsigned int refs;		/* under server.lock */
};

struct server {
	struct server_gen *gen;		/* the current one; under lock */

	pthread_mutex_t lock;
	pthread_cond_t idle;		/* signalled when live_count drops */
	struct server_peer *peers;
	unsigned int live_count;	/* all of them */
	unsigned int conn_count;	/* authenticated ones, <= max_connections */
	unsigned int handshake_count;	/* handshaking ones not yet told to go */
	bool stopping;
};

void server_init(struct server *srv);
/* Closes the exports and frees everything; no connection may be left. */
void server_free(struct server *srv);

struct server_gen *server_gen_new(void);
/*
 * Opens gen's exports, sharing those the current generation has open
 * unchanged, and makes gen the current generation; on failure gen is freed
 * and the current one stays.
 */
int server_publish(struct server *srv, struct server_gen *gen);
/* The current generation, held until server_gen_put(). */
struct server_gen *server_gen_get(struct server *srv);
void server_gen_put(struct server *srv, struct server_gen *gen);
/* The export named name in gen, and its settings there; NULL if none. */
struct export *server_find_export(const struct server_gen *gen, const char *name,
				  const struct export_config **ec);

/*
 * A new connection, unauthenticated. Handshakes never take an authenticated
 * connection's place: they have limits of their own (docs/protocol.md,
 * "Unauthenticated connections"), where the oldest makes room by being shut
 * down. Fails only once the server is stopping.
 */
bool server_peer_add(struct server *srv, struct server_peer *p);
/* Authenticated: takes one of max_connections, if one is free. */
bool server_peer_promote(struct server *srv, struct server_peer *p,
			 unsigned int max_connections);
void server_peer_remove(struct server *srv, struct server_peer *p);
/* Refuses new connections, stops every one from reading, waits until all end. */
void server_stop_peers(struct server *srv);

#endif
