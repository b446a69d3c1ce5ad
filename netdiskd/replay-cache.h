/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * The mac1 of each proven ClientHello, kept for a window, so that a
 * captured hello sent again is not proven (docs/protocol.md,
 * "Unauthenticated connections"). Only hellos whose mac1 verified go in:
 * the values are MACs that only key holders can make, so they also serve
 * as the hash. The table has a fixed size; when the slots a value may take
 * are all in use, the hello is not proven, which costs it only its
 * protection against eviction. Not locked: the caller serialises.
 */
#ifndef NETDISKD_REPLAY_CACHE_H
#define NETDISKD_REPLAY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <netdisk/wire.h>

struct replay_slot {
	uint8_t mac1[ND_MAC1_SIZE];
	time_t expires;			/* free once past */
};

struct replay_cache {
	struct replay_slot *slots;
	size_t mask;			/* slots - 1, a power of two minus one */
};

/* 0, or -1 out of memory. */
int replay_cache_init(struct replay_cache *rc, unsigned int slots_log2);
void replay_cache_free(struct replay_cache *rc);
enum replay_seen {
	REPLAY_FIRST,		/* not seen: remembered until now + window */
	REPLAY_AGAIN,		/* seen within the window */
	REPLAY_FULL,		/* not seen, and no room to remember it */
};

/* now is a monotonic clock's seconds: a step of the wall clock changes nothing. */
enum replay_seen replay_cache_check(struct replay_cache *rc, const uint8_t mac1[ND_MAC1_SIZE],
				    time_t now, time_t window);

#endif
