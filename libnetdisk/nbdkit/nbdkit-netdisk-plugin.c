/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nbdkit-netdisk-plugin: serves a netdisk export over NBD, through
 * libnetdisk (nbdkit-netdisk-plugin(1)).
 *
 * Copyright (C) 2026 netdisk developers
 *
 * Redistribution and use in source and binary forms, with or without
 * modification, are permitted provided that the following conditions are
 * met:
 *
 * * Redistributions of source code must retain the above copyright
 * notice, this list of conditions and the following disclaimer.
 *
 * * Redistributions in binary form must reproduce the above copyright
 * notice, this list of conditions and the following disclaimer in the
 * documentation and/or other materials provided with the distribution.
 *
 * * Neither the name of the copyright holders nor the names of their
 * contributors may be used to endorse or promote products derived from
 * this software without specific prior written permission.
 *
 * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS ``AS
 * IS'' AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED
 * TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A
 * PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
 * HOLDERS OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
 * SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED
 * TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR
 * PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF
 * LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
 * NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
 * SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
 */

/*
 * Each NBD connection is one libnetdisk handle, so one netdisk connection.
 * Requests on a connection are serialised; several connections run side by
 * side, and multi-conn is safe because a netdisk FLUSH covers the writes
 * acknowledged on every connection to the export (docs/protocol.md).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "libnetdisk.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_SERIALIZE_REQUESTS
#define DEFAULT_KEY_FILE "/etc/netdisk/netdisk.key"
#define DEFAULT_TIMEOUT_S 120

static char *uri;
static char *key_file;		/* absolute: nbdkit may change directory */
static char *identity;
static char *server_name;
static unsigned int timeout = DEFAULT_TIMEOUT_S;

static void netdisk_unload(void)
{
	free(uri);
	free(key_file);
	free(identity);
	free(server_name);
}

static int set_string(char **dst, const char *key, const char *value)
{
	if (*dst) {
		nbdkit_error("%s= given twice", key);
		return -1;
	}
	*dst = strdup(value);
	if (!*dst) {
		nbdkit_error("strdup: %m");
		return -1;
	}
	return 0;
}

static int netdisk_config(const char *key, const char *value)
{
	if (!strcmp(key, "uri"))
		return set_string(&uri, key, value);
	if (!strcmp(key, "identity"))
		return set_string(&identity, key, value);
	if (!strcmp(key, "server-name"))
		return set_string(&server_name, key, value);
	if (!strcmp(key, "timeout"))
		return nbdkit_parse_unsigned("timeout", value, &timeout);
	if (!strcmp(key, "key-file")) {
		if (key_file) {
			nbdkit_error("key-file= given twice");
			return -1;
		}
		key_file = nbdkit_realpath(value);
		return key_file ? 0 : -1;
	}
	nbdkit_error("unknown parameter '%s' (see nbdkit-netdisk-plugin(1))", key);
	return -1;
}

static int netdisk_config_complete(void)
{
	const char *env = getenv("NETDISK_KEY_FILE");

	if (!uri) {
		nbdkit_error("uri=netdisk://[IDENTITY@]HOST[:PORT][/EXPORT] is required");
		return -1;
	}
	if (!key_file) {
		key_file = strdup(env ? env : DEFAULT_KEY_FILE);
		if (!key_file) {
			nbdkit_error("strdup: %m");
			return -1;
		}
	}
	return 0;
}

#define netdisk_config_help \
	"uri=netdisk://[IDENTITY@]HOST[:PORT][/EXPORT]  (required) the export\n" \
	"key-file=PATH       key file (default: $NETDISK_KEY_FILE, " DEFAULT_KEY_FILE ")\n" \
	"identity=NAME       identity to present (default: short host name)\n" \
	"server-name=NAME    name the server must answer to (default: the host)\n" \
	"timeout=SECONDS     fail a request silent this long (default: 120; 0: never)"

/* libnetdisk's error, as nbdkit reports it and as the NBD client's errno */
static void report(const char *what)
{
	int e = netdisk_get_errno();
	const char *msg = netdisk_get_error();

	nbdkit_error("%s: %s", what, msg ? msg : "failed");
	nbdkit_set_error(e ? e : EIO);
}

static void *netdisk_open(int readonly)
{
	struct netdisk *nd = netdisk_create();

	(void)readonly;		/* nbdkit refuses writes itself; the key decides */
	if (!nd) {
		report("netdisk_create");
		return NULL;
	}
	if (netdisk_set_key_file(nd, key_file) ||
	    (identity && netdisk_set_identity(nd, identity)) ||
	    (server_name && netdisk_set_server_name(nd, server_name)) ||
	    netdisk_set_timeout(nd, timeout) || netdisk_connect_uri(nd, uri)) {
		report(uri);
		netdisk_close(nd);
		return NULL;
	}
	nbdkit_debug("netdisk: connected to %s, %lld bytes", uri,
		     (long long)netdisk_get_size(nd));
	return nd;
}

static void netdisk_nbd_close(void *handle)
{
	netdisk_close(handle);
}

static int64_t netdisk_nbd_get_size(void *handle)
{
	int64_t size = netdisk_get_size(handle);

	if (size < 0)
		report("get_size");
	return size;
}

static int netdisk_block_size(void *handle, uint32_t *minimum, uint32_t *preferred,
			      uint32_t *maximum)
{
	int64_t bs = netdisk_get_block_size(handle);

	if (bs < 0) {
		report("block_size");
		return -1;
	}
	/* libnetdisk takes any size and splits what is larger than a request */
	*minimum = 1;
	*preferred = bs >= 512 && bs <= 65536 ? (uint32_t)bs : 4096;
	*maximum = 0xffffffff;
	return 0;
}

static int netdisk_can_write(void *handle)
{
	int ro = netdisk_is_read_only(handle);

	return ro < 0 ? -1 : !ro;
}

static int netdisk_nbd_can_flush(void *handle)
{
	return netdisk_can_flush(handle);
}

static int netdisk_nbd_can_fua(void *handle)
{
	if (netdisk_can_fua(handle) == 1)
		return NBDKIT_FUA_NATIVE;
	return netdisk_can_flush(handle) == 1 ? NBDKIT_FUA_EMULATE : NBDKIT_FUA_NONE;
}

static int netdisk_nbd_can_trim(void *handle)
{
	return netdisk_can_trim(handle);
}

static int netdisk_nbd_can_zero(void *handle)
{
	return netdisk_can_zero(handle);
}

/* a netdisk WRITE_ZEROES may take as long as writing the zeroes */
static int netdisk_can_fast_zero(void *handle)
{
	(void)handle;
	return 0;
}

static int netdisk_can_multi_conn(void *handle)
{
	(void)handle;
	return 1;
}

static uint32_t fua_of(uint32_t flags)
{
	return flags & NBDKIT_FLAG_FUA ? NETDISK_CMD_FLAG_FUA : 0;
}

static int netdisk_nbd_pread(void *handle, void *buf, uint32_t count, uint64_t offset,
			     uint32_t flags)
{
	(void)flags;
	if (netdisk_pread(handle, buf, count, offset, 0)) {
		report("pread");
		return -1;
	}
	return 0;
}

static int netdisk_nbd_pwrite(void *handle, const void *buf, uint32_t count,
			      uint64_t offset, uint32_t flags)
{
	if (netdisk_pwrite(handle, buf, count, offset, fua_of(flags))) {
		report("pwrite");
		return -1;
	}
	return 0;
}

static int netdisk_nbd_flush(void *handle, uint32_t flags)
{
	(void)flags;
	if (netdisk_flush(handle, 0)) {
		report("flush");
		return -1;
	}
	return 0;
}

static int netdisk_nbd_trim(void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
	if (netdisk_trim(handle, count, offset, fua_of(flags))) {
		report("trim");
		return -1;
	}
	return 0;
}

/* without NBDKIT_FLAG_MAY_TRIM the range must stay allocated (NBD's NO_HOLE) */
static int netdisk_nbd_zero(void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint32_t nd_flags = fua_of(flags);

	if (!(flags & NBDKIT_FLAG_MAY_TRIM))
		nd_flags |= NETDISK_CMD_FLAG_NO_HOLE;
	if (netdisk_zero(handle, count, offset, nd_flags)) {
		report("zero");
		return -1;
	}
	return 0;
}

static struct nbdkit_plugin plugin = {
	.name = "netdisk",
	.longname = "nbdkit netdisk plugin",
	.version = NETDISK_VERSION,
	.description = "serves a netdisk export (an encrypted remote block device)",
	.unload = netdisk_unload,
	.config = netdisk_config,
	.config_complete = netdisk_config_complete,
	.config_help = netdisk_config_help,
	.magic_config_key = "uri",
	.open = netdisk_open,
	.close = netdisk_nbd_close,
	.get_size = netdisk_nbd_get_size,
	.block_size = netdisk_block_size,
	.can_write = netdisk_can_write,
	.can_flush = netdisk_nbd_can_flush,
	.can_fua = netdisk_nbd_can_fua,
	.can_trim = netdisk_nbd_can_trim,
	.can_zero = netdisk_nbd_can_zero,
	.can_fast_zero = netdisk_can_fast_zero,
	.can_multi_conn = netdisk_can_multi_conn,
	.pread = netdisk_nbd_pread,
	.pwrite = netdisk_nbd_pwrite,
	.flush = netdisk_nbd_flush,
	.trim = netdisk_nbd_trim,
	.zero = netdisk_nbd_zero,
	.errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN(plugin)
