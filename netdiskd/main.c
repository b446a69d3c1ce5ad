// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * netdiskd: serves files and block devices to netdisk clients. The startup
 * sequence: options, settings and keys, exports, signals, listen sockets;
 * then connections until SIGTERM, and a graceful stop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "conn.h"
#include "listen.h"
#include "log.h"
#include "options.h"
#include "server.h"

static void accept_one(struct server *srv, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_err("accept failed: %m");
		if (errno == EMFILE || errno == ENFILE)
			usleep(100 * 1000);
		return;
	}
	conn_start(srv, fd, (struct sockaddr *)&ss, len);
}

/* Accepts connections until SIGTERM or SIGINT arrives on sfd. */
static int run(struct server *srv, int *lfds, size_t nl, int sfd)
{
	struct pollfd pfd[LISTEN_MAX_FDS + 1];

	for (size_t i = 0; i < nl; i++)
		pfd[i] = (struct pollfd){ .fd = lfds[i], .events = POLLIN };
	pfd[nl] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, nl + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll failed: %m");
			return -1;
		}
		if (pfd[nl].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo != SIGHUP) {
				log_info("received %s, finishing in-flight requests",
					 strsignal((int)si.ssi_signo));
				return 0;
			}
		}
		for (size_t i = 0; i < nl; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(srv, lfds[i]);
	}
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct server srv;
	int lfds[LISTEN_MAX_FDS];
	char last[512];
	size_t nl = 0;
	sigset_t mask;
	int sfd, ret = 1;

	log_init();
	if (options_parse(argc, argv, &o))
		return 2;
	server_init(&srv);
	/* keys first: without one nothing else matters, and it says how to fix */
	if (options_build_config(&o, &srv.cfg) || options_load_keys(&o, &srv.cfg, &srv.keys))
		goto out;
	if (!srv.cfg.export_count) {
		log_err("no exports configured: add an [export NAME] section to %s "
			"(see netdiskd.conf(5)) or give --file",
			o.config_path ? o.config_path : DEFAULT_CONFIG_PATH);
		goto out;
	}
	if (server_open_exports(&srv))
		goto out;

	/* Signals go to the signalfd only; threads inherit the mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_err("signalfd: %m");
		goto out;
	}
	if (listen_open(&srv.cfg, o.port, lfds, &nl))
		goto out;
	sd_notifyf(0, "READY=1\nSTATUS=Serving %zu export(s)", srv.cfg.export_count);
	if (run(&srv, lfds, nl, sfd))
		goto out;
	sd_notify(0, "STOPPING=1");
	for (size_t i = 0; i < nl; i++)
		close(lfds[i]);
	server_stop_peers(&srv);
	ret = 0;
out:
	server_free(&srv);
	if (!ret)
		log_info("stopped");
	else if (*log_last_error(last, sizeof(last)))
		/* shown by systemctl status even when the log line is late */
		sd_notifyf(0, "STATUS=Failed: %s", last);
	return ret;
}
