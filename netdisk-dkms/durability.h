/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The write verifier (docs/protocol.md, "Write verifier"): which writes the
 * server acknowledged, which of them a completed FLUSH covers, and whether
 * the server lost some. Once it has, every FLUSH fails with EIO until the
 * disk is detached: the data the client believes is on the disk is not,
 * and only the client's owner can decide what to do about that (e2fsck).
 *
 * Each connection keeps the verifier it was opened with. The first one
 * back with another verifier decides whether writes were lost; a reply
 * that an old connection delivers after that came from the server that
 * lost them, and an acknowledged write among such replies is lost too.
 *
 * Ordering: an ack increments acked, then reads verifier; a reconnect
 * writes verifier, then reads acked (both with a full barrier between), so
 * every ack from the old server is seen by one side or the other. lock
 * guards flushed and serializes the writers of verifier and lost.
 */
#ifndef NETDISK_DURABILITY_H
#define NETDISK_DURABILITY_H

#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct nd_durability {
	atomic64_t acked;	/* writes acknowledged, FUA ones aside */
	spinlock_t lock;
	u64 verifier;		/* the server's newest; read with READ_ONCE */
	u64 flushed;		/* acked covered by a completed FLUSH, or lost */
	bool lost;		/* sticky: every FLUSH fails */
};

void nd_dur_init(struct nd_durability *d, u64 verifier);

/*
 * A WRITE, TRIM or WRITE_ZEROES without FUA that the server acknowledged
 * on a connection opened with verifier: true when the server that sent it
 * is already known to be gone, so the write is lost.
 */
bool nd_dur_write_acked(struct nd_durability *d, u64 verifier);

/* What a FLUSH sent now covers: every write acknowledged before it. */
static inline u64 nd_dur_flush_sent(struct nd_durability *d)
{
	return atomic64_read(&d->acked);
}

/* A FLUSH completed on a connection opened with verifier: false means EIO. */
bool nd_dur_flush_done(struct nd_durability *d, u64 covers, u64 verifier);

/*
 * A connection re-established with verifier: true when the server changed
 * it while an acknowledged write had no completed FLUSH, that is, when the
 * server may have lost it.
 */
bool nd_dur_reconnected(struct nd_durability *d, u64 verifier);

#endif
