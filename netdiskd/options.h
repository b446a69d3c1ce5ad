/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* netdiskd's command line, and the settings and keys it leads to. */
#ifndef NETDISKD_OPTIONS_H
#define NETDISKD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "nd_keys.h"

/* What the command line says; unset fields are NULL or 0. */
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
	const char *server_ports[CONFIG_MAX_LISTEN];
	size_t server_port_count;
	size_t server_name_count;
	unsigned long max_connections;
	unsigned long handshake_timeout;
	unsigned long long rekey_records;
	unsigned long long test_unanswered_offset;
	unsigned long long test_empty_read_offset;
	const char *boot_id_arg;
	const char *admin_socket;	/* --admin-socket: status for netdiskctl */
	const char *metrics_file;	/* --metrics-file: Prometheus text format */
	bool check;			/* --check: print what would be served, exit */
};

/* Returns 0, or -1 after saying why on stderr (exit status 2). */
int options_parse(int argc, char **argv, struct options *o);
/* The config file, if any, with the command line over it. */
int options_build_config(const struct options *o, struct server_config *cfg);
/* From --key, --key-file, key-file or the default key file. */
int options_load_keys(const struct options *o, const struct server_config *cfg,
		      struct nd_keyring *keys);

#endif
