/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * One client connection: handshake, then a few workers that take turns to
 * read and decrypt a request, run it against the export and send its
 * sealed reply, so replies go out in whatever order requests finish.
 */
#ifndef NETDISKD_CONN_H
#define NETDISKD_CONN_H

#include <sys/socket.h>

struct server;

/* Takes ownership of fd and serves it on its own threads. */
int conn_start(struct server *srv, int fd, const struct sockaddr *addr,
	       socklen_t addr_len);

#endif
