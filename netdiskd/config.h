/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* netdiskd's settings: command line and the config file, netdiskd.conf(5). */
#ifndef NETDISKD_CONFIG_H
#define NETDISKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netdisk/wire.h>

#define CONFIG_MAX_LISTEN 16
#define DEFAULT_CONFIG_PATH "/etc/netdisk/netdiskd.conf"
#define DEFAULT_KEY_FILE "/etc/netdisk/netdiskd.keys"
/* the name netdiskd.service loads DEFAULT_KEY_FILE under (LoadCredential=) */
#define KEYS_CREDENTIAL "netdiskd.keys"

/* A space-separated list of identities; "*" matches every identity. */
struct id_list {
	char **names;
	size_t count;
	bool any;
};

struct export_config {
	char name[ND_NAME_SIZE];
	char *path;
	bool read_only;
	char *cow_dir;			/* copy-on-write: per-identity overlays here */
	bool has_uuid;			/* uuid = was given */
	uint8_t uuid[16];		/* docs/protocol.md, "Export UUID" */
	struct id_list allow;		/* may connect */
	struct id_list allow_write;	/* may write */
};

struct server_config {
	char *listen[CONFIG_MAX_LISTEN];
	size_t listen_count;
	char **server_names;		/* names clients may ask for */
	size_t server_name_count;
	uint16_t server_ports[CONFIG_MAX_LISTEN]; /* ports too, beside the local one */
	size_t server_port_count;
	char *key_file;
	struct export_config *exports;
	size_t export_count;
	unsigned int max_connections;
	unsigned int max_connections_per_identity;
	unsigned int handshake_timeout_s;
	uint64_t rekey_records;		/* testing: rotate keys this often */
	uint64_t test_unanswered_offset; /* testing: READs here get no reply (0: off) */
	uint64_t test_empty_read_offset; /* testing: READs here get OK and no data */
	const char *boot_id_arg;	/* --boot-id, else NULL; argv's */
};

bool id_list_contains(const struct id_list *l, const char *identity);

/* Parses the text of a config file into cfg; path is used in messages. */
int config_parse(struct server_config *cfg, const char *text, const char *path,
		 char *err, size_t err_len);
int config_load(struct server_config *cfg, const char *path, char *err,
		size_t err_len);
/* Adds a listen address, at most CONFIG_MAX_LISTEN; where prefixes messages. */
int config_add_listen(struct server_config *cfg, const char *addr,
		      const char *where, char *err, size_t err_len);
/* Adds space-separated names to answer to (docs/protocol.md, "Server names"). */
int config_add_server_ports(struct server_config *cfg, const char *ports,
			    const char *where, char *err, size_t err_len);
int config_add_server_names(struct server_config *cfg, const char *names,
			    const char *where, char *err, size_t err_len);
/* Adds an export from the command line (--file and friends). */
int config_add_export(struct server_config *cfg, const char *name,
		      const char *path, bool read_only, char *err, size_t err_len);
void config_free(struct server_config *cfg);

/* Looks up an export; "" selects "default", or the only export there is. */
const struct export_config *config_find_export(const struct server_config *cfg,
					       const char *name);

#endif
