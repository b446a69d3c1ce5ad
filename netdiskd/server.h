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
	pthread_cond_t idle;		/* signalled when conn_count drops */
	struct conn *conns;		/* live connections */
	unsigned int conn_count;
	bool stopping;
};

struct export *server_find_export(struct server *srv, const char *name);

#endif
