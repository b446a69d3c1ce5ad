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

bool nd_dur_write_acked(struct nd_durability *d, u64 verifier)
{
	bool stale;

	atomic64_inc(&d->acked);
	smp_mb__after_atomic();		/* pairs with nd_dur_reconnected() */
	stale = READ_ONCE(d->verifier) != verifier;
	if (stale) {
		spin_lock(&d->lock);
		d->lost = true;
		spin_unlock(&d->lock);
	}
	return stale;
}

bool nd_dur_flush_done(struct nd_durability *d, u64 covers, u64 verifier)
{
	bool ok;

	spin_lock(&d->lock);
	/* a FLUSH of the server that is gone makes nothing durable now */
	if (verifier == d->verifier && covers > d->flushed)
		d->flushed = covers;
	ok = !d->lost;
	spin_unlock(&d->lock);
	return ok;
}

bool nd_dur_reconnected(struct nd_durability *d, u64 verifier)
{
	bool lost = false;
	u64 acked;

	spin_lock(&d->lock);
	if (verifier != d->verifier) {
		WRITE_ONCE(d->verifier, verifier);
		smp_mb();		/* pairs with nd_dur_write_acked() */
		acked = atomic64_read(&d->acked);
		if (acked > d->flushed) {
			d->flushed = acked;
			d->lost = lost = true;
		}
	}
	spin_unlock(&d->lock);
	return lost;
}
