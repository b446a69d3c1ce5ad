// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "replay-cache.h"

#include <stdlib.h>
#include <string.h>

/* how far a value may land from its home slot */
#define REPLAY_PROBES 32

int replay_cache_init(struct replay_cache *rc, unsigned int slots_log2)
{
	/* expires 0 is free from the first second on: see replay_cache_check */
	rc->slots = calloc((size_t)1 << slots_log2, sizeof(*rc->slots));
	rc->mask = ((size_t)1 << slots_log2) - 1;
	return rc->slots ? 0 : -1;
}

void replay_cache_free(struct replay_cache *rc)
{
	free(rc->slots);
	rc->slots = NULL;
}

enum replay_seen replay_cache_check(struct replay_cache *rc, const uint8_t mac1[ND_MAC1_SIZE],
				    time_t now, time_t window)
{
	struct replay_slot *free_slot = NULL;
	uint64_t home;

	memcpy(&home, mac1, sizeof(home));
	for (size_t i = 0; i < REPLAY_PROBES; i++) {
		struct replay_slot *s = &rc->slots[(home + i) & rc->mask];

		/* free once past, not at: a window of W seconds holds W whole ones */
		if (s->expires < now) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (!memcmp(s->mac1, mac1, ND_MAC1_SIZE))
			return REPLAY_AGAIN;
	}
	if (!free_slot)
		return REPLAY_FULL;
	memcpy(free_slot->mac1, mac1, ND_MAC1_SIZE);
	free_slot->expires = now + window;
	return REPLAY_FIRST;
}
