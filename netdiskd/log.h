/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * Logging: structured journal entries when stderr is connected to journald,
 * plain lines on stderr otherwise. Preserves errno.
 */
#ifndef NETDISKD_LOG_H
#define NETDISKD_LOG_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <syslog.h>
#include <time.h>

/* Who a message is about; any field may be NULL. */
struct log_peer {
	const char *address;
	const char *identity;
	const char *export_name;
};

void log_init(void);
void log_set_debug(int on);
/* A copy of the last error logged, for sd_notify's STATUS= when startup fails. */
const char *log_last_error(char *buf, size_t len);
void log_msg(int priority, const struct log_peer *peer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A rate limit for messages that clients can cause at will: at most
 * LOG_LIMIT_BURST per second; the next one to pass says how many were
 * dropped.
 */
/* Room for a message whole: a path of up to PATH_MAX bytes and a hint. */
#define LOG_MSG_SIZE (PATH_MAX + 1536)

#define LOG_LIMIT_BURST 10
struct log_limit {
	pthread_mutex_t lock;
	time_t second;
	unsigned int passed, suppressed;
};
#define LOG_LIMIT_INIT { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0 }

void log_limited(struct log_limit *l, int priority, const struct log_peer *peer,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_err(...)	log_msg(LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, NULL, __VA_ARGS__)

#endif
