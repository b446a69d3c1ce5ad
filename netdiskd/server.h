/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* State shared by every connection of the daemon. */
#ifndef NETDISKD_SERVER_H
#define NETDISKD_SERVER_H

#include <pthread.h>
#include <stdbool.h>

#include "config.h"
#include "export.h"
#include "nd_keys.h"

struct conn;

struct server {
	struct server_config cfg;
	struct nd_keyring keys;
	struct export *exports;		/* parallel to cfg.exports */

	pthread_mutex_t lock;
	pthread_cond_t idle;		/* signalled when live_count drops */
	struct conn *conns;		/* live connections, newest first */
	unsigned int live_count;	/* all of them */
	unsigned int conn_count;	/* authenticated ones, <= max_connections */
	unsigned int handshake_count;	/* handshaking ones not yet told to go */
	bool stopping;
};

struct export *server_find_export(struct server *srv, const char *name);

#endif
