/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * The map journal of a copy-on-write overlay: a record of every write,
 * appended to the page cache before the write's data goes to the image, so
 * that netdiskd's own death (SIGKILL, a crash, the OOM killer) loses no
 * acknowledged write although the map's bits reach IDENTITY.map only at a
 * FLUSH (overlay.h says why).
 *
 * A record names one 4 KiB block and the SHA-256 of what it holds once the
 * write is done, or a range of blocks that a write made zeroes. At the next
 * open, each block joins the map if IDENTITY.img holds exactly what one of
 * its records names, so a later write to some blocks of a range leaves the
 * others' record good. Records go first, so a block that a dying netdiskd
 * was writing holds what the new record or an earlier one names. Only
 * blocks without a bit in the map file are checked: after a power loss,
 * one whose data is missing or torn fails the check and reads as before
 * the write, never as bytes nobody wrote. A write that failed leaves its
 * records: those of its blocks whose data landed join the map at the next
 * open, as any content is allowed of a range whose write failed.
 *
 * Two files, IDENTITY.jnl0 and IDENTITY.jnl1. Writes append to the current
 * one; a flush switches to the other when it takes its snapshot of the map,
 * and empties the one it switched away from once the map is synced, since
 * every record there is then covered by the map. A flush that fails empties
 * nothing, and the next records go after what its file already holds.
 *
 * A record is 64 bytes at a multiple of 64, so that it never spans a page,
 * and carries a hash of itself: a torn or stale record is skipped.
 *
 * Locking: the caller's. Appends and the switch run under overlay.lock, the
 * switch and the retire under overlay.flush_lock: appends touch only the
 * current file, the retire only the one switched away from.
 */
#ifndef NETDISKD_OVERLAY_JOURNAL_H
#define NETDISKD_OVERLAY_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_DIGEST 32
/* a journal file past this asks for a flush (16 MiB: 1 GiB of data) */
#define JOURNAL_SOFT_MAX (16u << 20)

enum journal_kind {
	JOURNAL_DATA = 1,		/* the block hashes to digest */
	JOURNAL_ZERO = 2,		/* the blocks read as zeroes */
};

struct journal_record {
	enum journal_kind kind;
	uint64_t first;			/* block */
	uint64_t count;			/* blocks: 1 for JOURNAL_DATA */
	uint8_t digest[JOURNAL_DIGEST];	/* JOURNAL_DATA only */
};

struct overlay_journal {
	int fd[2];			/* -1: not open */
	uint64_t end[2];		/* where the next record of each file goes */
	int cur;			/* the file appended to */
	uint8_t *pending;		/* records of the write in progress, encoded */
	size_t pending_len, pending_cap;
};

void journal_init(struct overlay_journal *j);
/* Opens DIR/IDENTITY.jnl0 and .jnl1, making them if missing. 0 or -errno. */
int journal_open(struct overlay_journal *j, const char *dir, const char *identity);
void journal_close(struct overlay_journal *j);

/*
 * A write's records are staged, then committed with one pwrite before the
 * write is acknowledged; journal_discard drops them after a failed write.
 */
int journal_append(struct overlay_journal *j, const struct journal_record *r);
int journal_commit(struct overlay_journal *j);
void journal_discard(struct overlay_journal *j);
/* Under the map's lock, with its snapshot: returns the file to retire. */
int journal_switch(struct overlay_journal *j);
/* Empties file which: every record in it is covered by a synced map. */
int journal_retire(struct overlay_journal *j, int which);
/* Empties both (the map covers everything, or nothing was promised). */
int journal_clear(struct overlay_journal *j);
bool journal_wants_flush(const struct overlay_journal *j);

/*
 * Calls apply(r, ctx) for every intact record in both files, in order of
 * their files. A return other than 0 from apply stops and is returned.
 */
int journal_replay(struct overlay_journal *j,
		   int (*apply)(const struct journal_record *r, void *ctx), void *ctx);

/* unlink DIR/IDENTITY.jnl0 and .jnl1; a missing one is fine */
int journal_unlink(const char *dir, const char *identity);

/* SHA-256 of len bytes: what a data record holds of its block. 0 or -EIO. */
int journal_digest(const void *p, size_t len, uint8_t out[JOURNAL_DIGEST]);

#endif
