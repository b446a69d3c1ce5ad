/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * The admin socket (--admin-socket): a local stream socket on which each
 * connection is handed the status text once (status.h) and closed; it
 * reads nothing from the client. Who may connect is the socket file's
 * business: it is made mode 0660, so its owner and group (root, and the
 * netdiskd group under the packaged unit) may; netdiskd(8), "STATUS".
 *
 * It runs in the accept loop's poll and never blocks it: an answer goes out
 * as the reader takes it, and one not taken within ADMIN_ANSWER_S seconds
 * is dropped, as are connections beyond ADMIN_ANSWERS at once.
 */
#ifndef NETDISKD_ADMIN_H
#define NETDISKD_ADMIN_H

#include <poll.h>
#include <stddef.h>
#include <time.h>

#include "server.h"

enum {
	ADMIN_ANSWERS = 4,
	ADMIN_ANSWER_S = 5,
	ADMIN_POLL_FDS = 1 + ADMIN_ANSWERS,
};

struct admin_answer {
	int fd;				/* -1: a free slot */
	char *text;
	size_t len, sent;
	struct timespec since;		/* CLOCK_MONOTONIC */
};

struct admin {
	int lfd;			/* -1: no admin socket */
	const char *path;
	struct admin_answer answers[ADMIN_ANSWERS];
};

/*
 * Listens on path, replacing a socket left there by a run that is gone
 * (never a live one, nor another kind of file); path stays the caller's.
 * 0, or -1 after logging why, with no admin socket.
 */
int admin_open(struct admin *a, const char *path);
/* No admin socket: admin_poll_fds() gives nothing to poll. */
void admin_none(struct admin *a);
/*
 * The descriptors to poll, at most ADMIN_POLL_FDS, into pfd; *timeout_ms
 * is lowered so that a stalled answer is dropped on time.
 */
size_t admin_poll_fds(const struct admin *a, struct pollfd *pfd, int *timeout_ms);
/* After poll, with the pfd that admin_poll_fds() filled: accepts, sends, drops. */
void admin_run(struct admin *a, struct server *srv, const struct pollfd *pfd, size_t n);
/* Closes everything and removes the socket file. */
void admin_close(struct admin *a);

#endif
