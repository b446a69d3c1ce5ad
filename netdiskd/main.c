// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * netdiskd: serves files and block devices to netdisk clients. The startup
 * sequence: options, settings and keys, exports, signals, listen sockets;
 * then connections until SIGTERM, reloads on SIGHUP, and a graceful stop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "admin.h"
#include "check.h"
#include "conn.h"
#include "listen.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "status.h"

/* How often --metrics-file is written anew. */
#define METRICS_INTERVAL_S 10

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

/* Frees a generation that was never published: no export is open in it. */
static void discard(struct server_gen *gen)
{
	nd_keyring_free(&gen->keys);
	config_free(&gen->cfg);
	free(gen);
}

/* Settings, keys and exports as the options and the config file say now. */
static struct server_gen *load(const struct options *o)
{
	struct server_gen *gen = server_gen_new();

	if (!gen) {
		log_err("out of memory");
		return NULL;
	}
	/* keys first: without one nothing else matters, and it says how to fix */
	if (options_build_config(o, &gen->cfg) || options_load_keys(o, &gen->cfg, &gen->keys))
		goto fail;
	if (!gen->cfg.export_count) {
		log_err("no exports configured: add an [export NAME] section to %s "
			"(see netdiskd.conf(5)) or give --file",
			o->config_path ? o->config_path : DEFAULT_CONFIG_PATH);
		goto fail;
	}
	return gen;
fail:
	discard(gen);
	return NULL;
}

static bool same_listen(const struct server_config *a, const struct server_config *b)
{
	if (a->listen_count != b->listen_count)
		return false;
	for (size_t i = 0; i < a->listen_count; i++)
		if (strcmp(a->listen[i], b->listen[i]))
			return false;
	return true;
}

/* SIGHUP: connections keep the generation they started under. */
static void reload(struct server *srv, const struct options *o)
{
	struct server_gen *gen;
	bool listen_changed;

	sd_notify(0, "RELOADING=1");
	gen = load(o);
	listen_changed = gen && !same_listen(&gen->cfg, &srv->gen->cfg);
	if (!gen) {
		/* load() said why: the file or the keys, not the exports */
		log_err("reload failed; keeping the running configuration");
		sd_notify(0, "READY=1\nSTATUS=Reload failed; serving as before");
		return;
	}
	if (server_publish(srv, gen)) {
		log_err("reload failed; keeping the running configuration (an export "
			"whose name, file or mode changed is opened anew, so its own "
			"lock refuses it: restart for such a change)");
		sd_notify(0, "READY=1\nSTATUS=Reload failed; serving as before");
		return;
	}
	if (listen_changed)
		log_warn("listen addresses changed: they take effect at the next restart");
	log_info("reloaded: %zu export(s), %zu identity key(s)%s", srv->gen->cfg.export_count,
		 srv->gen->keys.count, srv->gen->keys.has_default ? " and a default key" : "");
	sd_notifyf(0, "READY=1\nSTATUS=Serving %zu export(s)", srv->gen->cfg.export_count);
}

static long monotonic_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/*
 * Accepts connections until SIGTERM or SIGINT arrives on sfd; answers the
 * admin socket and writes the metrics file on the way.
 */
static int run(struct server *srv, const struct options *o, int *lfds, size_t nl, int sfd,
	       struct admin *admin)
{
	struct pollfd pfd[LISTEN_MAX_FDS + 1 + ADMIN_POLL_FDS];
	long metrics_due = monotonic_s();

	for (size_t i = 0; i < nl; i++)
		pfd[i] = (struct pollfd){ .fd = lfds[i], .events = POLLIN };
	pfd[nl] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		int timeout_ms = -1;
		size_t na;

		if (o->metrics_file && monotonic_s() >= metrics_due) {
			status_write_metrics(srv, o->metrics_file);
			metrics_due = monotonic_s() + METRICS_INTERVAL_S;
		}
		if (o->metrics_file) {
			long left = metrics_due - monotonic_s();

			timeout_ms = left > 0 ? (int)left * 1000 : 0;
		}
		na = admin_poll_fds(admin, pfd + nl + 1, &timeout_ms);
		if (poll(pfd, nl + 1 + na, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll failed: %m");
			return -1;
		}
		admin_run(admin, srv, pfd + nl + 1, na);
		if (pfd[nl].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				reload(srv, o);
				continue;
			}
			log_info("received %s, finishing in-flight requests",
				 strsignal((int)si.ssi_signo));
			return 0;
		}
		for (size_t i = 0; i < nl; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(srv, lfds[i]);
	}
}

/*
 * Each connection and handshake is a descriptor: a storm of clients, or a
 * flood, must meet the server's own limits (server.h), not a soft limit of
 * 1024. The hard limit is the administrator's (LimitNOFILE=).
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		log_warn("cannot raise the open-file limit: %m");
}

/* The unit's StateDirectory=, the first if several; NULL if none. */
static const char *state_directory(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("STATE_DIRECTORY");

	if (!env || !*env || strcspn(env, ":") >= sizeof(dir))
		return NULL;
	snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(env, ":"), env);
	return dir;
}

/* The verifiers' epoch for this run (verifier.h), before any export opens. */
static int start_epoch(struct server *srv, const struct server_gen *gen, const char *state_dir,
		       char boot_id[VERIFIER_BOOT_ID_SIZE])
{
	char err[PATH_MAX + 256];

	if (verifier_boot_id(gen->cfg.boot_id_arg, boot_id, err, sizeof(err))) {
		log_err("the write verifier needs the host's boot id: %s", err);
		return -1;
	}
	err[0] = '\0';
	if (verifier_epoch_begin(state_dir, boot_id, srv->epoch, err, sizeof(err))) {
		if (!err[0]) {
			log_err("no random bytes for the write verifier");
			return -1;
		}
		log_warn("%s: the verifiers of this run change at its next start", err);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	char boot_id[VERIFIER_BOOT_ID_SIZE], err[PATH_MAX + 256];
	const char *state_dir = state_directory();
	struct server_gen *gen;
	struct admin admin;
	struct server srv;
	int lfds[LISTEN_MAX_FDS];
	char last[LOG_MSG_SIZE];
	size_t nl = 0;
	sigset_t mask;
	int sfd, ret = 1;

	log_init();
	if (options_parse(argc, argv, &o))
		return 2;
	if (o.check) {
		gen = load(&o);
		if (!gen)
			return 1;
		ret = check_config(&gen->cfg, &gen->keys);
		discard(gen);
		return ret;
	}
	raise_fd_limit();
	if (server_init(&srv)) {
		log_err("out of memory");
		return 1;
	}
	gen = load(&o);
	if (!gen)
		goto out;
	if (start_epoch(&srv, gen, state_dir, boot_id)) {
		discard(gen);
		goto out;
	}
	if (server_publish(&srv, gen))
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
	if (listen_open(&srv.gen->cfg, o.port, lfds, &nl))
		goto out;
	admin_none(&admin);
	/* status is for the administrator: without it the disks are still served */
	if (o.admin_socket && admin_open(&admin, o.admin_socket))
		log_warn("serving without the admin socket: netdiskctl status will not answer");
	sd_notifyf(0, "READY=1\nSTATUS=Serving %zu export(s)", srv.gen->cfg.export_count);
	if (run(&srv, &o, lfds, nl, sfd, &admin)) {
		admin_close(&admin);
		goto out;
	}
	sd_notify(0, "STOPPING=1");
	for (size_t i = 0; i < nl; i++)
		close(lfds[i]);
	admin_close(&admin);
	server_stop_peers(&srv);
	if (o.metrics_file)
		status_write_metrics(&srv, o.metrics_file);
	ret = 0;
out:
	/* every acknowledged write is on disk: the next boot may keep the verifiers */
	if (server_free(&srv) && !ret &&
	    verifier_epoch_clean(state_dir, srv.epoch, boot_id, err, sizeof(err)))
		log_warn("%s: the next start after a reboot reports acknowledged writes "
			 "lost", err);
	if (!ret)
		log_info("stopped");
	else if (*log_last_error(last, sizeof(last)))
		/* shown by systemctl status even when the log line is late */
		sd_notifyf(0, "STATUS=Failed: %s", last);
	return ret;
}
