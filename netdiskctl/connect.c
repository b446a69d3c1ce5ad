// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* The key file and the connection each remote command opens; die(); JSON strings. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "nd_keys.h"
#include "netdiskctl.h"

static void vdie(int status, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0), noreturn));

static void vdie(int status, const char *fmt, va_list ap)
{
	fputs("netdiskctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	exit(status);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(1, fmt, ap);
}

void die_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(status, fmt, ap);
}

int client_exit_status(int failure)
{
	switch (failure) {
	case ND_CLIENT_UNREACHABLE:
		return EXIT_UNREACHABLE;
	case ND_CLIENT_AUTH:
		return EXIT_AUTH;
	case ND_CLIENT_NO_EXPORT:
		return EXIT_NO_EXPORT;
	case ND_CLIENT_IO:
		return EXIT_IO;
	case ND_CLIENT_BUSY:
	case ND_CLIENT_SERVER_BUSY:
		return EXIT_BUSY;
	default:
		return 1;
	}
}

void load_key(const struct client_opts *o, uint8_t key[ND_KEY_SIZE])
{
	const char *path = o->key_file ? o->key_file : getenv("NETDISK_KEY_FILE");
	struct nd_keyring kr;
	char err[512];

	if (!path)
		path = DEFAULT_CLIENT_KEY_FILE;
	if (nd_keyring_load(&kr, path, false, err, sizeof(err)))
		die("%s", err);
	if (nd_keyring_lookup(&kr, o->identity, key) == ND_KEY_NONE)
		die("%s has no key for identity '%s'", path, o->identity);
	nd_keyring_free(&kr);
}

void say_busy(void *host, unsigned int wait_ms)
{
	static atomic_flag said = ATOMIC_FLAG_INIT;

	(void)wait_ms;
	if (!atomic_flag_test_and_set(&said))
		fprintf(stderr, "netdiskctl: %s: server busy, retrying\n", (const char *)host);
}

void client_open(struct nd_client *c, const struct nd_uri *uri,
			const struct client_opts *o, const uint8_t key[ND_KEY_SIZE])
{
	char err[512];
	int ret = nd_client_open_waiting(c, uri, o->identity,
					 o->server_name[0] ? o->server_name : NULL, key,
					 BUSY_WAIT_S, say_busy, (void *)uri->host,
					 err, sizeof(err));

	if (ret)
		die_status(client_exit_status(ret), "%s", err);
	nd_client_set_timeout(c, IO_TIMEOUT_S);
	if (o->rekey_records)
		c->s.rekey_records = o->rekey_records;
}

void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}
