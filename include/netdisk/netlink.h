/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * netdisk control plane: the generic netlink family "netdisk".
 *
 * ATTACH	ADDRESS, KEY_DESC required; PORT, EXPORT, IDENTITY, SERVER,
 *		CONNECTIONS, CACHE_MB, TIMEOUT, DEAD_TIMEOUT optional (each
 *		absent: the module's parameter), and NAME, the disk's name in
 *		the netdisktab, for /dev/netdisk/by-name/. IDENTITY absent or
 *		empty: the short host name, left out of the disk's link name.
 *		The key is not sent: KEY_DESC names a "logon" key of 32 bytes
 *		that the caller's keyrings hold. The ack says only that the request was taken: the
 *		connections are made afterwards, outside the netlink handler.
 *		The outcome then comes to the same socket as an ATTACH message
 *		with the request's sequence number, holding INDEX (the N of
 *		/dev/netdiskN) or ERROR. If that socket is closed before the
 *		connections are made, they are still made, and the disk is
 *		then detached before it is listed; closed later, the outcome
 *		is lost and the disk stays.
 * DETACH	INDEX.
 * LIST		a dump: one message per disk with INDEX, ADDRESS, PORT,
 *		EXPORT, IDENTITY, STATE.
 *
 * ATTACH and DETACH need CAP_SYS_ADMIN, and CAP_NET_ADMIN as every
 * GENL_ADMIN_PERM command does. Errors are negative errno values
 * in the netlink ack, or in ERROR; the kernel log says more.
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
	NETDISK_CMD_REKEY,	/* INDEX, KEY_DESC[, IDENTITY]: the disk's next handshakes' key */
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
	NETDISK_ATTR_ERROR,		/* s32: an ATTACH's outcome, a negative errno */
	NETDISK_ATTR_TIMEOUT,		/* u32: seconds before a request forces a reconnect */
	NETDISK_ATTR_DEAD_TIMEOUT,	/* u32: seconds reconnecting before I/O fails; 0: never */
	NETDISK_ATTR_NAME,		/* string: the netdisktab NAME that attached it */
	__NETDISK_ATTR_MAX,
};
#define NETDISK_ATTR_MAX	(__NETDISK_ATTR_MAX - 1)

#endif
