// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskctl info: through libnetdisk's public API, as other programs use it */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <uuid/uuid.h>

#include "libnetdisk.h"
#include "netdiskctl.h"

static void print_info_json(const char *target, const struct nd_export_info *info,
			    const char *uuid)
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
	       "\"read_only\": %s, \"verifier\": \"%016llx\", \"uuid\": \"%s\", "
	       "\"features\": [",
	       (unsigned long long)info->size, info->block_size, info->max_io,
	       info->flags & ND_INFO_READ_ONLY ? "true" : "false",
	       (unsigned long long)info->verifier, uuid);
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (info->flags & features[i].flag) {
			printf("%s\"%s\"", sep, features[i].name);
			sep = ", ";
		}
	}
	printf("]}\n");
}

/* The exit status for a libnetdisk errno (netdiskctl(1), EXIT STATUS). */
static int exit_status_of(int errnum)
{
	switch (errnum) {
	case EINVAL:
		return EXIT_USAGE;
	case ECONNREFUSED:
	case ECONNRESET:
		return EXIT_UNREACHABLE;
	case EACCES:
		return EXIT_AUTH;
	case ENOENT:
		return EXIT_NO_EXPORT;
	case EBUSY:
	case EAGAIN:
		return EXIT_BUSY;
	case EIO:
		return EXIT_IO;
	default:
		return 1;
	}
}

static void die_netdisk(void) __attribute__((noreturn));
static void die_netdisk(void)
{
	die_status(exit_status_of(netdisk_get_errno()), "%s", netdisk_get_error());
}

/* A handle with the options' identity, server name and key, not connected. */
static void busy(void *opaque, const char *host, unsigned int wait_ms)
{
	(void)opaque;
	say_busy((void *)host, wait_ms);
}

static struct netdisk *handle_for(const struct client_opts *o)
{
	struct netdisk *nd = netdisk_create();
	uint8_t key[ND_KEY_SIZE];

	if (!nd)
		die_netdisk();
	load_key(o, key);
	if (netdisk_set_identity(nd, o->identity) || netdisk_set_key(nd, key) ||
	    netdisk_set_timeout(nd, IO_TIMEOUT_S) ||
	    netdisk_set_busy_callback(nd, busy, NULL) ||
	    (o->server_name[0] && netdisk_set_server_name(nd, o->server_name)))
		die_netdisk();
	nd_wipe(key, sizeof(key));
	return nd;
}

struct listing {
	bool json;
	char *text;		/* what is printed once the whole list came */
	size_t len;
	FILE *out;
	unsigned int n;
};

static int print_export(void *opaque, const char *name, uint64_t size, uint32_t flags)
{
	struct listing *l = opaque;
	bool ro = flags & NETDISK_EXPORT_READ_ONLY;

	if (l->json)
		/* export names are plain: [A-Za-z0-9._:@-] */
		fprintf(l->out, "%s{\"name\": \"%s\", \"size\": %llu, \"read_only\": %s}",
			l->n ? ", " : "", name, (unsigned long long)size, ro ? "true" : "false");
	else
		fprintf(l->out, "%-32s %16llu %s\n", name, (unsigned long long)size,
			ro ? "read-only" : "read-write");
	l->n++;
	return 0;
}

/* info --list: the exports this identity may connect to, as nbdinfo --list. */
static int list_exports(const struct client_opts *o, const char *target)
{
	struct listing l = { .json = o->json };
	struct netdisk *nd = handle_for(o);

	l.out = open_memstream(&l.text, &l.len);
	if (!l.out)
		die("out of memory");
	if (netdisk_list_exports(nd, target, print_export, &l) < 0)
		die_netdisk();
	fclose(l.out);
	if (o->json)
		printf("[%s]\n", l.text);
	else
		printf("%-32s %16s %s\n%s", "EXPORT", "SIZE", "MODE", l.text);
	free(l.text);
	netdisk_close(nd);
	return 0;
}

int cmd_info(const struct client_opts *o, const char *target)
{
	struct nd_export_info info;
	char uuid[UUID_STR_LEN];
	struct netdisk *nd;
	struct nd_uri uri;
	char err[512];
	uint32_t f;

	if (nd_uri_parse(target, &uri, err, sizeof(err)))
		die_status(EXIT_USAGE, "%s", err);
	if (o->list) {
		if (uri.export_name[0])
			die("%s: --list lists a server's exports; leave the export out of the URI",
			    target);
		return list_exports(o, target);
	}
	nd = handle_for(o);
	if (netdisk_connect_uri(nd, target))
		die_netdisk();
	info = (struct nd_export_info){
		.size = (uint64_t)netdisk_get_size(nd),
		.block_size = (uint32_t)netdisk_get_block_size(nd),
		.max_io = (uint32_t)netdisk_get_max_request(nd),
		.flags = (netdisk_is_read_only(nd) ? ND_INFO_READ_ONLY : 0) |
			 (netdisk_can_flush(nd) ? ND_INFO_FLUSH : 0) |
			 (netdisk_can_fua(nd) ? ND_INFO_FUA : 0) |
			 (netdisk_can_trim(nd) ? ND_INFO_TRIM : 0) |
			 (netdisk_can_zero(nd) ? ND_INFO_WRITE_ZEROES : 0),
	};
	if (netdisk_get_verifier(nd, &info.verifier) || netdisk_get_uuid(nd, info.uuid))
		die_netdisk();
	uuid_unparse_lower(info.uuid, uuid);
	f = info.flags;
	if (o->json) {
		print_info_json(target, &info, uuid);
		goto out;
	}
	printf("size: %llu\n", (unsigned long long)info.size);
	printf("block size: %u\n", info.block_size);
	printf("max request: %u\n", info.max_io);
	printf("read-only: %s\n", f & ND_INFO_READ_ONLY ? "yes" : "no");
	printf("features:%s%s%s%s\n", f & ND_INFO_FLUSH ? " flush" : "",
	       f & ND_INFO_FUA ? " fua" : "", f & ND_INFO_TRIM ? " trim" : "",
	       f & ND_INFO_WRITE_ZEROES ? " write-zeroes" : "");
	printf("write verifier: %016llx\n", (unsigned long long)info.verifier);
	printf("uuid: %s\n", uuid);
out:
	netdisk_close(nd);
	return 0;
}
