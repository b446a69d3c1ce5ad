// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "verifier.h"

int server_init(struct server *srv)
{
	memset(srv, 0, sizeof(*srv));
	if (replay_cache_init(&srv->replays, REPLAY_SLOTS_LOG2))
		return -1;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);
	clock_gettime(CLOCK_MONOTONIC, &srv->started);
	return 0;
}

struct server_gen *server_gen_new(void)
{
	return calloc(1, sizeof(struct server_gen));
}

/* Frees a generation no one holds; exports no other generation lists close. */
static void gen_free(struct server *srv, struct server_gen *gen)
{
	size_t n = gen->exports ? gen->cfg.export_count : 0;
	struct export **last = calloc(n ? n : 1, sizeof(*last));
	size_t closing = 0;

	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < n; i++) {
		struct export *e = gen->exports[i];

		if (e && !--e->refs) {
			if (last)
				last[closing++] = e;
			else if (export_close(e))	/* out of memory: under the lock */
				srv->sync_failed = true;
		}
	}
	pthread_mutex_unlock(&srv->lock);
	/* the final sync of an export can take long: not under the lock */
	for (size_t i = 0; i < closing; i++) {
		if (export_close(last[i])) {
			pthread_mutex_lock(&srv->lock);
			srv->sync_failed = true;
			pthread_mutex_unlock(&srv->lock);
		}
	}
	free(last);
	free(gen->exports);
	nd_keyring_free(&gen->keys);
	config_free(&gen->cfg);
	free(gen);
}

static struct export *shared_export(const struct server_gen *cur,
				    const struct export_config *ec)
{
	for (size_t i = 0; cur && i < cur->cfg.export_count; i++)
		if (export_matches(cur->exports[i], ec))
			return cur->exports[i];
	return NULL;
}

/* Only the main thread publishes: srv->gen changes nowhere else. */
int server_publish(struct server *srv, struct server_gen *gen)
{
	struct server_gen *cur = srv->gen;
	char err[EXPORT_ERROR_SIZE];

	gen->exports = calloc(gen->cfg.export_count ? gen->cfg.export_count : 1,
			      sizeof(*gen->exports));
	if (!gen->exports) {
		log_err("out of memory");
		goto fail;
	}
	for (size_t i = 0; i < gen->cfg.export_count; i++) {
		const struct export_config *ec = &gen->cfg.exports[i];
		struct export *e = shared_export(cur, ec);

		if (e) {
			if (ec->has_uuid && memcmp(ec->uuid, e->uuid, sizeof(e->uuid)))
				log_warn("export '%s': its new uuid takes effect at a restart; "
					 "clients get the one it has until then", e->name);
			pthread_mutex_lock(&srv->lock);
			e->refs++;
			pthread_mutex_unlock(&srv->lock);
			gen->exports[i] = e;
			continue;
		}
		e = export_open(ec, srv->epoch, err, sizeof(err));
		if (!e) {
			log_err("%s", err);
			goto fail;
		}
		e->refs = 1;
		gen->exports[i] = e;
		log_info("export '%s': %s, %llu bytes, %s", e->name, e->path,
			 (unsigned long long)e->file.b.size,
			 e->read_only ? "read-only" : e->cow ? "copy-on-write" : "read-write");
	}
	for (size_t i = 0; i < gen->cfg.export_count; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct export *a = gen->exports[j], *b = gen->exports[i];

			if (!memcmp(a->uuid, b->uuid, sizeof(a->uuid))) {
				log_err("export '%s' has the UUID of export '%s': give one of "
					"them another uuid=", b->name, a->name);
				goto fail;
			}
		}
	}
	gen->refs = 1;
	pthread_mutex_lock(&srv->lock);
	srv->gen = gen;
	pthread_mutex_unlock(&srv->lock);
	if (cur)
		server_gen_put(srv, cur);
	return 0;
fail:
	gen_free(srv, gen);
	return -1;
}

struct server_gen *server_gen_get(struct server *srv)
{
	struct server_gen *gen;

	pthread_mutex_lock(&srv->lock);
	gen = srv->gen;
	gen->refs++;
	pthread_mutex_unlock(&srv->lock);
	return gen;
}

void server_gen_put(struct server *srv, struct server_gen *gen)
{
	bool last;

	pthread_mutex_lock(&srv->lock);
	last = !--gen->refs;
	pthread_mutex_unlock(&srv->lock);
	if (last)
		gen_free(srv, gen);
}

struct export *server_find_export(const struct server_gen *gen, const char *name,
				  const struct export_config **ec)
{
	*ec = config_find_export(&gen->cfg, name);
	return *ec ? gen->exports[*ec - gen->cfg.exports] : NULL;
}

bool server_free(struct server *srv)
{
	bool synced;

	if (srv->gen)
		server_gen_put(srv, srv->gen);
	synced = !srv->sync_failed;
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->idle);
	replay_cache_free(&srv->replays);
	return synced;
}

/* Closes the oldest unproven handshake, crowded or not; server lock held. */
static void evict_oldest_handshake(struct server *srv, bool crowded)
{
	struct server_peer *oldest = NULL;

	for (struct server_peer *p = srv->peers; p; p = p->next)
		if (!p->authenticated && !p->proven && !p->evicted && p->crowded == crowded)
			oldest = p;
	if (!oldest)
		return;
	oldest->evicted = true;
	if (crowded)
		srv->crowded_count--;
	else
		srv->handshake_count--;
	shutdown(oldest->fd, SHUT_RDWR);
}

bool server_peer_add(struct server *srv, struct server_peer *c)
{
	unsigned int same = 0;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &c->since);
	pthread_mutex_lock(&srv->lock);
	ok = !srv->stopping;
	if (ok) {
		for (struct server_peer *o = srv->peers; o; o = o->next)
			same += !o->authenticated && !o->proven && !o->evicted && !o->crowded &&
				!strcmp(o->host, c->host);
		c->crowded = same >= MAX_HANDSHAKES_PER_ADDRESS;
		if (c->crowded && srv->crowded_count >= MAX_CROWDED)
			evict_oldest_handshake(srv, true);
		else if (!c->crowded && srv->handshake_count >= MAX_HANDSHAKES)
			evict_oldest_handshake(srv, false);
		c->next = srv->peers;
		if (c->next)
			c->next->prev = c;
		srv->peers = c;
		srv->live_count++;
		if (c->crowded)
			srv->crowded_count++;
		else
			srv->handshake_count++;
	}
	pthread_mutex_unlock(&srv->lock);
	return ok;
}

/* Server lock held. */
static enum server_admission room(const struct server *srv, const char *identity,
				  const struct server_limits *limits)
{
	unsigned int same = 0;

	if (srv->stopping)
		return SERVER_STOPPING;
	if (srv->conn_count >= limits->total)
		return SERVER_FULL;
	for (const struct server_peer *p = srv->peers; p && same < limits->per_identity;
	     p = p->next)
		same += p->authenticated && !strcmp(p->identity, identity);
	return same < limits->per_identity ? SERVER_ADMIT : SERVER_IDENTITY_FULL;
}

enum server_admission server_room(struct server *srv, const char *identity,
				  const struct server_limits *limits)
{
	enum server_admission a;

	pthread_mutex_lock(&srv->lock);
	a = room(srv, identity, limits);
	pthread_mutex_unlock(&srv->lock);
	return a;
}

static struct log_limit skewed_clocks = LOG_LIMIT_INIT;

enum server_admission server_peer_prove(struct server *srv, struct server_peer *c,
					const char *identity, bool default_key, uint64_t timestamp,
					const uint8_t mac1[ND_MAC1_SIZE])
{
	struct timespec mono;
	int64_t skew = (int64_t)(timestamp - (uint64_t)time(NULL));
	bool fresh = skew <= PROVEN_CLOCK_SKEW_S && skew >= -PROVEN_CLOCK_SKEW_S;
	/* the default key's holders can name any identity: one bucket for all */
	const char *bucket = default_key ? "" : identity;
	enum server_admission a = SERVER_ADMIT;
	enum replay_seen seen;
	unsigned int same = 0;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	pthread_mutex_lock(&srv->lock);
	for (const struct server_peer *p = srv->peers; p; p = p->next)
		same += p->proven && !p->authenticated && !strcmp(p->identity, bucket);
	if (c->evicted)
		a = SERVER_STOPPING;
	else if (c->crowded)	/* told busy before its key was looked at */
		a = SERVER_CROWDED;
	else if ((seen = replay_cache_check(&srv->replays, mac1, mono.tv_sec,
					    REPLAY_WINDOW_S)) == REPLAY_AGAIN)
		a = SERVER_REPLAYED;
	/* stale, or no room to remember it: unproven, and it goes on */
	else if (!fresh || seen == REPLAY_FULL)
		a = SERVER_ADMIT;
	else if (srv->proven_count >= MAX_PROVEN || same >= MAX_PROVEN_PER_IDENTITY)
		a = SERVER_PROVEN_FULL;
	else {
		snprintf(c->identity, sizeof(c->identity), "%s", bucket);
		c->proven = true;
		srv->handshake_count--;
		srv->proven_count++;
	}
	pthread_mutex_unlock(&srv->lock);
	if (!fresh && a == SERVER_ADMIT)
		log_limited(&skewed_clocks, LOG_NOTICE, NULL, "a client's clock is %lld s off "
			    "(identity '%s'): a flood can crowd out its handshake",
			    (long long)skew, identity);
	return a;
}

enum server_admission server_peer_promote(struct server *srv, struct server_peer *c,
					  const char *identity,
					  const struct server_limits *limits)
{
	enum server_admission a;

	pthread_mutex_lock(&srv->lock);
	a = c->evicted ? SERVER_STOPPING : c->crowded ? SERVER_CROWDED :
	    room(srv, identity, limits);
	if (a == SERVER_ADMIT) {
		snprintf(c->identity, sizeof(c->identity), "%s", identity);
		c->authenticated = true;
		if (c->proven)
			srv->proven_count--;
		else
			srv->handshake_count--;
		srv->conn_count++;
		atomic_fetch_add(&srv->admitted, 1);
	}
	pthread_mutex_unlock(&srv->lock);
	return a;
}

void server_peer_serving(struct server *srv, struct server_peer *c, const char *export_name)
{
	pthread_mutex_lock(&srv->lock);
	snprintf(c->export_name, sizeof(c->export_name), "%s", export_name);
	pthread_mutex_unlock(&srv->lock);
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
	else if (c->proven)
		srv->proven_count--;
	else if (!c->evicted && c->crowded)
		srv->crowded_count--;
	else if (!c->evicted)
		srv->handshake_count--;
	srv->live_count--;
	atomic_fetch_add(&srv->ended_requests, atomic_load(&c->requests));
	atomic_fetch_add(&srv->ended_bytes_read, atomic_load(&c->bytes_read));
	atomic_fetch_add(&srv->ended_bytes_written, atomic_load(&c->bytes_written));
	pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
}

void server_stop_peers(struct server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	/*
	 * A handshake under way finishes, within its deadline, and is told
	 * FULL (or busy): shut down now, its client would read that as a
	 * rejected key.
	 */
	for (struct server_peer *p = srv->peers; p; p = p->next)
		if (p->authenticated)
			shutdown(p->fd, SHUT_RD);
	while (srv->live_count)
		pthread_cond_wait(&srv->idle, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
}

