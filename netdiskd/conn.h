/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * One client connection: handshake, then a reader thread that decrypts
 * requests and a few workers that run them against the export and send
 * sealed replies in whatever order they finish.
 */
#ifndef NETDISKD_CONN_H
#define NETDISKD_CONN_H

#include <sys/socket.h>

struct server;

/* Takes ownership of fd and serves it on its own threads. */
int conn_start(struct server *srv, int fd, const struct sockaddr *addr,
	       socklen_t addr_len);

#endif
