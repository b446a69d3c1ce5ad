/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * netdisk control plane: the generic netlink family "netdisk".
 *
 * ATTACH	ADDRESS, KEY_DESC required; PORT, EXPORT, IDENTITY, SERVER,
 *		CONNECTIONS, CACHE_MB optional. The key is not sent: KEY_DESC
 *		names a "logon" key of 32 bytes that the caller's keyrings
 *		hold. Replies with INDEX, the N of /dev/netdiskN.
 * DETACH	INDEX.
 * LIST		a dump: one message per disk with INDEX, ADDRESS, PORT,
 *		EXPORT, IDENTITY, STATE.
 *
 * ATTACH and DETACH need CAP_NET_ADMIN. Errors are negative errno values
 * in the netlink ack; the kernel log says more.
 */
#ifndef _UAPI_NETDISK_NETLINK_H
#define _UAPI_NETDISK_NETLINK_H

#define NETDISK_GENL_NAME	"netdisk"
#define NETDISK_GENL_VERSION	1

/*
 * "netdisk:<identity>" is the description netdiskctl gives the keys it
 * loads; the module takes no logon key whose description lacks the prefix.
 */
#define NETDISK_KEY_PREFIX	"netdisk:"

enum netdisk_cmd {
	NETDISK_CMD_UNSPEC,
	NETDISK_CMD_ATTACH,
	NETDISK_CMD_DETACH,
	NETDISK_CMD_LIST,
	__NETDISK_CMD_MAX,
};
#define NETDISK_CMD_MAX		(__NETDISK_CMD_MAX - 1)

enum netdisk_attr {
	NETDISK_ATTR_UNSPEC,
	NETDISK_ATTR_INDEX,		/* u32 */
	NETDISK_ATTR_ADDRESS,		/* string: an IPv4 or IPv6 literal */
	NETDISK_ATTR_PORT,		/* u16 */
	NETDISK_ATTR_EXPORT,		/* string, "" for the default export */
	NETDISK_ATTR_IDENTITY,		/* string */
	NETDISK_ATTR_SERVER,		/* string: the name the server must answer to */
	NETDISK_ATTR_CONNECTIONS,	/* u32 */
	NETDISK_ATTR_CACHE_MB,		/* u32 */
	NETDISK_ATTR_KEY_DESC,		/* string: a logon key's description */
	NETDISK_ATTR_STATE,		/* string: connected, reconnecting, failed, detaching */
	__NETDISK_ATTR_MAX,
};
#define NETDISK_ATTR_MAX	(__NETDISK_ATTR_MAX - 1)

#endif
