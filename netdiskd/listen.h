/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* The listen sockets: from socket activation, or bound here. */
#ifndef NETDISKD_LISTEN_H
#define NETDISKD_LISTEN_H

#include <stddef.h>

#include "config.h"

#define LISTEN_MAX_FDS 32

/*
 * systemd's sockets if it passed any; otherwise cfg's listen addresses, or
 * every address, with port (NULL: 26547) where an address names none.
 * Fills fds (room for LISTEN_MAX_FDS) and *count; -1 after logging why.
 */
int listen_open(const struct server_config *cfg, const char *port, int *fds,
		size_t *count);

#endif
