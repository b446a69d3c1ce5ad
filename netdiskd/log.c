// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

static bool to_journal;
static int debug;
static pthread_mutex_t last_error_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[LOG_MSG_SIZE];	/* under last_error_lock */

const char *log_last_error(char *buf, size_t len)
{
	pthread_mutex_lock(&last_error_lock);
	snprintf(buf, len, "%s", last_error);
	pthread_mutex_unlock(&last_error_lock);
	return buf;
}

/* systemd sets JOURNAL_STREAM to the device:inode of the journal stream. */
void log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(2, &st))
		to_journal = st.st_dev == dev && st.st_ino == ino;
}

void log_set_debug(int on)
{
	debug = on;
}

static void add_field(struct iovec *iov, int *n, char *buf, size_t size,
		      const char *name, const char *value)
{
	if (!value || !*value)
		return;
	snprintf(buf, size, "%s=%s", name, value);
	iov[(*n)++] = (struct iovec){ buf, strlen(buf) };
}

static void log_text(int priority, const struct log_peer *peer, const char *msg);

void log_msg(int priority, const struct log_peer *peer, const char *fmt, ...)
{
	char msg[LOG_MSG_SIZE];
	va_list ap;

	if (priority == LOG_DEBUG && !debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_text(priority, peer, msg);
}

void log_limited(struct log_limit *l, int priority, const struct log_peer *peer,
		 const char *fmt, ...)
{
	struct timespec now;
	unsigned int dropped = 0;
	bool pass;
	char msg[LOG_MSG_SIZE];
	va_list ap;

	if (priority == LOG_DEBUG && !debug)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&l->lock);
	if (now.tv_sec != l->second) {
		l->second = now.tv_sec;
		l->passed = 0;
	}
	pass = l->passed < LOG_LIMIT_BURST;
	if (pass) {
		l->passed++;
		dropped = l->suppressed;
		l->suppressed = 0;
	} else {
		l->suppressed++;
	}
	pthread_mutex_unlock(&l->lock);
	if (!pass)
		return;
	if (dropped) {
		snprintf(msg, sizeof(msg), "%u similar message%s suppressed", dropped,
			 dropped == 1 ? "" : "s");
		log_text(priority, NULL, msg);
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_text(priority, peer, msg);
}

static void log_text(int priority, const struct log_peer *peer, const char *msg)
{
	static const struct log_peer none;
	int saved = errno;
	char msg_field[LOG_MSG_SIZE + sizeof("MESSAGE=")];

	if (!peer)
		peer = &none;
	if (priority <= LOG_ERR && !peer->address) {
		pthread_mutex_lock(&last_error_lock);
		snprintf(last_error, sizeof(last_error), "%s", msg);
		pthread_mutex_unlock(&last_error_lock);
	}
	if (to_journal) {
		char fields[4][160];
		struct iovec iov[6];
		int n = 0;

		iov[n++] = (struct iovec){ (char *)"SYSLOG_IDENTIFIER=netdiskd", 26 };

		snprintf(fields[0], sizeof(fields[0]), "PRIORITY=%d", priority);
		iov[n++] = (struct iovec){ fields[0], strlen(fields[0]) };
		add_field(iov, &n, fields[1], sizeof(fields[1]), "CLIENT_ADDRESS", peer->address);
		add_field(iov, &n, fields[2], sizeof(fields[2]), "CLIENT_IDENTITY", peer->identity);
		add_field(iov, &n, fields[3], sizeof(fields[3]), "EXPORT", peer->export_name);
		add_field(iov, &n, msg_field, sizeof(msg_field), "MESSAGE", msg);
		sd_journal_sendv(iov, n);
	} else if (peer->address) {
		fprintf(stderr, "netdiskd: [%s%s%s%s%s] %s\n", peer->address,
			peer->identity && *peer->identity ? " " : "",
			peer->identity ? peer->identity : "",
			peer->export_name && *peer->export_name ? "/" : "",
			peer->export_name ? peer->export_name : "", msg);
	} else {
		fprintf(stderr, "netdiskd: %s\n", msg);
	}
	errno = saved;
}
