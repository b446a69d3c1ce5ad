// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters, the attach/detach control files in /sys/kernel/netdisk,
 * and module load and unload.
 */
#define pr_fmt(fmt) "netdisk: " fmt

#include <linux/ctype.h>
#include <linux/inet.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>

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
MODULE_PARM_DESC(cache_mb, "Write-through cache per disk, MiB; 0 is off. Default: 0");

unsigned int nd_dead_timeout_s = 30;
module_param_named(dead_timeout, nd_dead_timeout_s, uint, 0644);
MODULE_PARM_DESC(dead_timeout, "Seconds to keep reconnecting before failing I/O. Default: 30");

unsigned int nd_request_timeout_s = 30;
module_param_named(timeout, nd_request_timeout_s, uint, 0444);
MODULE_PARM_DESC(timeout, "Seconds before an unanswered request forces a reconnect. Default: 30");

unsigned int nd_rekey_records = ND_REKEY_RECORDS;
module_param_named(rekey_records, nd_rekey_records, uint, 0444);
MODULE_PARM_DESC(rekey_records, "Rotate the send key after this many records (testing). Default: 1048576");

struct workqueue_struct *nd_wq;
struct workqueue_struct *nd_io_wq;
static LIST_HEAD(nd_devices);
static DEFINE_MUTEX(nd_devices_lock);
static struct kobject *nd_kobj;

static bool nd_valid_name(const char *s, bool allow_empty)
{
	size_t i, n = strlen(s);

	if (n >= ND_NAME_SIZE || (!n && !allow_empty) || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum(s[i]) && !strchr("._:@-", s[i]))
			return false;
	return true;
}

static int nd_parse_address(struct nd_target *t, const char *addr)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->addr;

	memset(&t->addr, 0, sizeof(t->addr));
	if (strscpy(t->host, addr, sizeof(t->host)) < 0)
		return -EINVAL;
	if (in4_pton(addr, -1, (u8 *)&in4->sin_addr, -1, NULL)) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(t->port);
		if (!t->server_name[0])
			snprintf(t->server_name, ND_NAME_SIZE, "%pI4", &in4->sin_addr);
		return 0;
	}
	if (in6_pton(addr, -1, (u8 *)&in6->sin6_addr, -1, NULL)) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(t->port);
		if (!t->server_name[0])
			snprintf(t->server_name, ND_NAME_SIZE, "%pI6c", &in6->sin6_addr);
		return 0;
	}
	pr_err("'%s' is not an IPv4 or IPv6 address\n", addr);
	return -EINVAL;
}

static void nd_default_identity(char *out)
{
	char host[__NEW_UTS_LEN + 1];

	strscpy(host, utsname()->nodename, sizeof(host));
	host[strcspn(host, ".")] = '\0';
	if (!nd_valid_name(host, false))
		strscpy(host, "netdisk", sizeof(host));
	strscpy(out, host, ND_NAME_SIZE);
}

static int nd_default_connections(void)
{
	return min_t(unsigned int, num_online_cpus(), 4);
}

static int nd_target_finish(struct nd_target *t, const char *addr)
{
	if (!t->identity[0])
		nd_default_identity(t->identity);
	if (!nd_valid_name(t->identity, false)) {
		pr_err("invalid identity '%s'\n", t->identity);
		return -EINVAL;
	}
	if (!nd_valid_name(t->export_name, true)) {
		pr_err("invalid export name '%s'\n", t->export_name);
		return -EINVAL;
	}
	if (!t->connections)
		t->connections = nd_default_connections();
	if (t->connections > ND_MAX_CONNECTIONS) {
		pr_err("at most %d connections\n", ND_MAX_CONNECTIONS);
		return -EINVAL;
	}
	/* a hardware queue without a CPU would never be used */
	if (t->connections > num_online_cpus()) {
		pr_info("%u connections asked for, %u CPUs online: using %u\n",
			t->connections, num_online_cpus(), num_online_cpus());
		t->connections = num_online_cpus();
	}
	if (!t->port)
		return -EINVAL;
	if (t->server_name[0] && !nd_valid_name(t->server_name, false)) {
		pr_err("invalid server name '%s'\n", t->server_name);
		return -EINVAL;
	}
	return nd_parse_address(t, addr);
}

static int nd_attach(struct nd_target *t)
{
	struct nd_device *dev;
	int ret;

	ret = nd_device_attach(t, &dev);
	memzero_explicit(t->key, sizeof(t->key));
	if (ret)
		return ret;
	mutex_lock(&nd_devices_lock);
	list_add_tail(&dev->list, &nd_devices);
	mutex_unlock(&nd_devices_lock);
	return 0;
}

/* "address=A [port=P] [export=E] [identity=I] [server=S] [connections=N] [cache_mb=N] key=HEX" */
static ssize_t nd_attach_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct nd_target *t;
	char *args = NULL, *p, *tok, addr[64] = "";
	size_t args_len = 0;
	bool have_key = false;
	int ret = -EINVAL;

	/* a NUL inside the command would hide the rest of it */
	if (strnlen(buf, count) != count) {
		pr_err("attach: the command contains a NUL byte\n");
		return -EINVAL;
	}
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	args = kstrndup(buf, count, GFP_KERNEL);
	if (!t || !args) {
		ret = -ENOMEM;
		goto out;
	}
	args_len = strlen(args);
	t->port = ND_DEFAULT_PORT;
	p = strim(args);
	while ((tok = strsep(&p, " \t\n")) != NULL) {
		char *val = strchr(tok, '=');
		unsigned int n;

		if (!*tok)
			continue;
		if (!val)
			goto bad;
		*val++ = '\0';
		if (!strcmp(tok, "address")) {
			if (strscpy(addr, val, sizeof(addr)) < 0)
				goto bad;
		} else if (!strcmp(tok, "port")) {
			if (kstrtouint(val, 10, &n) || !n || n > 65535)
				goto bad;
			t->port = n;
		} else if (!strcmp(tok, "export")) {
			if (strscpy(t->export_name, val, ND_NAME_SIZE) < 0)
				goto bad;
		} else if (!strcmp(tok, "identity")) {
			if (strscpy(t->identity, val, ND_NAME_SIZE) < 0)
				goto bad;
		} else if (!strcmp(tok, "server")) {
			if (strscpy(t->server_name, val, ND_NAME_SIZE) < 0)
				goto bad;
		} else if (!strcmp(tok, "connections")) {
			if (kstrtouint(val, 10, &t->connections))
				goto bad;
		} else if (!strcmp(tok, "cache_mb")) {
			if (kstrtouint(val, 10, &t->cache_mb) || t->cache_mb > 1 << 20)
				goto bad;
		} else if (!strcmp(tok, "key")) {
			if (strlen(val) != 2 * ND_KEY_SIZE ||
			    hex2bin(t->key, val, ND_KEY_SIZE))
				goto bad;
			have_key = true;
		} else {
			goto bad;
		}
	}
	if (!addr[0] || !have_key)
		goto bad;
	ret = nd_target_finish(t, addr);
	if (!ret)
		ret = nd_attach(t);
	goto out;
bad:
	pr_err("attach: expected address=ADDR key=HEX [port=N] [export=NAME] [identity=NAME] [server=NAME] [connections=N] [cache_mb=N]\n");
out:
	/* what kstrndup() allocated, not what was written: strsep() put NULs in it */
	if (args)
		memzero_explicit(args, args_len);
	kfree(args);
	if (t)
		memzero_explicit(t, sizeof(*t));
	kfree(t);
	return ret ? ret : count;
}

/* "netdiskN" or "N" */
static ssize_t nd_detach_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct nd_device *dev, *found = NULL;
	char name[32];
	int index;

	strscpy(name, buf, sizeof(name));
	strim(name);
	if (sscanf(name, "netdisk%d", &index) != 1 && kstrtoint(name, 10, &index))
		return -EINVAL;
	mutex_lock(&nd_devices_lock);
	list_for_each_entry(dev, &nd_devices, list) {
		if (dev->index == index) {
			found = dev;
			list_del(&dev->list);
			break;
		}
	}
	mutex_unlock(&nd_devices_lock);
	if (!found)
		return -ENODEV;
	nd_device_detach(found);
	return count;
}

static struct kobj_attribute nd_attach_attr = __ATTR(attach, 0200, NULL, nd_attach_store);
static struct kobj_attribute nd_detach_attr = __ATTR(detach, 0200, NULL, nd_detach_store);
static struct attribute *nd_control_attrs[] = {
	&nd_attach_attr.attr,
	&nd_detach_attr.attr,
	NULL,
};

static const struct attribute_group nd_control_group = { .attrs = nd_control_attrs };

static int __init nd_init(void)
{
	int ret;

	if (!nd_request_timeout_s) {
		pr_err("timeout must be at least 1 second\n");
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
	nd_kobj = kobject_create_and_add("netdisk", kernel_kobj);
	if (!nd_kobj) {
		ret = -ENOMEM;
		goto out_dev;
	}
	ret = sysfs_create_group(nd_kobj, &nd_control_group);
	if (ret)
		goto out_kobj;
	if (nd_param_address) {
		struct nd_target t = { .port = nd_param_port, .connections = nd_param_connections,
				       .cache_mb = nd_param_cache_mb };

		if (!nd_param_key_set) {
			pr_err("address= given without key=\n");
			ret = -EINVAL;
			goto out_kobj;
		}
		memcpy(t.key, nd_param_key, sizeof(nd_param_key));
		if (strscpy(t.export_name, nd_param_export ? nd_param_export : "", ND_NAME_SIZE) < 0 ||
		    strscpy(t.identity, nd_param_identity ? nd_param_identity : "", ND_NAME_SIZE) < 0 ||
		    strscpy(t.server_name, nd_param_server ? nd_param_server : "", ND_NAME_SIZE) < 0) {
			pr_err("export, identity and server are at most %d characters\n",
			       ND_NAME_SIZE - 1);
			ret = -EINVAL;
			goto out_kobj;
		}
		ret = nd_target_finish(&t, nd_param_address);
		if (!ret)
			ret = nd_attach(&t);
		memzero_explicit(&t, sizeof(t));
		if (ret) {
			pr_err("cannot attach %s: error %d\n", nd_param_address, ret);
			goto out_kobj;
		}
	}
	memzero_explicit(nd_param_key, sizeof(nd_param_key));
	return 0;
out_kobj:
	kobject_put(nd_kobj);
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
	struct nd_device *dev, *next;

	kobject_put(nd_kobj);
	list_for_each_entry_safe(dev, next, &nd_devices, list) {
		list_del(&dev->list);
		nd_device_detach(dev);
	}
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
