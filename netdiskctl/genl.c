// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* The kernel module's control plane: generic netlink, through libnl. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <netdisk/netlink.h>

#include "genl.h"

struct genl_call {
	int error;		/* the kernel's -errno, 0 for an ack */
	struct nd_disk *disks;	/* LIST */
	size_t n, cap;
	uint32_t index;		/* ATTACH */
	bool done;		/* ATTACH: its outcome came */
};

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	(void)nla;
	((struct genl_call *)arg)->error = err->error;
	return NL_STOP;
}

static int on_stop(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_STOP;
}

static void copy_string(char *dst, size_t size, struct nlattr *a)
{
	dst[0] = '\0';
	if (a)
		snprintf(dst, size, "%s", nla_get_string(a));
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	static struct nla_policy policy[NETDISK_ATTR_MAX + 1] = {
		[NETDISK_ATTR_INDEX] = { .type = NLA_U32 },
		[NETDISK_ATTR_PORT] = { .type = NLA_U16 },
		[NETDISK_ATTR_ADDRESS] = { .type = NLA_STRING },
		[NETDISK_ATTR_EXPORT] = { .type = NLA_STRING },
		[NETDISK_ATTR_IDENTITY] = { .type = NLA_STRING },
		[NETDISK_ATTR_STATE] = { .type = NLA_STRING },
		[NETDISK_ATTR_ERROR] = { .type = NLA_U32 },
	};
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *a[NETDISK_ATTR_MAX + 1];
	struct genl_call *call = arg;
	struct nd_disk *d;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, a, NETDISK_ATTR_MAX, policy))
		return NL_SKIP;
	if (gh->cmd == NETDISK_CMD_ATTACH && a[NETDISK_ATTR_ERROR]) {
		call->error = (int32_t)nla_get_u32(a[NETDISK_ATTR_ERROR]);
		call->done = true;
		return NL_STOP;
	}
	if (!a[NETDISK_ATTR_INDEX])
		return NL_SKIP;
	call->index = nla_get_u32(a[NETDISK_ATTR_INDEX]);
	if (gh->cmd == NETDISK_CMD_ATTACH) {
		call->done = true;
		return NL_STOP;
	}
	if (gh->cmd != NETDISK_CMD_LIST)
		return NL_OK;
	if (call->n == call->cap) {
		size_t cap = call->cap ? 2 * call->cap : 8;
		struct nd_disk *more = realloc(call->disks, cap * sizeof(*more));

		if (!more) {
			call->error = -ENOMEM;
			return NL_STOP;
		}
		call->disks = more;
		call->cap = cap;
	}
	d = &call->disks[call->n++];
	d->index = call->index;
	d->port = a[NETDISK_ATTR_PORT] ? nla_get_u16(a[NETDISK_ATTR_PORT]) : 0;
	copy_string(d->address, sizeof(d->address), a[NETDISK_ATTR_ADDRESS]);
	copy_string(d->export_name, sizeof(d->export_name), a[NETDISK_ATTR_EXPORT]);
	copy_string(d->identity, sizeof(d->identity), a[NETDISK_ATTR_IDENTITY]);
	copy_string(d->state, sizeof(d->state), a[NETDISK_ATTR_STATE]);
	return NL_OK;
}

/* The socket and the family's id; -ENOENT when the module is not loaded. */
static int genl_open(struct nl_sock **out, int *family)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk)
		return -ENOMEM;
	if (genl_connect(sk)) {
		nl_socket_free(sk);
		return -EIO;
	}
	*family = genl_ctrl_resolve(sk, NETDISK_GENL_NAME);
	if (*family < 0) {
		nl_socket_free(sk);
		return -ENOENT;
	}
	*out = sk;
	return 0;
}

/* A socket and a message for cmd, or -errno with nothing left to free. */
static int genl_begin(struct nl_sock **sk, struct nl_msg **msg, int flags, uint8_t cmd)
{
	int family, rc = genl_open(sk, &family);

	if (rc)
		return rc;
	*msg = nlmsg_alloc();
	if (*msg && genlmsg_put(*msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd,
				NETDISK_GENL_VERSION))
		return 0;
	nlmsg_free(*msg);
	nl_socket_free(*sk);
	return -ENOMEM;
}

static int any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/*
 * Sends msg and reads the replies up to the ack or the dump's end, and for
 * an attach on to its outcome (include/netdisk/netlink.h), which may come
 * before or after the ack; frees the message and the socket.
 */
static int genl_call(struct nl_sock *sk, struct nl_msg *msg, struct genl_call *call,
		     bool await_report)
{
	struct timeval tv = { .tv_sec = ATTACH_REPORT_WAIT_S };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int rc = -ENOMEM;

	call->error = 0;
	call->done = false;
	if (cb) {
		nl_cb_err(cb, NL_CB_CUSTOM, on_error, call);
		nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_stop, NULL);
		nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_stop, NULL);
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, call);
		/* the outcome carries the request's number, after its ack */
		if (await_report) {
			nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, any_seq, NULL);
			setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		rc = nl_send_auto(sk, msg);
		if (rc >= 0)
			rc = nl_recvmsgs(sk, cb);
		while (rc >= 0 && await_report && !call->error && !call->done)
			rc = nl_recvmsgs(sk, cb);
		/* -ETIME: no outcome came, which is not the server's timeout */
		if (rc < 0)
			rc = rc == -NLE_AGAIN ? -ETIME : -EIO;
		else
			rc = 0;
		nl_cb_put(cb);
	}
	nlmsg_free(msg);
	nl_socket_free(sk);
	return call->error ? call->error : rc;
}

int genl_available(void)
{
	struct nl_sock *sk;
	int family, rc = genl_open(&sk, &family);

	if (!rc)
		nl_socket_free(sk);
	return rc;
}

int genl_attach(const struct genl_attach_req *r, uint32_t *index)
{
	struct genl_call call = { .index = UINT32_MAX };
	struct nl_sock *sk;
	struct nl_msg *msg;
	int rc = genl_begin(&sk, &msg, 0, NETDISK_CMD_ATTACH);

	if (rc)
		return rc;
	if (nla_put_string(msg, NETDISK_ATTR_ADDRESS, r->address) ||
	    nla_put_u16(msg, NETDISK_ATTR_PORT, r->port) ||
	    nla_put_string(msg, NETDISK_ATTR_EXPORT, r->export_name) ||
	    nla_put_string(msg, NETDISK_ATTR_IDENTITY, r->identity) ||
	    nla_put_string(msg, NETDISK_ATTR_SERVER, r->server_name) ||
	    nla_put_string(msg, NETDISK_ATTR_KEY_DESC, r->key_desc) ||
	    (r->name && nla_put_string(msg, NETDISK_ATTR_NAME, r->name)) ||
	    (r->connections && nla_put_u32(msg, NETDISK_ATTR_CONNECTIONS, r->connections)) ||
	    (r->cache_mb && nla_put_u32(msg, NETDISK_ATTR_CACHE_MB, r->cache_mb)) ||
	    (r->timeout_s && nla_put_u32(msg, NETDISK_ATTR_TIMEOUT, r->timeout_s)) ||
	    (r->dead_timeout_set &&
	     nla_put_u32(msg, NETDISK_ATTR_DEAD_TIMEOUT, r->dead_timeout_s))) {
		nlmsg_free(msg);
		nl_socket_free(sk);
		return -ENOMEM;
	}
	rc = genl_call(sk, msg, &call, true);
	if (!rc)
		*index = call.index;
	return rc;
}

int genl_detach(uint32_t index)
{
	struct genl_call call = { 0 };
	struct nl_sock *sk;
	struct nl_msg *msg;
	int rc = genl_begin(&sk, &msg, 0, NETDISK_CMD_DETACH);

	if (rc)
		return rc;
	if (nla_put_u32(msg, NETDISK_ATTR_INDEX, index)) {
		nlmsg_free(msg);
		nl_socket_free(sk);
		return -ENOMEM;
	}
	return genl_call(sk, msg, &call, false);
}

int genl_rekey(uint32_t index, const char *identity, const char *key_desc)
{
	struct genl_call call = { 0 };
	struct nl_sock *sk;
	struct nl_msg *msg;
	int rc = genl_begin(&sk, &msg, 0, NETDISK_CMD_REKEY);

	if (rc)
		return rc;
	if (nla_put_u32(msg, NETDISK_ATTR_INDEX, index) ||
	    nla_put_string(msg, NETDISK_ATTR_IDENTITY, identity) ||
	    nla_put_string(msg, NETDISK_ATTR_KEY_DESC, key_desc)) {
		nlmsg_free(msg);
		nl_socket_free(sk);
		return -ENOMEM;
	}
	return genl_call(sk, msg, &call, false);
}

int genl_list(struct nd_disk **disks, size_t *n)
{
	struct genl_call call = { 0 };
	struct nl_sock *sk;
	struct nl_msg *msg;
	int rc = genl_begin(&sk, &msg, NLM_F_DUMP, NETDISK_CMD_LIST);

	*disks = NULL;
	*n = 0;
	if (rc)
		return rc;
	rc = genl_call(sk, msg, &call, false);
	if (rc) {
		free(call.disks);
		return rc;
	}
	*disks = call.disks;
	*n = call.n;
	return 0;
}
