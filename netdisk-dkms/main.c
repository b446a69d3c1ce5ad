// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters, the attach they ask for at load, and module load and
 * unload. Attach and detach at run time are ctrl.c's.
 */
#define pr_fmt(fmt) "netdisk: " fmt

#include <linux/module.h>
#include <linux/string.h>

#include "compat.h"
#include "netdisk.h"

static char *nd_param_address;
module_param_named(address, nd_param_address, charp, 0444);
MODULE_PARM_DESC(address, "Server to attach at load: IPv4 or IPv6 literal. Default: none");

static unsigned short nd_param_port = ND_DEFAULT_PORT;
module_param_named(port, nd_param_port, ushort, 0444);
MODULE_PARM_DESC(port, "Server port. Default: 26547");

static char *nd_param_export;
module_param_named(export, nd_param_export, charp, 0444);
MODULE_PARM_DESC(export, "Export name. Default: the server's default export");

static char *nd_param_identity;
module_param_named(identity, nd_param_identity, charp, 0444);
MODULE_PARM_DESC(identity, "Identity presented to the server. Default: the host name");

static char *nd_param_server;
module_param_named(server, nd_param_server, charp, 0444);
MODULE_PARM_DESC(server, "Name the server must answer to (docs/protocol.md). Default: the address");

static u8 nd_param_key[ND_KEY_SIZE];
static bool nd_param_key_set;

static int nd_key_param_set(const char *val, const struct kernel_param *kp)
{
	/* room for a key and a newline: anything longer is refused, not cut */
	char buf[2 * ND_KEY_SIZE + 2], hex[2 * ND_KEY_SIZE + 1];
	char *trimmed;
	bool ok;

	strscpy(buf, val, sizeof(buf));
	trimmed = strim(buf);
	ok = strlen(val) < sizeof(buf) && strlen(trimmed) == 2 * ND_KEY_SIZE;
	strscpy(hex, trimmed, sizeof(hex));
	memzero_explicit(buf, sizeof(buf));
	if (!ok || hex2bin(nd_param_key, hex, ND_KEY_SIZE)) {
		memzero_explicit(hex, sizeof(hex));
		pr_err("key must be 64 hex digits\n");
		return -EINVAL;
	}
	memzero_explicit(hex, sizeof(hex));
	nd_param_key_set = true;
	return 0;
}

static const struct kernel_param_ops nd_key_param_ops = {
	.set = nd_key_param_set,
};

/* Mode 0: the key never appears under /sys/module/netdisk/parameters. */
module_param_cb(key, &nd_key_param_ops, NULL, 0);
MODULE_PARM_DESC(key, "Pre-shared key, 64 hex digits (write-only)");

static unsigned int nd_param_connections;
module_param_named(connections, nd_param_connections, uint, 0444);
MODULE_PARM_DESC(connections, "Connections (hardware queues) per disk. Default: min(online CPUs, 4)");

static unsigned int nd_param_cache_mb;
module_param_named(cache_mb, nd_param_cache_mb, uint, 0444);
MODULE_PARM_DESC(cache_mb, "Read cache per disk, MiB; writes drop their range; 0 is off. Default: 0");

unsigned int nd_dead_timeout_s = 30;
module_param_named(dead_timeout, nd_dead_timeout_s, uint, 0644);
MODULE_PARM_DESC(dead_timeout, "Seconds to keep reconnecting before failing I/O; 0: never fail. Default: 30");

unsigned int nd_request_timeout_s = 30;
module_param_named(timeout, nd_request_timeout_s, uint, 0444);
MODULE_PARM_DESC(timeout, "Seconds before an unanswered request forces a reconnect. Default: 30");

unsigned int nd_rekey_records = ND_REKEY_RECORDS;
module_param_named(rekey_records, nd_rekey_records, uint, 0444);
MODULE_PARM_DESC(rekey_records, "Rotate the send key after this many records (testing). Default: 1048576");

struct workqueue_struct *nd_wq;
struct workqueue_struct *nd_io_wq;

static int __init nd_init(void)
{
	int ret;

	/* docs/protocol.md's sizes, which userspace asserts too */
	BUILD_BUG_ON(sizeof(struct nd_client_hello) != 292);
	BUILD_BUG_ON(sizeof(struct nd_server_hello) != 72);
	BUILD_BUG_ON(sizeof(struct nd_info) != 48);

	if (!nd_request_timeout_s) {
		pr_err("timeout must be at least 1 second\n");
		return -EINVAL;
	}
	if (!nd_rekey_records) {
		pr_err("rekey_records must be at least 1\n");
		return -EINVAL;
	}
	nd_wq = alloc_workqueue("netdisk", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!nd_wq)
		return -ENOMEM;
	nd_io_wq = alloc_workqueue("netdisk_io", WQ_MEM_RECLAIM | WQ_HIGHPRI | WQ_UNBOUND, 0);
	if (!nd_io_wq) {
		ret = -ENOMEM;
		goto out_wq;
	}
	ret = nd_memalloc_hold();
	if (ret)
		goto out_io_wq;
	ret = nd_device_init();
	if (ret)
		goto out_hold;
	ret = nd_ctrl_init();
	if (ret)
		goto out_dev;
	if (nd_param_address) {
		struct nd_target t = { .port = nd_param_port, .connections = nd_param_connections,
				       .cache_mb = nd_param_cache_mb,
				       .dead_timeout_s = ND_DEAD_TIMEOUT_MODULE };

		if (!nd_param_key_set) {
			pr_err("address= given without key=\n");
			ret = -EINVAL;
			goto out_ctrl;
		}
		memcpy(t.key, nd_param_key, sizeof(nd_param_key));
		if (strscpy(t.export_name, nd_param_export ? nd_param_export : "", ND_NAME_SIZE) < 0 ||
		    strscpy(t.identity, nd_param_identity ? nd_param_identity : "", ND_NAME_SIZE) < 0 ||
		    strscpy(t.server_name, nd_param_server ? nd_param_server : "", ND_NAME_SIZE) < 0) {
			pr_err("export, identity and server are at most %d characters\n",
			       ND_NAME_SIZE - 1);
			ret = -EINVAL;
			goto out_ctrl;
		}
		ret = nd_ctrl_attach(&t, nd_param_address, NULL);
		memzero_explicit(&t, sizeof(t));
		if (ret) {
			pr_err("cannot attach %s: error %d\n", nd_param_address, ret);
			goto out_ctrl;
		}
	}
	memzero_explicit(nd_param_key, sizeof(nd_param_key));
	return 0;
out_ctrl:
	nd_ctrl_exit();
out_dev:
	nd_device_exit();
out_hold:
	nd_memalloc_release();
out_io_wq:
	destroy_workqueue(nd_io_wq);
out_wq:
	destroy_workqueue(nd_wq);
	memzero_explicit(nd_param_key, sizeof(nd_param_key));
	return ret;
}

static void __exit nd_exit(void)
{
	nd_ctrl_exit();
	nd_device_exit();
	nd_memalloc_release();
	destroy_workqueue(nd_io_wq);
	destroy_workqueue(nd_wq);
}

module_init(nd_init);
module_exit(nd_exit);
MODULE_DESCRIPTION("netdisk: encrypted, authenticated remote block device");
MODULE_LICENSE("GPL");
MODULE_VERSION(NETDISK_VERSION);
