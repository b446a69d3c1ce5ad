// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * netdiskctl attach, detach: the kernel module's disks, through its
 * generic netlink family. A key goes to the module as a logon key in this
 * process's keyring, never as text: it is gone when netdiskctl exits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <netdb.h>

#include <keyutils.h>

#include <netdisk/netlink.h>

#include "genl.h"
#include "nd_keys.h"
#include "nd_tab.h"
#include "netdiskctl.h"

static void ensure_module(void)
{
	if (genl_available() != -ENOENT)
		return;
	if (system("modprobe netdisk") != 0 || genl_available())
		die("the netdisk kernel module is not loaded and 'modprobe netdisk' failed");
}

/* --table, else $NETDISK_TAB (as netdisk-generator reads it), else the default */
const char *tab_path(const struct client_opts *o)
{
	const char *env = getenv("NETDISK_TAB");

	return o->tab_path ? o->tab_path : env && *env ? env : ND_TAB_PATH;
}

static void tab_entry(const struct client_opts *o, const char *name, struct nd_tab *tab,
		      const struct nd_tab_entry **e)
{
	const struct nd_tab_bad *bad;
	char err[512];

	if (nd_tab_load(tab, tab_path(o), err, sizeof(err)))
		die("%s", err);
	*e = nd_tab_find(tab, name);
	bad = nd_tab_find_bad(tab, name);
	if (!*e && bad)
		die("%s", bad->why);
	/* another disk's bad line is no reason to fail this one */
	for (size_t i = 0; i < tab->bad_count; i++)
		if (&tab->bad[i] != bad)
			fprintf(stderr, "netdiskctl: %s (line skipped)\n", tab->bad[i].why);
	if (!*e)
		die_status(EXIT_USAGE, "'%s' is neither a netdisk:// URI nor a disk in %s", name,
			   tab_path(o));
}

static void resolve(const char *host, char addr[INET6_ADDRSTRLEN])
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int rc = getaddrinfo(host, NULL, &hints, &ai);

	if (rc)
		die_status(EXIT_UNREACHABLE, "cannot resolve %s: %s", host, gai_strerror(rc));
	getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, INET6_ADDRSTRLEN, NULL, 0,
		    NI_NUMERICHOST);
	freeaddrinfo(ai);
}

/* The identity a table entry attaches as: its URI's, else the host name. */
static void entry_identity(const struct nd_tab_entry *e, char out[ND_NAME_SIZE])
{
	if (e->uri.identity[0])
		strcpy(out, e->uri.identity);
	else if (nd_default_identity(out))
		die("the host name is not a valid identity; give disk %s an IDENTITY@ in its URI",
		    e->name);
}

static key_serial_t add_logon_key(const struct client_opts *o, const char *desc)
{
	uint8_t key[ND_KEY_SIZE];
	key_serial_t id;

	load_key(o, key);
	id = add_key("logon", desc, key, sizeof(key), KEY_SPEC_PROCESS_KEYRING);
	nd_wipe(key, sizeof(key));
	if (id < 0)
		die("cannot add key '%s' to the process keyring: %s", desc, strerror(errno));
	return id;
}

/* What a server still booting, or at its connection limit, answers. */
static bool attach_retryable(int rc)
{
	return rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ENETUNREACH ||
	       rc == -ETIMEDOUT || rc == -ECONNRESET || rc == -EAGAIN;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Attaches, and while the server is unreachable or busy tries again for
 * o->attach_timeout_s: after 1 s, doubling up to 10 s, each wait with up to
 * as much again at random, so that machines booting together spread out.
 */
static int attach_retrying(const struct client_opts *o, const struct genl_attach_req *r,
			   const char *what, uint32_t *index)
{
	double end = now_s() + o->attach_timeout_s;
	unsigned int wait_s = 1;

	for (;;) {
		unsigned short jitter = 0;
		int rc = genl_attach(r, index);
		double wait;

		if (!attach_retryable(rc))
			return rc;
		if (getrandom(&jitter, sizeof(jitter), GRND_NONBLOCK) != sizeof(jitter))
			jitter = (unsigned short)getpid();
		wait = wait_s + (double)wait_s * jitter / 65535.0;
		if (now_s() + wait > end)
			return rc;
		fprintf(stderr, "netdiskctl: attaching %s: %s, retrying in %.1f s\n", what,
			rc == -EAGAIN ? "server busy" : strerror(-rc), wait);
		usleep((useconds_t)(wait * 1e6));
		wait_s = wait_s * 2 > 10 ? 10 : wait_s * 2;
	}
}

/* what: the URI or the table NAME, for messages; tab_name: NULL for a URI */
static int attach_uri(const struct client_opts *o, const struct nd_uri *uri, const char *what,
		      const char *tab_name)
{
	struct genl_attach_req r = { 0 };
	char addr[INET6_ADDRSTRLEN], server[ND_NAME_SIZE], desc[128];
	key_serial_t key = -1;
	uint32_t index;
	int rc;

	resolve(uri->host, addr);
	if (o->server_name[0])
		strcpy(server, o->server_name);
	else if (nd_server_name_of(uri->host, server))
		die("'%s' cannot be sent as the server's name; give --server-name", uri->host);
	if (o->key_desc) {
		snprintf(desc, sizeof(desc), "%s", o->key_desc);
	} else {
		snprintf(desc, sizeof(desc), NETDISK_KEY_PREFIX "%s", o->identity);
		key = add_logon_key(o, desc);
	}
	r.address = addr;
	r.port = (uint16_t)atoi(uri->port);
	r.export_name = uri->export_name;
	/* left to the module, which takes the same default, and so knows it is one */
	r.identity = o->identity_given ? o->identity : "";
	r.server_name = server;
	r.key_desc = desc;
	r.name = tab_name;
	r.connections = o->connections;
	r.cache_mb = o->cache_mb;
	r.timeout_s = o->timeout_s;
	r.dead_timeout_s = o->dead_timeout_s;
	r.dead_timeout_set = o->dead_timeout_set;
	ensure_module();
	rc = attach_retrying(o, &r, what, &index);
	if (key >= 0)
		keyctl_invalidate(key);
	if (rc == -ENOKEY)
		die("no logon key '%s' in this process's keyrings; load one with "
		    "'keyctl padd logon %s @u' (32 raw bytes) or leave out --key-desc",
		    desc, desc);
	if (rc == -EKEYREJECTED)
		die_status(EXIT_AUTH, "%s rejected the key for identity '%s'", what, o->identity);
	if (rc == -ENOENT)
		die_status(EXIT_NO_EXPORT, "%s: no such export", what);
	if (rc == -EACCES)
		die_status(EXIT_NO_EXPORT, "%s: identity '%s' is not allowed on this export", what,
			   o->identity);
	if (rc == -EPERM)
		die("attaching a disk needs CAP_SYS_ADMIN");
	if (rc == -ETIME)
		die_status(EXIT_IO, "attaching %s: the module gave no outcome in %d s; "
			   "'netdiskctl list' shows whether the disk is there", what,
			   ATTACH_REPORT_WAIT_S);
	if (rc == -ERANGE)
		die_status(EXIT_USAGE, "the module refused the timeouts: --timeout takes 1..86400, "
			   "--dead-timeout 0..31536000");
	if (rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ENETUNREACH ||
	    rc == -ETIMEDOUT || rc == -ECONNRESET)
		die_status(EXIT_UNREACHABLE, "attaching %s failed: %s (see the kernel log)", what,
			   strerror(-rc));
	if (rc == -EBUSY)
		die_status(EXIT_BUSY, "attaching %s failed: the export is in use by another "
			   "process on the server", what);
	if (rc == -EAGAIN)
		die_status(EXIT_BUSY, "attaching %s failed: the server stayed at its connection "
			   "limit, or restarted while the disk attached; try again (see the "
			   "kernel log)", what);
	if (rc == -EIO)
		die_status(EXIT_IO, "attaching %s failed: %s (see the kernel log)", what,
			   strerror(-rc));
	if (rc)
		die("attaching %s failed: %s (see the kernel log)", what, strerror(-rc));
	/* the module attached the disk even if its reply with the name was lost */
	if (index != UINT32_MAX)
		printf("netdisk%u\n", index);
	return 0;
}

int cmd_attach(const struct client_opts *o, const char *target)
{
	const struct nd_tab_entry *e;
	struct client_opts eo = *o;
	struct nd_tab tab;
	struct nd_uri uri;
	char err[512];
	int rc;

	if (nd_is_uri(target)) {
		if (nd_uri_parse(target, &uri, err, sizeof(err)))
			die_status(EXIT_USAGE, "%s", err);
		return attach_uri(o, &uri, target, NULL);
	}
	tab_entry(o, target, &tab, &e);
	entry_identity(e, eo.identity);
	eo.identity_given = e->uri.identity[0] != '\0';
	if (e->key_file[0])
		eo.key_file = e->key_file;
	if (e->server_name[0])
		strcpy(eo.server_name, e->server_name);
	if (e->connections)
		eo.connections = e->connections;
	if (e->cache_mb)
		eo.cache_mb = e->cache_mb;
	if (e->timeout_s)
		eo.timeout_s = e->timeout_s;
	if (!o->attach_timeout_set)
		eo.attach_timeout_s = e->attach_timeout_s;
	if (e->dead_timeout_set) {
		eo.dead_timeout_s = e->dead_timeout_s;
		eo.dead_timeout_set = true;
	}
	rc = attach_uri(&eo, &e->uri, e->name, e->name);
	nd_tab_free(&tab);
	return rc;
}

static int index_of_name(const char *name, uint32_t *index)
{
	char resolved[PATH_MAX];
	const char *base;
	unsigned int n;
	char tail;

	if (strchr(name, '/') && realpath(name, resolved))
		name = resolved;
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (sscanf(base, "netdisk%u%c", &n, &tail) != 1)
		return -1;
	*index = n;
	return 0;
}

bool disk_is_entry(const struct nd_disk *d, const char *addr, const struct nd_tab_entry *e)
{
	char identity[ND_NAME_SIZE];

	entry_identity(e, identity);
	return !strcmp(d->address, addr) && d->port == atoi(e->uri.port) &&
	       !strcmp(d->export_name, e->uri.export_name) && !strcmp(d->identity, identity);
}

/* The disk a table entry attached: the same address, port, export, identity. */
static int index_of_entry(const struct nd_tab_entry *e, uint32_t *index)
{
	char addr[INET6_ADDRSTRLEN];
	struct nd_disk *disks;
	size_t n;
	int rc, found = -1;

	resolve(e->uri.host, addr);
	rc = genl_list(&disks, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && found < 0; i++)
		if (disk_is_entry(&disks[i], addr, e)) {
			*index = disks[i].index;
			found = 0;
		}
	free(disks);
	return found ? -ENODEV : 0;
}

/* The disk's identity, as the module lists it; dies if there is no such disk. */
static void identity_of_disk(uint32_t index, const char *name, char out[ND_NAME_SIZE])
{
	struct nd_disk *disks;
	size_t n;
	int rc = genl_available() ?: genl_list(&disks, &n);

	if (rc == -ENOENT)
		die("%s: the netdisk module is not loaded", name);
	if (rc)
		die("listing the disks failed: %s", strerror(-rc));
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (disks[i].index == index)
			strcpy(out, disks[i].identity);
	free(disks);
	if (!out[0])
		die("%s: no such disk", name);
}

/*
 * A new key for an attached disk, for the identity it attached as: from the
 * key file (a NAME's key-file, -K, or the default) or --key-desc. The
 * module uses it from the disk's next connection; the open ones go on.
 */
int cmd_rekey(const struct client_opts *o, const char *name)
{
	struct client_opts ko = *o;
	const struct nd_tab_entry *e;
	key_serial_t key = -1;
	struct nd_tab tab = { 0 };
	bool tab_loaded = false;
	char desc[128];
	uint32_t index;
	int rc;

	if (index_of_name(name, &index)) {
		tab_entry(o, name, &tab, &e);
		tab_loaded = true;
		if (e->key_file[0] && !o->key_file)
			ko.key_file = e->key_file;
		rc = genl_available() ?: index_of_entry(e, &index);
		if (rc == -ENODEV || rc == -ENOENT)
			die("%s is not attached", name);
		if (rc)
			die("listing the disks failed: %s", strerror(-rc));
	}
	identity_of_disk(index, name, ko.identity);
	if (o->key_desc) {
		snprintf(desc, sizeof(desc), "%s", o->key_desc);
	} else {
		snprintf(desc, sizeof(desc), NETDISK_KEY_PREFIX "%s", ko.identity);
		key = add_logon_key(&ko, desc);
	}
	rc = genl_rekey(index, ko.identity, desc);
	if (key >= 0)
		keyctl_invalidate(key);
	if (tab_loaded)	/* ko.key_file may point into it */
		nd_tab_free(&tab);
	if (rc == -EPERM)
		die("changing a disk's key needs CAP_SYS_ADMIN");
	if (rc == -ENOKEY)
		die("no logon key '%s' in this process's keyrings", desc);
	if (rc == -ESTALE)
		die("%s was detached and its number given to another disk meanwhile; "
		    "nothing changed", name);
	if (rc == -EKEYREJECTED || rc == -EKEYREVOKED)
		die("the module refused key '%s' (see the kernel log)", desc);
	if (rc)
		die("changing the key of %s failed: %s", name, rc == -ENODEV ? "no such disk" :
		    strerror(-rc));
	return 0;
}

int cmd_detach(const struct client_opts *o, const char *name)
{
	const struct nd_tab_entry *e;
	struct nd_tab tab;
	uint32_t index;
	int rc;

	if (index_of_name(name, &index)) {
		tab_entry(o, name, &tab, &e);
		rc = genl_available() ?: index_of_entry(e, &index);
		nd_tab_free(&tab);
		/* stopping a disk that is not attached leaves it detached */
		if (rc == -ENODEV || rc == -ENOENT)
			return 0;
		if (rc)
			die("listing the disks failed: %s", strerror(-rc));
	}
	rc = genl_detach(index);
	if (rc == -ENOENT)
		die("detaching %s failed: the netdisk module is not loaded", name);
	if (rc == -EPERM)
		die("detaching a disk needs CAP_SYS_ADMIN");
	if (rc == -EBUSY)
		die_status(EXIT_BUSY, "detaching %s failed: %s", name, strerror(-rc));
	if (rc)
		die("detaching %s failed: %s", name, rc == -ENODEV ? "no such disk" :
		    strerror(-rc));
	return 0;
}
