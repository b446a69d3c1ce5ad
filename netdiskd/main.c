// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskd: serves files and block devices to netdisk clients. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
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
#include "log.h"
#include "nd_crypto.h"
#include "server.h"

#define MAX_LISTEN_FDS 32

struct options {
	const char *config_path;
	const char *file;
	const char *export_name;
	bool read_only;
	const char *key_hex;
	const char *key_file;
	const char *port;
	const char *listen[CONFIG_MAX_LISTEN];
	size_t listen_count;
	const char *server_names[CONFIG_MAX_LISTEN];
	size_t server_name_count;
	unsigned long max_connections;
	unsigned long handshake_timeout;
	unsigned long long rekey_records;
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: netdiskd [OPTIONS]\n"
"Serve a file or block device to netdisk clients over authenticated,\n"
"encrypted TCP.\n"
"\n"
"  -f, --file=PATH           export PATH (regular file or block device)\n"
"  -n, --export-name=NAME    name of that export (default: default)\n"
"  -r, --read-only           serve --file read-only\n"
"  -c, --config=PATH         read exports and settings from PATH\n"
"                            (default: " DEFAULT_CONFIG_PATH " when no --file)\n"
"  -K, --key-file=PATH       pre-shared keys (default: " DEFAULT_KEY_FILE ")\n"
"  -k, --key=HEX             a single default key (visible in ps; avoid)\n"
"  -p, --port=PORT           port for the default listen address (default: %d)\n"
"  -l, --listen=ADDR[:PORT]  listen here, repeatable (default: [::] and 0.0.0.0)\n"
"      --server-name=NAME    a name clients may ask for, repeatable (default:\n"
"                            the host name; the address dialled always works)\n"
"      --max-connections=N   concurrent connections (default: 256)\n"
"      --handshake-timeout=S drop clients that do not finish the handshake\n"
"                            within S seconds (default: %d)\n"
"      --rekey-records=N     rotate keys every N records (testing)\n"
"  -v, --verbose             log every refused request\n"
"  -h, --help                show this help\n"
"  -V, --version             show the version\n"
"\n"
"Under systemd, listen sockets are taken from socket activation.\n",
		ND_DEFAULT_PORT, ND_HANDSHAKE_TIMEOUT_S);
}

static int parse_ulong(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || !*s || *out < 1 || *out > max ? -1 : 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "export-name", required_argument, NULL, 'n' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "key-file", required_argument, NULL, 'K' },
		{ "key", required_argument, NULL, 'k' },
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "server-name", required_argument, NULL, 'S' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "handshake-timeout", required_argument, NULL, 'T' },
		{ "rekey-records", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long n;
	int opt;

	while ((opt = getopt_long(argc, argv, "f:n:rc:K:k:p:l:vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': o->file = optarg; break;
		case 'n': o->export_name = optarg; break;
		case 'r': o->read_only = true; break;
		case 'c': o->config_path = optarg; break;
		case 'K': o->key_file = optarg; break;
		case 'k': o->key_hex = optarg; break;
		case 'p':
			if (parse_ulong(optarg, 65535, &n)) {
				fprintf(stderr, "netdiskd: --port takes 1..65535\n");
				return -1;
			}
			o->port = optarg;
			break;
		case 'l':
			if (o->listen_count == CONFIG_MAX_LISTEN) {
				fprintf(stderr, "netdiskd: too many --listen\n");
				return -1;
			}
			o->listen[o->listen_count++] = optarg;
			break;
		case 'S':
			if (o->server_name_count == CONFIG_MAX_LISTEN) {
				fprintf(stderr, "netdiskd: too many --server-name\n");
				return -1;
			}
			o->server_names[o->server_name_count++] = optarg;
			break;
		case 'M':
			if (parse_ulong(optarg, 65536, &n)) {
				fprintf(stderr, "netdiskd: --max-connections takes 1..65536\n");
				return -1;
			}
			o->max_connections = (unsigned long)n;
			break;
		case 'T':
			if (parse_ulong(optarg, 3600, &n)) {
				fprintf(stderr, "netdiskd: --handshake-timeout takes 1..3600\n");
				return -1;
			}
			o->handshake_timeout = (unsigned long)n;
			break;
		case 'R':
			if (parse_ulong(optarg, ND_REKEY_RECORDS, &n)) {
				fprintf(stderr, "netdiskd: --rekey-records takes 1..%llu\n",
					ND_REKEY_RECORDS);
				return -1;
			}
			o->rekey_records = n;
			break;
		case 'v': log_set_debug(1); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("netdiskd %s (protocol %d)\n", NETDISK_VERSION, ND_VERSION); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netdiskd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->file && (o->export_name || o->read_only)) {
		fprintf(stderr, "netdiskd: --export-name and --read-only go with --file\n");
		return -1;
	}
	return 0;
}

/* Without server-name: the host name, and its first label. */
static int default_server_names(struct server_config *cfg)
{
	char host[256], err[256];

	if (gethostname(host, sizeof(host)))
		return 0;
	host[sizeof(host) - 1] = '\0';
	if (nd_valid_server_name(host) &&
	    config_add_server_names(cfg, host, "host name", err, sizeof(err)))
		goto fail;
	if (strchr(host, '.')) {
		*strchr(host, '.') = '\0';
		if (nd_valid_server_name(host) &&
		    config_add_server_names(cfg, host, "host name", err, sizeof(err)))
			goto fail;
	}
	return 0;
fail:
	log_err("%s", err);
	return -1;
}

static int build_config(const struct options *o, struct server_config *cfg)
{
	char err[512];

	cfg->max_connections = 256;
	cfg->handshake_timeout_s = ND_HANDSHAKE_TIMEOUT_S;
	if (o->config_path || !o->file) {
		const char *path = o->config_path ? o->config_path : DEFAULT_CONFIG_PATH;

		if (config_load(cfg, path, err, sizeof(err))) {
			if (!o->config_path && !o->file && errno == ENOENT)
				log_err("no exports: give --file=PATH, or list exports in %s", path);
			else
				log_err("%s", err);
			return -1;
		}
	}
	if (o->file && config_add_export(cfg, o->export_name ? o->export_name : "default",
					 o->file, o->read_only, err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	for (size_t i = 0; i < o->listen_count; i++) {
		if (config_add_listen(cfg, o->listen[i], "--listen", err, sizeof(err))) {
			log_err("%s (config file and --listen together)", err);
			return -1;
		}
	}
	for (size_t i = 0; i < o->server_name_count; i++) {
		if (config_add_server_names(cfg, o->server_names[i], "--server-name", err,
					    sizeof(err))) {
			log_err("%s", err);
			return -1;
		}
	}
	if (!cfg->server_name_count && default_server_names(cfg))
		return -1;
	if (o->max_connections)
		cfg->max_connections = (unsigned int)o->max_connections;
	if (o->handshake_timeout)
		cfg->handshake_timeout_s = (unsigned int)o->handshake_timeout;
	cfg->rekey_records = o->rekey_records;
	return 0;
}

static int load_keys(const struct options *o, struct server *srv)
{
	char err[512];
	const char *path;

	if (o->key_hex) {
		log_warn("a key given with --key is visible to every user in ps; "
			 "prefer --key-file");
		if (nd_parse_hex_key(o->key_hex, srv->keys.default_key)) {
			log_err("--key must be 64 hex digits (make one with 'netdiskctl keygen')");
			return -1;
		}
		srv->keys.has_default = true;
		return 0;
	}
	path = o->key_file ? o->key_file :
	       srv->cfg.key_file ? srv->cfg.key_file : DEFAULT_KEY_FILE;
	if (nd_keyring_load(&srv->keys, path, false, err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

/* Splits "ADDR[:PORT]", "[V6]:PORT", "V6" into host and port strings. */
static int split_listen(const char *spec, const char *default_port, char *host,
			size_t host_len, char *port, size_t port_len)
{
	const char *colon = strrchr(spec, ':');
	size_t n;

	snprintf(port, port_len, "%s", default_port);
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || (end[1] && end[1] != ':'))
			return -1;
		n = (size_t)(end - spec - 1);
		if (end[1] == ':')
			snprintf(port, port_len, "%s", end + 2);
		spec++;
	} else if (colon && colon == strchr(spec, ':')) {
		n = (size_t)(colon - spec);
		snprintf(port, port_len, "%s", colon + 1);
	} else {
		n = strlen(spec);
	}
	if (n >= host_len || !*port)
		return -1;
	memcpy(host, spec, n);
	host[n] = '\0';
	return 0;
}

static int bind_one(const char *spec, const char *default_port, int *fds,
		    size_t *count, bool quiet)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	char host[256], port[16];
	struct addrinfo *res;
	int fd, rc, one = 1;

	if (split_listen(spec, default_port, host, sizeof(host), port, sizeof(port))) {
		log_err("bad listen address '%s' (use ADDR, ADDR:PORT or [V6]:PORT)", spec);
		return -1;
	}
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (rc) {
		log_err("bad listen address '%s': %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128))
		goto fail;
	freeaddrinfo(res);
	fds[(*count)++] = fd;
	log_info("listening on %s%s%s:%s", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", port);
	return 0;
fail:
	if (!quiet)
		log_err("cannot listen on '%s': %m", spec);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

static int open_listeners(const struct options *o, const struct server_config *cfg,
			  int *fds, size_t *count)
{
	char default_port[8];
	int n = sd_listen_fds(1);

	if (n < 0) {
		log_err("socket activation failed: %s", strerror(-n));
		return -1;
	}
	if (n > 0) {
		if (n > MAX_LISTEN_FDS) {
			log_err("too many sockets passed by systemd (%d)", n);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			int fd = SD_LISTEN_FDS_START + i;

			if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
				log_err("socket %d from systemd is not a listening stream "
					"socket (use Accept=no)", fd);
				return -1;
			}
			fds[(*count)++] = fd;
		}
		log_info("using %d listen socket(s) from systemd", n);
		return 0;
	}
	snprintf(default_port, sizeof(default_port), "%s",
		 o->port ? o->port : "26547");
	if (cfg->listen_count) {
		for (size_t i = 0; i < cfg->listen_count; i++)
			if (bind_one(cfg->listen[i], default_port, fds, count, false))
				return -1;
		return 0;
	}
	/* Default: every address, IPv6 where the host has it. */
	bind_one("[::]", default_port, fds, count, true);
	return bind_one("0.0.0.0", default_port, fds, count, false);
}

static int open_exports(struct server *srv)
{
	char err[512];

	srv->exports = calloc(srv->cfg.export_count, sizeof(*srv->exports));
	if (!srv->exports)
		return -1;
	for (size_t i = 0; i < srv->cfg.export_count; i++)
		srv->exports[i].fd = -1;
	for (size_t i = 0; i < srv->cfg.export_count; i++) {
		struct export *e = &srv->exports[i];

		if (export_open(e, &srv->cfg.exports[i], err, sizeof(err))) {
			log_err("%s", err);
			return -1;
		}
		log_info("export '%s': %s, %llu bytes, %s", e->cfg->name, e->cfg->path,
			 (unsigned long long)e->size, e->read_only ? "read-only" : "read-write");
	}
	return 0;
}

struct export *server_find_export(struct server *srv, const char *name)
{
	const struct export_config *ec = config_find_export(&srv->cfg, name);

	return ec ? &srv->exports[ec - srv->cfg.exports] : NULL;
}

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

static int run(struct server *srv, int *lfds, size_t nl, int sfd)
{
	struct pollfd pfd[MAX_LISTEN_FDS + 1];

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
	struct server srv = { 0 };
	int lfds[MAX_LISTEN_FDS];
	char last[512];
	size_t nl = 0;
	sigset_t mask;
	int sfd, ret = 1;

	log_init();
	if (parse_options(argc, argv, &o))
		return 2;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.idle, NULL);
	/* keys first: without one nothing else matters, and it says how to fix */
	if (build_config(&o, &srv.cfg) || load_keys(&o, &srv))
		goto out;
	if (!srv.cfg.export_count) {
		log_err("no exports configured: add an [export NAME] section to %s "
			"(see netdiskd.conf(5)) or give --file",
			o.config_path ? o.config_path : DEFAULT_CONFIG_PATH);
		goto out;
	}
	if (open_exports(&srv))
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
	if (open_listeners(&o, &srv.cfg, lfds, &nl))
		goto out;
	sd_notifyf(0, "READY=1\nSTATUS=Serving %zu export(s)", srv.cfg.export_count);
	if (run(&srv, lfds, nl, sfd))
		goto out;
	sd_notify(0, "STOPPING=1");
	for (size_t i = 0; i < nl; i++)
		close(lfds[i]);
	conn_stop_all(&srv);
	ret = 0;
out:
	for (size_t i = 0; srv.exports && i < srv.cfg.export_count; i++)
		export_close(&srv.exports[i]);
	if (!ret)
		log_info("stopped");
	else if (*log_last_error(last, sizeof(last)))
		/* shown by systemctl status even when the log line is late */
		sd_notifyf(0, "STATUS=Failed: %s", last);
	free(srv.exports);
	nd_keyring_free(&srv.keys);
	config_free(&srv.cfg);
	return ret;
}
