// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "nd_session.h"
#include "verifier.h"

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
"      --server-port=PORT    a port clients may have dialled, repeatable (the\n"
"                            local port always works; for port forwards)\n"
"      --max-connections=N   concurrent connections (default: 256)\n"
"      --handshake-timeout=S drop clients that do not finish the handshake\n"
"                            within S seconds (default: %d)\n"
"      --boot-id=ID          the host's boot id, for the write verifier\n"
"                            (default: the kernel's; netdiskd.service passes it)\n"
"      --admin-socket=PATH   answer netdiskctl status on this local socket,\n"
"                            made mode 0660 (netdiskd.service passes one)\n"
"      --metrics-file=PATH   write counters for node_exporter's textfile\n"
"                            collector here every 10 s\n"
"  -t, --check               check the configuration, the keys and the exports,\n"
"                            print what would be served, and exit (0: good)\n"
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

int options_parse(int argc, char **argv, struct options *o)
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
		{ "server-port", required_argument, NULL, 'P' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "handshake-timeout", required_argument, NULL, 'T' },
		{ "boot-id", required_argument, NULL, 'B' },
		{ "admin-socket", required_argument, NULL, 'A' },
		{ "metrics-file", required_argument, NULL, 'm' },
		{ "check", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
#ifdef NETDISK_TEST_HOOKS
		/* for the tests, so not in the help nor in packaged builds: */
		{ "rekey-records", required_argument, NULL, 'R' },
		{ "test-unanswered-offset", required_argument, NULL, 'U' },
		{ "test-empty-read-offset", required_argument, NULL, 'E' },
#endif
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long n;
	int opt;

	while ((opt = getopt_long(argc, argv, "f:n:rc:K:k:p:l:tvhV", longopts, NULL)) != -1) {
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
		case 'P':
			if (o->server_port_count == CONFIG_MAX_LISTEN) {
				fprintf(stderr, "netdiskd: too many --server-port\n");
				return -1;
			}
			o->server_ports[o->server_port_count++] = optarg;
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
#ifdef NETDISK_TEST_HOOKS
		case 'U':
			if (parse_ulong(optarg, UINT64_MAX, &n)) {
				fprintf(stderr, "netdiskd: --test-unanswered-offset takes a byte offset\n");
				return -1;
			}
			o->test_unanswered_offset = n;
			break;
		case 'E':
			if (parse_ulong(optarg, UINT64_MAX, &n)) {
				fprintf(stderr, "netdiskd: --test-empty-read-offset takes a byte offset\n");
				return -1;
			}
			o->test_empty_read_offset = n;
			break;
#endif
		case 'B':
			if (!*optarg || strlen(optarg) >= VERIFIER_BOOT_ID_SIZE) {
				fprintf(stderr, "netdiskd: --boot-id takes 1..%d characters\n",
					VERIFIER_BOOT_ID_SIZE - 1);
				return -1;
			}
			o->boot_id_arg = optarg;
			break;
		case 'A':
		case 'm':
			if (*optarg != '/') {
				fprintf(stderr, "netdiskd: --%s takes an absolute path\n",
					opt == 'A' ? "admin-socket" : "metrics-file");
				return -1;
			}
			if (opt == 'A')
				o->admin_socket = optarg;
			else
				o->metrics_file = optarg;
			break;
		case 'R':
			if (parse_ulong(optarg, ND_REKEY_RECORDS, &n)) {
				fprintf(stderr, "netdiskd: --rekey-records takes 1..%llu\n",
					ND_REKEY_RECORDS);
				return -1;
			}
			o->rekey_records = n;
			break;
		case 't': o->check = true; break;
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

int options_build_config(const struct options *o, struct server_config *cfg)
{
	char err[512];

	cfg->max_connections = 256;
	cfg->max_connections_per_identity = 16;
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
	for (size_t i = 0; i < o->server_port_count; i++) {
		if (config_add_server_ports(cfg, o->server_ports[i], "--server-port", err,
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
	cfg->test_unanswered_offset = o->test_unanswered_offset;
	cfg->test_empty_read_offset = o->test_empty_read_offset;
	cfg->boot_id_arg = o->boot_id_arg;
	return 0;
}

/*
 * The unit hands the keys over as a systemd credential (LoadCredential=), so
 * that /etc/netdisk/netdiskd.keys stays root's. systemd before 259 loads
 * credentials only at the start, so the unit's reload puts a fresh copy in
 * the runtime directory, which is empty at each start; that copy, once
 * there, is the newer. True if there is either to use.
 */
static bool credential_path(char *out, size_t len)
{
	const char *run = getenv("RUNTIME_DIRECTORY");
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	struct stat st;

	if (run && *run && !strchr(run, ':') &&
	    snprintf(out, len, "%s/" KEYS_CREDENTIAL, run) < (int)len && !lstat(out, &st))
		return true;
	return dir && *dir && snprintf(out, len, "%s/" KEYS_CREDENTIAL, dir) < (int)len;
}

static int load_credential(const char *path, struct nd_keyring *keys)
{
	char err[512];
	struct stat st;
	int missing = stat(path, &st) ? errno == ENOENT : st.st_size < 2 * ND_KEY_SIZE;

	if (missing) {
		/* missing, or too short for a key: the unit's SetCredential= stand-in */
		log_err("key file " DEFAULT_KEY_FILE " is missing (the unit loads it as "
			"credential " KEYS_CREDENTIAL "): make a key with 'netdiskctl keygen > "
			DEFAULT_KEY_FILE "' and chmod 600 it");
		return -1;
	}
	if (nd_keyring_load(keys, path, false, err, sizeof(err))) {
		log_err("%s (credential " KEYS_CREDENTIAL ", from " DEFAULT_KEY_FILE ")", err);
		return -1;
	}
	return 0;
}

int options_load_keys(const struct options *o, const struct server_config *cfg,
		      struct nd_keyring *keys)
{
	char err[512], cred[4096];
	const char *path;

	if (o->key_hex) {
		log_warn("a key given with --key is visible to every user in ps; "
			 "prefer --key-file");
		if (nd_parse_hex_key(o->key_hex, keys->default_key)) {
			log_err("--key must be 64 hex digits (make one with 'netdiskctl keygen')");
			return -1;
		}
		keys->has_default = true;
		return 0;
	}
	if (o->key_file || cfg->key_file)
		path = o->key_file ? o->key_file : cfg->key_file;
	else if (credential_path(cred, sizeof(cred)))
		return load_credential(cred, keys);
	else
		path = DEFAULT_KEY_FILE;
	if (nd_keyring_load(keys, path, false, err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}
