/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * Logging: structured journal entries when stderr is connected to journald,
 * plain lines on stderr otherwise. Preserves errno.
 */
#ifndef NETDISKD_LOG_H
#define NETDISKD_LOG_H

#include <syslog.h>

/* Who a message is about; any field may be NULL. */
struct log_peer {
	const char *address;
	const char *identity;
	const char *export_name;
};

void log_init(void);
void log_set_debug(int on);
/* The last error logged, for sd_notify's STATUS= when startup fails. */
const char *log_last_error(void);
void log_msg(int priority, const struct log_peer *peer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)	log_msg(LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, NULL, __VA_ARGS__)

#endif
