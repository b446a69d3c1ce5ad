/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The write verifier (docs/protocol.md, "Write verifier"): which writes the
 * server acknowledged, which of them a completed FLUSH covers, and whether
 * a reconnect found a server that lost some. Such a loss fails the next
 * FLUSH, once, as a disk's FLUSH fails after it lost its write cache.
 *
 * acked only grows. lock guards verifier, flushed and lost; it is taken at
 * a FLUSH's completion and at a reconnect, never per write.
 */
#ifndef NETDISK_DURABILITY_H
#define NETDISK_DURABILITY_H

#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct nd_durability {
	atomic64_t acked;	/* writes acknowledged, FUA ones aside */
	spinlock_t lock;
	u64 verifier;		/* the server's, as last seen */
	u64 flushed;		/* acked covered by a completed FLUSH, or reported */
	bool lost;		/* the next completed FLUSH fails */
};

void nd_dur_init(struct nd_durability *d, u64 verifier);

/* A WRITE, TRIM or WRITE_ZEROES without FUA that the server acknowledged. */
static inline void nd_dur_write_acked(struct nd_durability *d)
{
	atomic64_inc(&d->acked);
}

/* What a FLUSH sent now covers: every write acknowledged before it. */
static inline u64 nd_dur_flush_sent(struct nd_durability *d)
{
	return atomic64_read(&d->acked);
}

/* A FLUSH the server completed: false when it must fail with EIO. */
bool nd_dur_flush_done(struct nd_durability *d, u64 covers);

/*
 * The verifier of a connection that was just re-established: true when
 * the server changed it while some acknowledged write had no completed
 * FLUSH, that is, when the server may have lost it.
 */
bool nd_dur_reconnected(struct nd_durability *d, u64 verifier);

#endif
