// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "listen.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"

/* 1..65535 in decimal digits only: getaddrinfo would wrap 99999 silently */
static bool valid_port(const char *p)
{
	unsigned long v = 0;

	if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p))
		return false;
	for (; *p; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	return v >= 1 && v <= 65535;
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
	if (!valid_port(port)) {
		log_err("bad listen address '%s': port must be 1..65535", spec);
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
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, SOMAXCONN))
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

int listen_open(const struct server_config *cfg, const char *port, int *fds,
		size_t *count)
{
	char default_port[8];
	int n = sd_listen_fds(1);

	if (n < 0) {
		log_err("socket activation failed: %s", strerror(-n));
		return -1;
	}
	if (n > 0) {
		if (n > LISTEN_MAX_FDS) {
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
		 port ? port : "26547");
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
