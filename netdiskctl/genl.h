/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/* The kernel module's generic netlink family; every call returns 0 or -errno. */
#ifndef NETDISKCTL_GENL_H
#define NETDISKCTL_GENL_H

#include <stddef.h>
#include <stdint.h>

#include <netdisk/wire.h>

struct genl_attach_req {
	const char *address;		/* an IP literal */
	uint16_t port;
	const char *export_name, *identity, *server_name;
	const char *key_desc;		/* a logon key in the caller's keyrings */
	const char *name;		/* the netdisktab NAME, or NULL */
	uint32_t connections, cache_mb;	/* 0: the module's default */
	uint32_t timeout_s;		/* 0: the module's */
	uint32_t dead_timeout_s;	/* if dead_timeout_set; 0: never fail */
	int dead_timeout_set;
};

/* one attached disk, as the module lists it */
struct nd_disk {
	uint32_t index;			/* /dev/netdisk<index> */
	char address[64];
	uint16_t port;
	char export_name[ND_NAME_SIZE], identity[ND_NAME_SIZE];
	char state[32];
};

/*
 * The module reports an attach's outcome after its handshakes: one per
 * connection, each within 10 s, and a busy server's waits, within the
 * module's dead_timeout. This bounds a lost report; genl_attach() then
 * returns -ETIME, and whether the disk is there is not known.
 */
#define ATTACH_REPORT_WAIT_S	600

/* -ENOENT: the module is not loaded */
int genl_available(void);
int genl_attach(const struct genl_attach_req *r, uint32_t *index);
int genl_detach(uint32_t index);
/*
 * The key (a logon key in the caller's keyrings) of the disk's next
 * handshakes; -ESTALE if the disk is no longer one of identity.
 */
int genl_rekey(uint32_t index, const char *identity, const char *key_desc);
/* *disks is malloc'd, in index order */
int genl_list(struct nd_disk **disks, size_t *n);

#endif
