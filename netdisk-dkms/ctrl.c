// SPDX-License-Identifier: GPL-2.0
/*
 * The control plane: the generic netlink family "netdisk" (attach, detach,
 * list; include/netdisk/netlink.h), the list of attached disks, and keys
 * taken from the caller's keyrings.
 *
 * nd_disks_lock guards the list only; attach and detach run without it, so
 * a slow handshake on one disk never holds up another's detach.
 */
#define pr_fmt(fmt) "netdisk: " fmt

#include <keys/user-type.h>
#include <linux/ctype.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/inet.h>
#include <linux/key.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <net/genetlink.h>

#include <netdisk/netlink.h>

#include "compat.h"
#include "netdisk.h"

static LIST_HEAD(nd_disks);
static DEFINE_MUTEX(nd_disks_lock);

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
		t->connections = min_t(unsigned int, num_online_cpus(), 4);
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
	if (t->cache_mb > 1 << 20) {
		pr_err("cache_mb is at most %u\n", 1 << 20);
		return -EINVAL;
	}
	if (!t->port)
		return -EINVAL;
	if (t->server_name[0] && !nd_valid_name(t->server_name, false)) {
		pr_err("invalid server name '%s'\n", t->server_name);
		return -EINVAL;
	}
	return nd_parse_address(t, addr);
}

int nd_ctrl_attach(struct nd_target *t, const char *addr, int *index)
{
	struct nd_device *dev, *pos;
	int ret;

	ret = nd_target_finish(t, addr);
	if (!ret)
		ret = nd_device_attach(t, &dev);
	memzero_explicit(t->key, sizeof(t->key));
	if (ret)
		return ret;
	/* kept in index order: a list dump resumes after the last index it sent */
	mutex_lock(&nd_disks_lock);
	list_for_each_entry(pos, &nd_disks, list)
		if (pos->index > dev->index)
			break;
	list_add_tail(&dev->list, &pos->list);
	mutex_unlock(&nd_disks_lock);
	if (index)
		*index = dev->index;
	return 0;
}

/*
 * A logon key holds raw bytes; the caller must be able to search for it.
 * Only ours: proving possession of another subsystem's logon key to a
 * server of the caller's choosing would hand that key's use to anyone who
 * may attach.
 */
static int nd_key_from_keyring(const char *desc, u8 out[ND_KEY_SIZE])
{
	const struct user_key_payload *payload;
	struct key *key;
	int ret = 0;

	if (strncmp(desc, NETDISK_KEY_PREFIX, strlen(NETDISK_KEY_PREFIX))) {
		pr_err("key '%s' is not a netdisk key: its description must start with '%s'\n",
		       desc, NETDISK_KEY_PREFIX);
		return -EKEYREJECTED;
	}
	key = request_key(&key_type_logon, desc, NULL);
	if (IS_ERR(key)) {
		ret = PTR_ERR(key);
		pr_err("no logon key '%s' in the caller's keyrings (error %d)\n", desc, ret);
		return ret;
	}
	down_read(&key->sem);
	payload = user_key_payload_locked(key);
	if (!payload) {
		ret = -EKEYREVOKED;
		pr_err("key '%s' has been revoked\n", desc);
	} else if (payload->datalen != ND_KEY_SIZE) {
		ret = -EKEYREJECTED;
		pr_err("key '%s' holds %u bytes, not %d\n", desc, payload->datalen, ND_KEY_SIZE);
	} else {
		memcpy(out, payload->data, ND_KEY_SIZE);
	}
	up_read(&key->sem);
	key_put(key);
	return ret;
}

static struct genl_family nd_genl_family;

static int nd_get_string(struct genl_info *info, int type, char *dst, size_t size)
{
	struct nlattr *a = info->attrs[type];

	if (!a)
		return 0;
	if (nla_strscpy(dst, a, size) < 0) {
		NL_SET_ERR_MSG_ATTR(info->extack, a, "too long");
		return -EINVAL;
	}
	return 0;
}

static int nd_genl_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	char addr[64], key_desc[256];
	struct nd_target *t;
	struct sk_buff *reply;
	void *hdr;
	int index, ret;

	/* as nbd: a disk under a mounted file system is the system's to give */
	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (!attrs[NETDISK_ATTR_ADDRESS] || !attrs[NETDISK_ATTR_KEY_DESC]) {
		NL_SET_ERR_MSG(info->extack, "attach needs an address and a key description");
		return -EINVAL;
	}
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->port = ND_DEFAULT_PORT;
	if (attrs[NETDISK_ATTR_PORT])
		t->port = nla_get_u16(attrs[NETDISK_ATTR_PORT]);
	if (attrs[NETDISK_ATTR_CONNECTIONS])
		t->connections = nla_get_u32(attrs[NETDISK_ATTR_CONNECTIONS]);
	if (attrs[NETDISK_ATTR_CACHE_MB])
		t->cache_mb = nla_get_u32(attrs[NETDISK_ATTR_CACHE_MB]);
	ret = nd_get_string(info, NETDISK_ATTR_ADDRESS, addr, sizeof(addr));
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_KEY_DESC, key_desc, sizeof(key_desc));
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_EXPORT, t->export_name, ND_NAME_SIZE);
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_IDENTITY, t->identity, ND_NAME_SIZE);
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_SERVER, t->server_name, ND_NAME_SIZE);
	ret = ret ?: nd_key_from_keyring(key_desc, t->key);
	if (!ret)
		ret = nd_ctrl_attach(t, addr, &index);
	memzero_explicit(t, sizeof(*t));
	kfree(t);
	if (ret)
		return ret;

	/* the disk is attached: a lost reply does not undo it */
	reply = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!reply)
		return 0;
	hdr = genlmsg_put_reply(reply, info, &nd_genl_family, 0, NETDISK_CMD_ATTACH);
	if (!hdr || nla_put_u32(reply, NETDISK_ATTR_INDEX, index)) {
		nlmsg_free(reply);
		return 0;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

static int nd_genl_detach(struct sk_buff *skb, struct genl_info *info)
{
	struct nd_device *dev, *found = NULL;
	u32 index;

	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (!info->attrs[NETDISK_ATTR_INDEX]) {
		NL_SET_ERR_MSG(info->extack, "detach needs a disk index");
		return -EINVAL;
	}
	index = nla_get_u32(info->attrs[NETDISK_ATTR_INDEX]);
	mutex_lock(&nd_disks_lock);
	list_for_each_entry(dev, &nd_disks, list) {
		if (dev->index == index) {
			found = dev;
			list_del(&dev->list);
			break;
		}
	}
	mutex_unlock(&nd_disks_lock);
	if (!found)
		return -ENODEV;
	nd_device_detach(found);
	return 0;
}

static int nd_genl_put_disk(struct sk_buff *skb, struct netlink_callback *cb,
			    struct nd_device *dev)
{
	void *hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				&nd_genl_family, NLM_F_MULTI, NETDISK_CMD_LIST);

	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, NETDISK_ATTR_INDEX, dev->index) ||
	    nla_put_string(skb, NETDISK_ATTR_ADDRESS, dev->target.host) ||
	    nla_put_u16(skb, NETDISK_ATTR_PORT, dev->target.port) ||
	    nla_put_string(skb, NETDISK_ATTR_EXPORT, dev->target.export_name) ||
	    nla_put_string(skb, NETDISK_ATTR_IDENTITY, dev->target.identity) ||
	    nla_put_string(skb, NETDISK_ATTR_STATE, nd_device_state(dev))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* cb->args[0]: one past the index of the last disk sent */
static int nd_genl_list(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nd_device *dev;
	long next = cb->args[0];

	mutex_lock(&nd_disks_lock);
	list_for_each_entry(dev, &nd_disks, list) {
		if (dev->index < next)
			continue;
		if (nd_genl_put_disk(skb, cb, dev))
			break;
		cb->args[0] = dev->index + 1;
	}
	mutex_unlock(&nd_disks_lock);
	return skb->len;
}

static const struct nla_policy nd_genl_policy[NETDISK_ATTR_MAX + 1] = {
	[NETDISK_ATTR_INDEX]		= { .type = NLA_U32 },
	[NETDISK_ATTR_ADDRESS]		= { .type = NLA_NUL_STRING, .len = 63 },
	[NETDISK_ATTR_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[NETDISK_ATTR_EXPORT]		= { .type = NLA_NUL_STRING, .len = ND_NAME_SIZE - 1 },
	[NETDISK_ATTR_IDENTITY]		= { .type = NLA_NUL_STRING, .len = ND_NAME_SIZE - 1 },
	[NETDISK_ATTR_SERVER]		= { .type = NLA_NUL_STRING, .len = ND_NAME_SIZE - 1 },
	[NETDISK_ATTR_CONNECTIONS]	= { .type = NLA_U32 },
	[NETDISK_ATTR_CACHE_MB]		= { .type = NLA_U32 },
	[NETDISK_ATTR_KEY_DESC]		= { .type = NLA_NUL_STRING, .len = 255 },
	[NETDISK_ATTR_STATE]		= { .type = NLA_REJECT },
};

static const struct genl_small_ops nd_genl_ops[] = {
	{
		.cmd	= NETDISK_CMD_ATTACH,
		.doit	= nd_genl_attach,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= NETDISK_CMD_DETACH,
		.doit	= nd_genl_detach,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= NETDISK_CMD_LIST,
		.dumpit	= nd_genl_list,
	},
};

static struct genl_family nd_genl_family __ro_after_init = {
	.name		= NETDISK_GENL_NAME,
	.version	= NETDISK_GENL_VERSION,
	.maxattr	= NETDISK_ATTR_MAX,
	.policy		= nd_genl_policy,
	.module		= THIS_MODULE,
	.parallel_ops	= true,
	.small_ops	= nd_genl_ops,
	.n_small_ops	= ARRAY_SIZE(nd_genl_ops),
};

int nd_ctrl_init(void)
{
	return genl_register_family(&nd_genl_family);
}

/* No command runs once the family is gone: what is left can be detached. */
void nd_ctrl_exit(void)
{
	struct nd_device *dev, *next;

	genl_unregister_family(&nd_genl_family);
	list_for_each_entry_safe(dev, next, &nd_disks, list) {
		list_del(&dev->list);
		nd_device_detach(dev);
	}
}

/* the first netlink lookup of the family loads the module */
MODULE_ALIAS_GENL_FAMILY(NETDISK_GENL_NAME);
