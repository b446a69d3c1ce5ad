// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * ndgenl: sends the netdisk generic netlink family what netdiskctl never
 * would, to show that the module's policy refuses it.
 *   ndgenl attach|detach|list|rekey [NAME=STRING | NAME:RAW | NAME%U16 | NAME#U32]...
 * STRING goes with its NUL, RAW without. Prints "ok" or the kernel's errno
 * name; exits 0 on an ack, 1 on an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <netdisk/netlink.h>

static const char *const attr_names[] = {
	[NETDISK_ATTR_INDEX] = "index",		[NETDISK_ATTR_ADDRESS] = "address",
	[NETDISK_ATTR_PORT] = "port",		[NETDISK_ATTR_EXPORT] = "export",
	[NETDISK_ATTR_IDENTITY] = "identity",	[NETDISK_ATTR_SERVER] = "server",
	[NETDISK_ATTR_CONNECTIONS] = "connections", [NETDISK_ATTR_CACHE_MB] = "cache_mb",
	[NETDISK_ATTR_KEY_DESC] = "key_desc",	[NETDISK_ATTR_STATE] = "state",
};

static int kernel_error;

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	(void)nla;
	(void)arg;
	kernel_error = err->error;
	return NL_STOP;
}

static int attr_of(const char *name, size_t len)
{
	for (size_t i = 1; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (strlen(attr_names[i]) == len && !strncmp(attr_names[i], name, len))
			return (int)i;
	fprintf(stderr, "ndgenl: unknown attribute '%.*s'\n", (int)len, name);
	exit(2);
}

static void put(struct nl_msg *msg, const char *arg)
{
	size_t n = strcspn(arg, ":%#=");
	const char *val = arg + n + 1;
	int type = attr_of(arg, n);

	switch (arg[n]) {
	case '=':
		nla_put_string(msg, type, val);
		break;
	case ':':
		nla_put(msg, type, (int)strlen(val), val);
		break;
	case '%':
		nla_put_u16(msg, type, (uint16_t)strtoul(val, NULL, 0));
		break;
	case '#':
		nla_put_u32(msg, type, (uint32_t)strtoul(val, NULL, 0));
		break;
	default:
		fprintf(stderr, "ndgenl: '%s' is not NAME=VALUE\n", arg);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = nlmsg_alloc();
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int family, cmd, rc;

	if (argc < 2 || !sk || !msg || !cb || genl_connect(sk)) {
		fprintf(stderr, "usage: ndgenl attach|detach|list [ATTR=VALUE]...\n");
		return 2;
	}
	cmd = !strcmp(argv[1], "attach") ? NETDISK_CMD_ATTACH :
	      !strcmp(argv[1], "detach") ? NETDISK_CMD_DETACH :
	      !strcmp(argv[1], "rekey") ? NETDISK_CMD_REKEY : NETDISK_CMD_LIST;
	family = genl_ctrl_resolve(sk, NETDISK_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "ndgenl: no netdisk family\n");
		return 2;
	}
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
		    cmd == NETDISK_CMD_LIST ? NLM_F_DUMP : 0, (uint8_t)cmd, NETDISK_GENL_VERSION);
	for (int i = 2; i < argc; i++)
		put(msg, argv[i]);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, NULL);
	rc = nl_send_auto(sk, msg);
	if (rc >= 0)
		rc = nl_recvmsgs(sk, cb);
	if (kernel_error) {
		printf("%s\n", strerrorname_np(-kernel_error));
		return 1;
	}
	if (rc < 0) {
		printf("libnl: %s\n", nl_geterror(rc));
		return 1;
	}
	printf("ok\n");
	return 0;
}
