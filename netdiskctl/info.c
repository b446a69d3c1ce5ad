// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskctl info */
#include <stdio.h>
#include <stdlib.h>

#include "netdiskctl.h"

/* A JSON string: the names here are plain, but a URI is the user's text. */
static void json_string(const char *s)
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

static void print_info_json(const char *target, const struct nd_export_info *info)
{
	static const struct { uint32_t flag; const char *name; } features[] = {
		{ ND_INFO_FLUSH, "flush" },
		{ ND_INFO_FUA, "fua" },
		{ ND_INFO_TRIM, "trim" },
		{ ND_INFO_WRITE_ZEROES, "write-zeroes" },
	};
	const char *sep = "";

	printf("{\"uri\": ");
	json_string(target);
	printf(", \"size\": %llu, \"block_size\": %u, \"max_request\": %u, "
	       "\"read_only\": %s, \"verifier\": \"%016llx\", \"features\": [",
	       (unsigned long long)info->size, info->block_size, info->max_io,
	       info->flags & ND_INFO_READ_ONLY ? "true" : "false",
	       (unsigned long long)info->verifier);
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (info->flags & features[i].flag) {
			printf("%s\"%s\"", sep, features[i].name);
			sep = ", ";
		}
	}
	printf("]}\n");
}

/* info --list: the exports this identity may connect to, as nbdinfo --list. */
static int list_exports(const struct client_opts *o, const struct nd_uri *uri,
			const char *target, const uint8_t key[ND_KEY_SIZE])
{
	struct nd_export_entry *list;
	size_t n;
	char err[512];
	int ret;

	if (uri->export_name[0])
		die("%s: --list lists a server's exports; leave the export out of the URI",
		    target);
	ret = nd_client_list(uri, o->identity, o->server_name[0] ? o->server_name : NULL,
			     key, &list, &n, err, sizeof(err));
	if (ret)
		die_status(client_exit_status(ret), "%s", err);
	if (o->json)
		printf("[");
	else
		printf("%-32s %16s %s\n", "EXPORT", "SIZE", "MODE");
	for (size_t i = 0; i < n; i++) {
		bool ro = list[i].flags & ND_INFO_READ_ONLY;

		if (o->json)
			/* export names are plain: [A-Za-z0-9._:@-] */
			printf("%s{\"name\": \"%s\", \"size\": %llu, \"read_only\": %s}",
			       i ? ", " : "", list[i].name, (unsigned long long)list[i].size,
			       ro ? "true" : "false");
		else
			printf("%-32s %16llu %s\n", list[i].name,
			       (unsigned long long)list[i].size, ro ? "read-only" : "read-write");
	}
	if (o->json)
		printf("]\n");
	free(list);
	return 0;
}

int cmd_info(const struct client_opts *o, const char *target)
{
	uint8_t key[ND_KEY_SIZE];
	struct nd_client c;
	struct nd_uri uri;
	char err[512];
	uint32_t f;

	if (nd_uri_parse(target, &uri, err, sizeof(err)))
		die_status(EXIT_USAGE, "%s", err);
	load_key(o, key);
	if (o->list) {
		int ret = list_exports(o, &uri, target, key);

		nd_wipe(key, sizeof(key));
		return ret;
	}
	client_open(&c, &uri, o, key);
	f = c.info.flags;
	if (o->json) {
		print_info_json(target, &c.info);
		goto out;
	}
	printf("size: %llu\n", (unsigned long long)c.info.size);
	printf("block size: %u\n", c.info.block_size);
	printf("max request: %u\n", c.info.max_io);
	printf("read-only: %s\n", f & ND_INFO_READ_ONLY ? "yes" : "no");
	printf("features:%s%s%s%s\n", f & ND_INFO_FLUSH ? " flush" : "",
	       f & ND_INFO_FUA ? " fua" : "", f & ND_INFO_TRIM ? " trim" : "",
	       f & ND_INFO_WRITE_ZEROES ? " write-zeroes" : "");
	printf("write verifier: %016llx\n", (unsigned long long)c.info.verifier);
out:
	nd_client_close(&c);
	nd_wipe(key, sizeof(key));
	return 0;
}
