/* SPDX-License-Identifier: GPL-2.0 */
/* The attach options, from netlink or the module parameters. */
#ifndef _NETDISK_TARGET_H
#define _NETDISK_TARGET_H

#include <linux/seqlock.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/types.h>

#include <netdisk/wire.h>

/* What a user asks for when attaching a disk. */
struct nd_target {
	char host[64];			/* as given: IPv4 or IPv6 literal */
	struct sockaddr_storage addr;
	u16 port;
	char export_name[ND_NAME_SIZE];
	char identity[ND_NAME_SIZE];
	char server_name[ND_NAME_SIZE];	/* the name the server must answer to */
	/*
	 * Once attached, a rekey replaces key while handshakes read it: each
	 * reader copies it with nd_target_key(), under key_seq.
	 */
	seqlock_t key_seq;
	u8 key[ND_KEY_SIZE];
	unsigned int connections;
	unsigned int cache_mb;
	char name[ND_NAME_SIZE];	/* the netdisktab NAME, "" if none */
	bool identity_default;		/* none was given: the short host name */
	unsigned int timeout_s;		/* an unanswered request reconnects; >= 1 */
	unsigned int dead_timeout_s;	/* 0: never fail; ND_DEAD_TIMEOUT_MODULE */
};

static inline void nd_target_key(const struct nd_target *t, u8 out[ND_KEY_SIZE])
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&t->key_seq);
		memcpy(out, t->key, ND_KEY_SIZE);
	} while (read_seqretry(&t->key_seq, seq));
}

static inline void nd_target_set_key(struct nd_target *t, const u8 key[ND_KEY_SIZE])
{
	write_seqlock(&t->key_seq);
	memcpy(t->key, key, ND_KEY_SIZE);
	write_sequnlock(&t->key_seq);
}

/* dead_timeout_s: follow the module's dead_timeout, which may change */
#define ND_DEAD_TIMEOUT_MODULE	UINT_MAX
#define ND_MAX_TIMEOUT_S	86400		/* a day */
#define ND_MAX_DEAD_TIMEOUT_S	(365 * 86400)	/* a year; 0 is for ever */

#endif
