// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * netdiskctl status: what a running netdiskd says over its admin socket
 * (netdiskd --admin-socket; the text's format is netdiskd/status.h's),
 * as a table or as JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netdiskctl.h"

#define MAX_ANSWER (64u << 20)

/* The whole answer, NUL-terminated; dies if netdiskd cannot be asked. */
static char *ask(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 65536;
	char *text = malloc(cap);
	int fd;

	if (!text)
		die("out of memory");
	if (strlen(path) >= sizeof(sa.sun_path))
		die_status(EXIT_USAGE, "%s: the socket name is too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* a connect to a full backlog waits, as long as the send timeout */
	nd_set_socket_timeout(fd, SO_SNDTIMEO, 10);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno == EACCES || errno == EPERM)
			die_status(EXIT_AUTH, "%s: %s (root or the netdiskd group only)", path,
				   strerror(errno));
		die_status(EXIT_UNREACHABLE, "cannot reach netdiskd at %s: %s (is it running, "
			   "with --admin-socket?)", path, strerror(errno));
	}
	nd_set_socket_timeout(fd, SO_RCVTIMEO, 10);
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			if (cap >= MAX_ANSWER)
				die("netdiskd's answer is larger than %u MiB", MAX_ANSWER >> 20);
			cap *= 2;
			text = realloc(text, cap);
			if (!text)
				die("out of memory");
		}
		n = read(fd, text + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_status(EXIT_UNREACHABLE, "reading from %s: %s", path, strerror(errno));
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	if (len < 5 || strcmp(text + len - 5, "\nend\n") || !strstr(text, "\nserver "))
		die("%s: netdiskd's answer was cut off (it was out of memory, answering "
		    "too many at once, or could not send it all within 5 s)", path);
	if (strncmp(text, "netdisk-status 1\n", 17))
		die("%s: not a netdiskd status answer that this netdiskctl reads", path);
	return text;
}

/* One line's KEY=VALUE fields, split in place. */
struct fields {
	char *key[16], *value[16];
	unsigned int n;
};

static void split(char *line, struct fields *f)
{
	char *save = NULL;

	f->n = 0;
	for (char *tok = strtok_r(line, " ", &save); tok && f->n < 16;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = '\0';
		f->key[f->n] = tok;
		f->value[f->n++] = eq + 1;
	}
}

static const char *get(const struct fields *f, const char *key)
{
	for (unsigned int i = 0; i < f->n; i++)
		if (!strcmp(f->key[i], key))
			return f->value[i];
	return "?";
}

/* The fields that hold names, not counts: a client chooses its identity. */
static bool is_name(const char *key)
{
	return !strcmp(key, "address") || !strcmp(key, "state") || !strcmp(key, "identity") ||
	       !strcmp(key, "export");
}

static void print_fields_json(const struct fields *f)
{
	putchar('{');
	for (unsigned int i = 0; i < f->n; i++) {
		const char *v = f->value[i];

		printf("%s", i ? ", " : "");
		json_string(f->key[i]);
		printf(": ");
		if (is_name(f->key[i]) && !strcmp(v, "-"))
			fputs("null", stdout);
		else if (is_name(f->key[i]) || !*v || strspn(v, "0123456789") != strlen(v))
			json_string(v);
		else
			fputs(v, stdout);
	}
	putchar('}');
}

static const char *bytes(const char *v, char *out, size_t len)
{
	double b = strtod(v, NULL);
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int u = 0;

	while (b >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		b /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
	return out;
}

static const char *duration(const char *v, char *out, size_t len)
{
	unsigned long long s = strtoull(v, NULL, 10);

	if (s < 60)
		snprintf(out, len, "%llus", s);
	else if (s < 3600)
		snprintf(out, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, len, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(out, len, "%llud%02lluh", s / 86400, s / 3600 % 24);
	return out;
}

static void print_table(char *text)
{
	char *save = NULL, a[32], b[32], c[32];
	bool header = false;
	struct fields f;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "server ", 7)) {
			split(line + 7, &f);
			printf("netdiskd: up %s; %s connection(s) serving, %s in handshake; "
			       "%s admitted, %s told busy\n", duration(get(&f, "uptime"), a, sizeof(a)),
			       get(&f, "connections"), get(&f, "handshakes"), get(&f, "admitted"),
			       get(&f, "busy"));
			printf("%s requests, %s read, %s written; record buffers %s\n",
			       get(&f, "requests"), bytes(get(&f, "bytes_read"), a, sizeof(a)),
			       bytes(get(&f, "bytes_written"), b, sizeof(b)),
			       bytes(get(&f, "record_buffer_bytes"), c, sizeof(c)));
		} else if (!strncmp(line, "connection ", 11)) {
			split(line + 11, &f);
			if (!header) {
				printf("\n%-41s %-9s %-16s %-16s %8s %9s %10s %10s %10s\n",
				       "ADDRESS", "STATE", "IDENTITY", "EXPORT", "AGE", "IN-FLIGHT",
				       "REQUESTS", "READ", "WRITTEN");
				header = true;
			}
			printf("%-41s %-9s %-16s %-16s %8s %9s %10s", get(&f, "address"),
			       get(&f, "state"), get(&f, "identity"), get(&f, "export"),
			       duration(get(&f, "age"), a, sizeof(a)), get(&f, "in_flight"),
			       get(&f, "requests"));
			printf(" %10s", bytes(get(&f, "bytes_read"), a, sizeof(a)));
			printf(" %10s\n", bytes(get(&f, "bytes_written"), a, sizeof(a)));
		}
	}
}

static void print_json(char *text)
{
	char *save = NULL;
	const char *sep = "";
	struct fields f;

	printf("{\"server\": ");
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "server ", 7)) {
			split(line + 7, &f);
			print_fields_json(&f);
			printf(", \"connections\": [");
		} else if (!strncmp(line, "connection ", 11)) {
			split(line + 11, &f);
			fputs(sep, stdout);
			print_fields_json(&f);
			sep = ", ";
		}
	}
	printf("]}\n");
}

int cmd_status(const struct client_opts *o)
{
	char *text = ask(o->admin_socket ? o->admin_socket : DEFAULT_ADMIN_SOCKET);

	if (o->json)
		print_json(text);
	else
		print_table(text);
	free(text);
	return fflush(stdout) ? EXIT_IO : 0;
}
