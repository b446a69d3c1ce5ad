// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "status.h"

void admin_none(struct admin *a)
{
	a->lfd = -1;
	a->path = NULL;
	for (size_t i = 0; i < ADMIN_ANSWERS; i++)
		a->answers[i] = (struct admin_answer){ .fd = -1 };
}

int admin_open(struct admin *a, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, ret;

	admin_none(a);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("admin socket %s: the name is longer than %zu bytes", path,
			sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_err("admin socket: %m");
		return -1;
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("admin socket %s: a file that is not a socket is in the way", path);
			goto fail;
		}
		/* another netdiskd's, if it answers; else one left by a dead run */
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || errno == EAGAIN) {
			log_err("admin socket %s: another netdiskd answers there", path);
			goto fail;
		}
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			log_err("admin socket: %m");
			return -1;
		}
		if (unlink(path) && errno != ENOENT) {
			log_err("admin socket %s: cannot remove the stale socket: %m", path);
			goto fail;
		}
	}
	old = umask(0117);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || listen(fd, 16)) {
		log_err("admin socket %s: %m", path);
		goto fail;
	}
	a->lfd = fd;
	a->path = path;
	return 0;
fail:
	close(fd);
	return -1;
}

static void answer_end(struct admin_answer *ans)
{
	close(ans->fd);
	free(ans->text);
	*ans = (struct admin_answer){ .fd = -1 };
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

size_t admin_poll_fds(const struct admin *a, struct pollfd *pfd, int *timeout_ms)
{
	size_t n = 0;

	if (a->lfd < 0)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = a->lfd, .events = POLLIN };
	for (size_t i = 0; i < ADMIN_ANSWERS; i++) {
		const struct admin_answer *ans = &a->answers[i];
		long left;

		if (ans->fd < 0)
			continue;
		pfd[n++] = (struct pollfd){ .fd = ans->fd, .events = POLLOUT };
		left = ADMIN_ANSWER_S * 1000L - ms_since(&ans->since);
		left = left < 0 ? 0 : left;
		if (*timeout_ms < 0 || left < *timeout_ms)
			*timeout_ms = (int)left;
	}
	return n;
}

/* Sends what the socket takes now; false once the answer is over. */
static bool answer_send(struct admin_answer *ans)
{
	while (ans->sent < ans->len) {
		ssize_t n = send(ans->fd, ans->text + ans->sent, ans->len - ans->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		ans->sent += (size_t)n;
	}
	return false;
}

static void accept_one(struct admin *a, struct server *srv)
{
	struct admin_answer *ans = NULL;
	int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	FILE *f;

	if (fd < 0) {
		/* the connection stays queued: poll would return at once, again */
		if (errno == EMFILE || errno == ENFILE)
			usleep(100 * 1000);
		return;
	}
	for (size_t i = 0; i < ADMIN_ANSWERS && !ans; i++)
		if (a->answers[i].fd < 0)
			ans = &a->answers[i];
	if (!ans) {
		/* the reader sees a closed socket with no "end": a cut answer */
		close(fd);
		return;
	}
	*ans = (struct admin_answer){ .fd = fd };
	clock_gettime(CLOCK_MONOTONIC, &ans->since);
	f = open_memstream(&ans->text, &ans->len);
	if (!f) {
		answer_end(ans);
		return;
	}
	status_format(srv, f);
	if (fclose(f) || !answer_send(ans))
		answer_end(ans);	/* a text that fclose() cut has no "end" */
}

void admin_run(struct admin *a, struct server *srv, const struct pollfd *pfd, size_t n)
{
	for (size_t k = 1; k < n; k++) {
		for (size_t i = 0; i < ADMIN_ANSWERS; i++) {
			struct admin_answer *ans = &a->answers[i];

			if (ans->fd != pfd[k].fd || !pfd[k].revents)
				continue;
			if (!answer_send(ans))
				answer_end(ans);
		}
	}
	for (size_t i = 0; i < ADMIN_ANSWERS; i++) {
		struct admin_answer *ans = &a->answers[i];

		if (ans->fd >= 0 && ms_since(&ans->since) >= ADMIN_ANSWER_S * 1000L) {
			log_warn("admin socket: a status reader took more than %d s; "
				 "its answer was cut", ADMIN_ANSWER_S);
			answer_end(ans);
		}
	}
	if (n && pfd[0].revents & POLLIN)
		accept_one(a, srv);
}

void admin_close(struct admin *a)
{
	for (size_t i = 0; i < ADMIN_ANSWERS; i++)
		if (a->answers[i].fd >= 0)
			answer_end(&a->answers[i]);
	if (a->lfd >= 0) {
		close(a->lfd);
		unlink(a->path);
	}
	admin_none(a);
}
