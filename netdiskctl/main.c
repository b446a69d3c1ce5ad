// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskctl: the userspace client of netdisk exports; options and dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdisk/netlink.h>

#include "nd_keys.h"
#include "nd_tab.h"
#include "netdiskctl.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: netdiskctl keygen\n"
"       netdiskctl info [OPTIONS] netdisk://[IDENTITY@]HOST[:PORT][/EXPORT]\n"
"       netdiskctl copy [OPTIONS] SRC DST\n"
"       netdiskctl attach [OPTIONS] netdisk://[IDENTITY@]HOST[:PORT][/EXPORT]|NAME\n"
"       netdiskctl detach netdiskN|/dev/netdisk/LINK|NAME\n"
"       netdiskctl rekey [-K PATH|--key-desc=DESC] netdiskN|/dev/netdisk/LINK|NAME\n"
"       netdiskctl list\n"
"       netdiskctl status [--json] [--socket PATH]\n"
"       netdiskctl overlay list [-c CONFIG] [--json] [EXPORT]\n"
"       netdiskctl overlay reset [-c CONFIG] EXPORT IDENTITY\n"
"       netdiskctl overlay merge [-c CONFIG] [--progress] EXPORT IDENTITY NEW-IMAGE\n"
"\n"
"NAME is a disk in " ND_TAB_PATH ", netdisktab(5).\n"
"copy transfers a whole image; one of SRC and DST is a local file or block\n"
"device, or - for standard input or output, the other a netdisk:// URI.\n"
"\n"
"  -K, --key-file=PATH    key file: a bare key, or 'identity key' lines\n"
"                         (default: $NETDISK_KEY_FILE or " DEFAULT_CLIENT_KEY_FILE ")\n"
"  -i, --identity=NAME    identity to present (default: short host name)\n"
"  -S, --server-name=NAME the name the server must answer to (default: the\n"
"                         URI's host; an address in canonical form)\n"
"  -j, --connections=N    parallel connections (copy: 4; attach: the\n"
"                         module's default, min(CPUs, 4))\n"
"      --cache-mb=N       attach: a read cache of N MiB\n"
"      --timeout=S        attach: an unanswered request reconnects after S s\n"
"                         (default: the module's timeout)\n"
"      --dead-timeout=S   attach: fail I/O after S s of reconnecting; 0: never\n"
"                         (default: the module's dead_timeout)\n"
"      --attach-timeout=S attach: try again for S s while the server is\n"
"                         unreachable or busy (default: 0; a NAME: its\n"
"                         attach-timeout, 60)\n"
"      --key-desc=DESC    attach, rekey: use the logon key DESC from the caller's\n"
"                         keyrings instead of a key file\n"
"      --table=PATH       attach, detach, rekey, list: the table NAME is looked up in\n"
"  -c, --config=PATH      overlay: netdiskd's configuration, which names the\n"
"                         exports (default: /etc/netdisk/netdiskd.conf)\n"
"  -p, --progress         copy, overlay merge: show progress (default when\n"
"                         stderr is a terminal)\n"
"      --json             info, list, overlay list, status: print JSON\n"
"      --socket=PATH      status: netdiskd's admin socket (default:\n"
"                         " DEFAULT_ADMIN_SOCKET ")\n"
"      --list             info: list the server's exports this identity may use\n"
"  -h, --help             show this help\n");
}

/* The options each command takes; any other given to it is refused. */
static const struct {
	const char *cmd;
	const char *opts;		/* getopt letters, as in main() */
} applies[] = {
	{ "keygen", "" },
	{ "list", "JT" },
	{ "status", "JU" },
	{ "overlay", "cJp" },
	{ "detach", "T" },
	{ "rekey", "KDT" },
	{ "info", "KiSJlR" },
	{ "copy", "KiSjpR" },
	{ "attach", "KiSjCDTOEW" },
};

static const char *option_name(int opt, const struct option *longopts)
{
	for (; longopts->name; longopts++)
		if (longopts->val == opt)
			return longopts->name;
	return "?";
}

/* Exits 2 when an option in given (getopt letters) does not apply to cmd. */
static void check_applies(const char *cmd, const char *given, const struct option *longopts)
{
	for (size_t i = 0; i < sizeof(applies) / sizeof(applies[0]); i++) {
		if (strcmp(applies[i].cmd, cmd))
			continue;
		for (const char *g = given; *g; g++) {
			if (strchr(applies[i].opts, *g))
				continue;
			fprintf(stderr, "netdiskctl: --%s does not apply to %s\n",
				option_name(*g, longopts), cmd);
			exit(2);
		}
		return;
	}
}

/* overlay list|reset|merge ARGS; --json goes with list, --progress with merge */
static int overlay(const struct client_opts *o, const char *given, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";

	if (!strcmp(sub, "list") && argc <= 2) {
		if (strchr(given, 'p'))
			die_status(EXIT_USAGE, "--progress does not apply to overlay list");
		return cmd_overlay_list(o, argc == 2 ? argv[1] : NULL);
	}
	if (strcmp(sub, "list") && strchr(given, 'J'))
		die_status(EXIT_USAGE, "--json does not apply to overlay %s", sub);
	if (!strcmp(sub, "reset") && argc == 3) {
		if (strchr(given, 'p'))
			die_status(EXIT_USAGE, "--progress does not apply to overlay reset");
		return cmd_overlay_reset(o, argv[1], argv[2]);
	}
	if (!strcmp(sub, "merge") && argc == 4)
		return cmd_overlay_merge(o, argv[1], argv[2], argv[3]);
	fprintf(stderr, "netdiskctl: overlay takes list [EXPORT], reset EXPORT IDENTITY, "
		"or merge EXPORT IDENTITY NEW-IMAGE\n");
	usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key-file", required_argument, NULL, 'K' },
		{ "identity", required_argument, NULL, 'i' },
		{ "server-name", required_argument, NULL, 'S' },
		{ "connections", required_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'J' },
		{ "list", no_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 'U' },
#ifdef NETDISK_TEST_HOOKS
		{ "rekey-records", required_argument, NULL, 'R' },	/* tests only */
#endif
		{ "cache-mb", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'O' },
		{ "dead-timeout", required_argument, NULL, 'E' },
		{ "attach-timeout", required_argument, NULL, 'W' },
		{ "key-desc", required_argument, NULL, 'D' },
		{ "table", required_argument, NULL, 'T' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_opts o = { 0 };
	const char *cmd;
	char given[32] = "";	/* the options given, as getopt letters */
	int opt;

	/* options may come before the command or after it: getopt permutes */
	while ((opt = getopt_long(argc, argv, "K:i:S:j:c:phV", longopts, NULL)) != -1) {
		if (opt != '?' && !strchr(given, opt) && strlen(given) + 1 < sizeof(given))
			given[strlen(given)] = (char)opt;	/* given stays NUL-ended */
		switch (opt) {
		case 'K':
			o.key_file = optarg;
			break;
		case 'i':
			if (strlen(optarg) >= ND_NAME_SIZE || !nd_valid_identity(optarg))
				die("invalid identity '%s' (1-63 of A-Z a-z 0-9 . _ : @ -)", optarg);
			strcpy(o.identity, optarg);
			break;
		case 'S':
			if (strlen(optarg) >= ND_NAME_SIZE || !nd_valid_server_name(optarg))
				die("invalid server name '%s' (1-63 of A-Z a-z 0-9 . _ : @ -)",
				    optarg);
			strcpy(o.server_name, optarg);
			break;
		case 'j':
			if (nd_parse_uint(optarg, 64, &o.connections) || !o.connections)
				die("--connections takes 1..64");
			break;
		case 'p':
			o.progress = true;
			break;
		case 'J':
			o.json = true;
			break;
		case 'l':
			o.list = true;
			break;
		case 'U':
			o.admin_socket = optarg;
			break;
#ifdef NETDISK_TEST_HOOKS
		case 'R': {
			char *end;

			o.rekey_records = strtoull(optarg, &end, 10);
			if (*end || !o.rekey_records)
				die("--rekey-records takes a positive number");
			break;
		}
#endif
		case 'C':
			if (nd_parse_uint(optarg, 1 << 20, &o.cache_mb))
				die("--cache-mb takes 0..1048576");
			break;
		case 'O':
			if (nd_parse_uint(optarg, ND_TAB_MAX_TIMEOUT_S, &o.timeout_s) || !o.timeout_s)
				die_status(EXIT_USAGE, "--timeout takes 1..%u seconds",
					   ND_TAB_MAX_TIMEOUT_S);
			break;
		case 'E':
			if (nd_parse_uint(optarg, ND_TAB_MAX_DEAD_TIMEOUT_S, &o.dead_timeout_s))
				die_status(EXIT_USAGE, "--dead-timeout takes 0..%u seconds (0: never fail)",
					   ND_TAB_MAX_DEAD_TIMEOUT_S);
			o.dead_timeout_set = true;
			break;
		case 'W':
			if (nd_parse_uint(optarg, ND_TAB_MAX_TIMEOUT_S, &o.attach_timeout_s))
				die_status(EXIT_USAGE, "--attach-timeout takes 0..%u seconds",
					   ND_TAB_MAX_TIMEOUT_S);
			o.attach_timeout_set = true;
			break;
		case 'D':
			if (strncmp(optarg, NETDISK_KEY_PREFIX, strlen(NETDISK_KEY_PREFIX)) ||
			    !optarg[strlen(NETDISK_KEY_PREFIX)])
				die("--key-desc names a logon key whose description starts with '%s', such as '%s%s'",
				    NETDISK_KEY_PREFIX, NETDISK_KEY_PREFIX,
				    strchr(optarg, ':') ? strchr(optarg, ':') + 1 : optarg);
			o.key_desc = optarg;
			break;
		case 'T':
			o.tab_path = optarg;
			break;
		case 'c':
			o.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("netdiskctl %s (protocol %d)\n", NETDISK_VERSION, ND_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	check_applies(cmd, given, longopts);
	if (!strcmp(cmd, "keygen") && optind == argc)
		return cmd_keygen();
	if (!strcmp(cmd, "list") && optind == argc)
		return cmd_list(&o);
	if (!strcmp(cmd, "status") && optind == argc)
		return cmd_status(&o);
	if (!strcmp(cmd, "overlay"))
		return overlay(&o, given, argc - optind, argv + optind);
	if (!strcmp(cmd, "detach") && optind + 1 == argc)
		return cmd_detach(&o, argv[optind]);
	if (!strcmp(cmd, "rekey") && optind + 1 == argc)
		return cmd_rekey(&o, argv[optind]);
	/* an identity in a URI (IDENTITY@HOST) counts as --identity */
	for (int i = optind; i < argc; i++) {
		struct nd_uri u;
		char err[512];

		if (!nd_is_uri(argv[i]))
			continue;
		if (nd_uri_parse(argv[i], &u, err, sizeof(err)))
			die_status(EXIT_USAGE, "%s", err);
		if (u.identity[0] && o.identity[0] && strcmp(u.identity, o.identity))
			die("%s names identity '%s', but --identity says '%s'", argv[i],
			    u.identity, o.identity);
		if (u.identity[0])
			strcpy(o.identity, u.identity);
	}
	o.identity_given = o.identity[0] != '\0';
	if (!o.identity[0] && nd_default_identity(o.identity))
		die("the host name is not a valid identity; give --identity");
	if (!strcmp(cmd, "info") && optind + 1 == argc)
		return cmd_info(&o, argv[optind]);
	if (!strcmp(cmd, "copy") && optind + 2 == argc) {
		if (!o.connections)
			o.connections = 4;
		return cmd_copy(&o, argv[optind], argv[optind + 1]);
	}
	if (!strcmp(cmd, "attach") && optind + 1 == argc)
		return cmd_attach(&o, argv[optind]);
	usage(stderr);
	return 2;
}
