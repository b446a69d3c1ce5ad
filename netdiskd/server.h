/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * What every connection of the daemon shares: the settings, the keys, the
 * open exports, and the list of connections with its limits.
 */
#ifndef NETDISKD_SERVER_H
#define NETDISKD_SERVER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "export.h"
#include "nd_keys.h"
#include "replay-cache.h"
#include "verifier.h"
#include <netdisk/wire.h>

/* docs/protocol.md, "Unauthenticated connections" */
enum {
	MAX_HANDSHAKES = 256,	/* unproven, not crowded: the oldest makes room */
	MAX_HANDSHAKES_PER_ADDRESS = 64,
	MAX_CROWDED = 1024,	/* from addresses that had their fill: told busy */
	MAX_PROVEN = 1024,	/* mac1 verified, fresh: never closed for room */
	MAX_PROVEN_PER_IDENTITY = 32,
	PROVEN_CLOCK_SKEW_S = 120,	/* a fresh timestamp is this close */
	REPLAY_WINDOW_S = 2 * PROVEN_CLOCK_SKEW_S + 1,
	REPLAY_SLOTS_LOG2 = 16,
};

/* A connection as the server counts it; the fields are under server.lock. */
struct server_peer {
	struct server_peer *next, *prev;	/* newest first */
	int fd;
	char host[INET6_ADDRSTRLEN];		/* the client's address, no port */
	bool authenticated;
	bool evicted;				/* told to go, to make room */
	bool crowded;				/* its address had its fill: to be told busy */
	bool proven;				/* its ClientHello was: see MAX_PROVEN */
	char identity[ND_NAME_SIZE];		/* once proven: as claimed */
	char export_name[ND_NAME_SIZE];		/* once serving: server_peer_serving() */
	struct timespec since;			/* CLOCK_MONOTONIC: when it was added */

	/* what it served: only its own threads add, without the lock */
	_Atomic uint64_t requests, in_flight, bytes_read, bytes_written;
};

/* docs/protocol.md, "Admission": what authenticated connections may number. */
struct server_limits {
	unsigned int total;			/* max-connections */
	unsigned int per_identity;		/* max-connections-per-identity */
};

enum server_admission {
	SERVER_ADMIT,
	SERVER_FULL,				/* at limits.total */
	SERVER_IDENTITY_FULL,			/* at limits.per_identity */
	SERVER_CROWDED,				/* its address has its fill of handshakes */
	SERVER_PROVEN_FULL,			/* at MAX_PROVEN or ..._PER_IDENTITY */
	SERVER_REPLAYED,			/* its ClientHello came before */
	SERVER_STOPPING,
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
	unsigned int handshake_count;	/* unproven handshakes not yet told to go */
	unsigned int crowded_count;	/* crowded ones, apart: they take no place */
	unsigned int proven_count;	/* proven handshakes, apart */
	struct replay_cache replays;	/* the proven hellos' mac1 */
	char epoch[VERIFIER_BOOT_ID_SIZE];	/* the verifiers': verifier.h */
	bool sync_failed;		/* an export's final sync failed; under lock */
	bool stopping;

	/* for netdiskctl status and the metrics file (status.h); no lock */
	struct timespec started;	/* CLOCK_MONOTONIC */
	_Atomic uint64_t admitted;	/* connections that took a place */
	_Atomic uint64_t busy;		/* told busy before, or FULL after, the handshake */
	/* what connections that ended served */
	_Atomic uint64_t ended_requests, ended_bytes_read, ended_bytes_written;
};

/* 0, or -1 out of memory. */
int server_init(struct server *srv);
/*
 * Closes the exports and frees everything; no connection may be left. True
 * if every export closed in the server's life synced in full.
 */
bool server_free(struct server *srv);

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
 * "Unauthenticated connections"). One from an address that has its fill is
 * marked crowded, to be told busy once its ClientHello came; crowded ones
 * do not count against the handshakes' limit. At either limit the oldest
 * of its kind makes room by being shut down. Fails only once the server is
 * stopping.
 */
bool server_peer_add(struct server *srv, struct server_peer *p);
/*
 * The ClientHello's mac1 verified (docs/protocol.md, "Unauthenticated
 * connections"). SERVER_REPLAYED if that mac1 came before within the
 * window. Else the handshake is proven if timestamp is fresh and a proven
 * place is free (SERVER_PROVEN_FULL if not); a stale one, or one the
 * replay cache has no room for, stays unproven and goes on. Default-key
 * holders share one per-identity bucket of proven places.
 */
enum server_admission server_peer_prove(struct server *srv, struct server_peer *p,
					const char *identity, bool default_key, uint64_t timestamp,
					const uint8_t mac1[ND_MAC1_SIZE]);
/*
 * Whether a connection of identity would find room now. The answer may be
 * out of date at once: server_peer_promote() asks again and decides.
 */
enum server_admission server_room(struct server *srv, const char *identity,
				  const struct server_limits *limits);
/* Authenticated as identity: takes a place within limits, if one is free. */
enum server_admission server_peer_promote(struct server *srv, struct server_peer *p,
					  const char *identity,
					  const struct server_limits *limits);
/* Serving export_name: from now on netdiskctl status names it. */
void server_peer_serving(struct server *srv, struct server_peer *p, const char *export_name);
void server_peer_remove(struct server *srv, struct server_peer *p);
/*
 * Refuses new connections, stops every authenticated one from reading, and
 * waits until all end: handshakes under way end within their deadline.
 */
void server_stop_peers(struct server *srv);

#endif
