/* SPDX-License-Identifier: GPL-2.0 */
/* The attach options, from netlink or the module parameters. */
#ifndef _NETDISK_TARGET_H
#define _NETDISK_TARGET_H

#include <linux/socket.h>
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
	u8 key[ND_KEY_SIZE];
	unsigned int connections;
	unsigned int cache_mb;
	char name[ND_NAME_SIZE];	/* the netdisktab NAME, "" if none */
	bool identity_default;		/* none was given: the short host name */
	unsigned int timeout_s;		/* an unanswered request reconnects; >= 1 */
	unsigned int dead_timeout_s;	/* 0: never fail; ND_DEAD_TIMEOUT_MODULE */
};

/* dead_timeout_s: follow the module's dead_timeout, which may change */
#define ND_DEAD_TIMEOUT_MODULE	UINT_MAX
#define ND_MAX_TIMEOUT_S	86400		/* a day */
#define ND_MAX_DEAD_TIMEOUT_S	(365 * 86400)	/* a year; 0 is for ever */

#endif
