/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* netdiskctl: what its commands share, and the commands main() dispatches to. */
#ifndef NETDISKCTL_H
#define NETDISKCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "nd_client.h"

#define DEFAULT_CLIENT_KEY_FILE "/etc/netdisk/netdisk.key"
#define IO_TIMEOUT_S 120	/* a server silent this long is gone */
#define BUSY_WAIT_S 120		/* a server at its connection limit, this long */
/* where netdiskd.service has netdiskd answer netdiskctl status */
#define DEFAULT_ADMIN_SOCKET "/run/netdiskd/admin.sock"

struct client_opts {
	const char *key_file;
	char identity[ND_NAME_SIZE];
	bool identity_given;		/* not the host name's default: in /dev/netdisk/ links */
	char server_name[ND_NAME_SIZE];	/* "": the URI's host */
	unsigned int connections;
	unsigned int cache_mb;		/* attach */
	unsigned int timeout_s;		/* attach: 0 for the module's */
	unsigned int dead_timeout_s;	/* attach, if dead_timeout_set; 0: never */
	bool dead_timeout_set;
	unsigned int attach_timeout_s;	/* attach: retry an unreachable or busy server */
	bool attach_timeout_set;	/* given: a table entry's does not apply */
	const char *key_desc;		/* attach: a logon key already loaded */
	const char *tab_path;		/* attach, detach: NULL for ND_TAB_PATH */
	const char *config_path;	/* overlay: NULL for netdiskd's default */
	bool progress;
	bool json;
	bool list;		/* info: the server's exports */
	const char *admin_socket;	/* status: NULL for DEFAULT_ADMIN_SOCKET */
	uint64_t rekey_records;
};

/* Exit statuses, as netdiskctl(1) EXIT STATUS lists them; die() is 1. */
enum {
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,	/* cannot resolve, connect, or the connection broke */
	EXIT_AUTH = 4,		/* the server rejected the key, or is not the one named */
	EXIT_NO_EXPORT = 5,	/* no such export, or the identity may not use it */
	EXIT_BUSY = 6,		/* the disk or the export is in use */
	EXIT_IO = 7,		/* an I/O error, on the server or here */
};

/* connect.c */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_status(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* The exit status for an enum nd_client_failure. */
int client_exit_status(int failure);
void load_key(const struct client_opts *o, uint8_t key[ND_KEY_SIZE]);
/* Opens one connection, waiting while the server is busy; dies on failure. */
void client_open(struct nd_client *c, const struct nd_uri *uri,
		 const struct client_opts *o, const uint8_t key[ND_KEY_SIZE]);
/* Says once per process that the server at host is busy. */
void say_busy(void *host, unsigned int wait_ms);
/* Prints s as a JSON string, escaped. */
void json_string(const char *s);

int cmd_keygen(void);
int cmd_info(const struct client_opts *o, const char *target);
int cmd_status(const struct client_opts *o);
int cmd_copy(const struct client_opts *o, const char *src, const char *dst);
/* attach.c: the kernel module's disks */
int cmd_attach(const struct client_opts *o, const char *target);
int cmd_detach(const struct client_opts *o, const char *name);
int cmd_rekey(const struct client_opts *o, const char *name);
/* --table, else $NETDISK_TAB, else the default netdisktab */
const char *tab_path(const struct client_opts *o);
/* The disk a netdisktab entry attaches, its host resolved to addr. */
struct nd_disk;
struct nd_tab_entry;
bool disk_is_entry(const struct nd_disk *d, const char *addr, const struct nd_tab_entry *e);
/* list.c: the attached disks, with what sysfs and the netdisktab add */
int cmd_list(const struct client_opts *o);
/* overlay.c: on the server, by netdiskd.conf, with netdiskd's own code */
int cmd_overlay_list(const struct client_opts *o, const char *export_name);
int cmd_overlay_reset(const struct client_opts *o, const char *export_name,
		      const char *identity);
int cmd_overlay_merge(const struct client_opts *o, const char *export_name,
		      const char *identity, const char *image);

#endif
