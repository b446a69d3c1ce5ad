// SPDX-License-Identifier: GPL-2.0
/* Which acknowledged writes are durable, by the server's write verifier. */
#include "durability.h"

void nd_dur_init(struct nd_durability *d, u64 verifier)
{
	atomic64_set(&d->acked, 0);
	spin_lock_init(&d->lock);
	d->verifier = verifier;
	d->flushed = 0;
	d->lost = false;
}

bool nd_dur_flush_done(struct nd_durability *d, u64 covers)
{
	bool ok;

	spin_lock(&d->lock);
	if (covers > d->flushed)
		d->flushed = covers;
	ok = !d->lost;
	d->lost = false;
	spin_unlock(&d->lock);
	return ok;
}

bool nd_dur_reconnected(struct nd_durability *d, u64 verifier)
{
	u64 acked = atomic64_read(&d->acked);
	bool lost = false;

	spin_lock(&d->lock);
	if (verifier != d->verifier) {
		d->verifier = verifier;
		if (acked > d->flushed) {
			/* reported once: the writes gone now are not lost again */
			d->flushed = acked;
			d->lost = lost = true;
		}
	}
	spin_unlock(&d->lock);
	return lost;
}
