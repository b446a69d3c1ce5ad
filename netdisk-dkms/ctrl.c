// SPDX-License-Identifier: GPL-2.0
/*
 * The control plane: the generic netlink family "netdisk" (attach, detach,
 * list, rekey; include/netdisk/netlink.h), the list of attached disks, and
 * keys taken from the caller's keyrings.
 *
 * nd_disks_lock guards the list only; attach and detach run without it, so
 * a slow handshake on one disk never holds up another's detach.
 *
 * An attach asked for over netlink runs in a work item, not in the genl
 * handler: its handshakes can take seconds each, and the handler holds
 * genetlink's cb_lock, behind which every family's registration, and then
 * every generic netlink request on the system, would wait. The handler
 * checks the request and takes the key in the caller's context; the work,
 * on nd_attach_wq, reports the outcome to the caller's socket. Each pending
 * attach holds a module reference, dropped as the work's last step:
 * nd_ctrl_exit destroys nd_attach_wq, which waits for the work to return.
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
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <net/genetlink.h>

#include <netdisk/netlink.h>

#include "compat.h"
#include "netdisk.h"

static LIST_HEAD(nd_disks);
static DEFINE_MUTEX(nd_disks_lock);

/* An ATTACH being carried out for a netlink caller. */
struct nd_attach_req {
	struct work_struct work;
	struct list_head entry;		/* nd_attach_reqs */
	struct nd_target t;
	char addr[64];
	struct net *net;		/* the caller's socket: portid in net */
	u32 portid, seq;
	bool abandoned;			/* that socket closed */
};

/* pending attaches; the netlink notifier marks theirs abandoned */
static LIST_HEAD(nd_attach_reqs);
static DEFINE_SPINLOCK(nd_attach_lock);
/* not WQ_MEM_RECLAIM: an attach must not hold the rescuer recovery needs */
static struct workqueue_struct *nd_attach_wq;

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
	/* an identity given, even the host name, goes into the link's name */
	t->identity_default = !t->identity[0];
	if (!t->identity[0])
		nd_default_identity(t->identity);
	if (t->name[0] && !nd_valid_name(t->name, false)) {
		pr_err("invalid disk name '%s'\n", t->name);
		return -EINVAL;
	}
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
	if (!t->timeout_s)
		t->timeout_s = nd_request_timeout_s;
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

/* Makes an attached disk visible to list and detach. */
static void nd_ctrl_publish(struct nd_device *dev)
{
	struct nd_device *pos;

	/* kept in index order: a list dump resumes after the last index it sent */
	mutex_lock(&nd_disks_lock);
	list_for_each_entry(pos, &nd_disks, list)
		if (pos->index > dev->index)
			break;
	list_add_tail(&dev->list, &pos->list);
	mutex_unlock(&nd_disks_lock);
}

int nd_ctrl_attach(struct nd_target *t, const char *addr, int *index)
{
	struct nd_device *dev;
	int ret = nd_target_finish(t, addr);

	if (!ret)
		ret = nd_device_attach(t, &dev);
	memzero_explicit(t->key, sizeof(t->key));
	if (ret)
		return ret;
	nd_ctrl_publish(dev);
	if (index)
		*index = dev->index;
	return 0;
}

static int nd_ctrl_detach(u32 index)
{
	struct nd_device *dev, *found = NULL;

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

/* The outcome, to the socket that asked; lost if it is gone or full. */
static void nd_attach_report(struct nd_attach_req *r, int ret, int index)
{
	struct sk_buff *skb = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	void *hdr;

	if (!skb)
		return;
	hdr = genlmsg_put(skb, r->portid, r->seq, &nd_genl_family, 0, NETDISK_CMD_ATTACH);
	if (!hdr || (ret ? nla_put_s32(skb, NETDISK_ATTR_ERROR, ret) :
			   nla_put_u32(skb, NETDISK_ATTR_INDEX, index))) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_unicast(r->net, skb, r->portid);
}

/*
 * An attach whose caller's socket closed runs to its end all the same (its
 * handshakes and a busy server's wait), and the disk is then detached
 * before anyone could see it. A socket that closes after that check does
 * not undo the attach; its report is lost.
 */
static void nd_attach_work(struct work_struct *work)
{
	struct nd_attach_req *r = container_of(work, struct nd_attach_req, work);
	struct nd_device *dev;
	bool abandoned;
	int ret;

	ret = nd_device_attach(&r->t, &dev);
	spin_lock(&nd_attach_lock);
	list_del(&r->entry);
	abandoned = r->abandoned;
	spin_unlock(&nd_attach_lock);
	if (abandoned && !ret) {
		pr_info("netdisk%d: the process that asked for it is gone: detaching\n",
			dev->index);
		nd_device_detach(dev);
	} else if (!abandoned) {
		if (!ret)
			nd_ctrl_publish(dev);
		nd_attach_report(r, ret, ret ? -1 : dev->index);
	}
	put_net(r->net);
	kfree_sensitive(r);
	module_put(THIS_MODULE);
}

/* A caller's socket closed: the attach it asked for is no longer wanted. */
static int nd_netlink_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct nd_attach_req *r;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	spin_lock(&nd_attach_lock);
	list_for_each_entry(r, &nd_attach_reqs, entry)
		if (r->portid == n->portid && net_eq(r->net, n->net))
			r->abandoned = true;
	spin_unlock(&nd_attach_lock);
	return NOTIFY_DONE;
}

static struct notifier_block nd_netlink_notifier = {
	.notifier_call = nd_netlink_event,
};

static int nd_genl_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct nd_attach_req *r;
	char key_desc[256];
	struct nd_target *t;
	int ret;

	/* as nbd: a disk under a mounted file system is the system's to give */
	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (!attrs[NETDISK_ATTR_ADDRESS] || !attrs[NETDISK_ATTR_KEY_DESC]) {
		NL_SET_ERR_MSG(info->extack, "attach needs an address and a key description");
		return -EINVAL;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	t = &r->t;
	t->port = ND_DEFAULT_PORT;
	if (attrs[NETDISK_ATTR_PORT])
		t->port = nla_get_u16(attrs[NETDISK_ATTR_PORT]);
	if (attrs[NETDISK_ATTR_CONNECTIONS])
		t->connections = nla_get_u32(attrs[NETDISK_ATTR_CONNECTIONS]);
	if (attrs[NETDISK_ATTR_CACHE_MB])
		t->cache_mb = nla_get_u32(attrs[NETDISK_ATTR_CACHE_MB]);
	if (attrs[NETDISK_ATTR_TIMEOUT])
		t->timeout_s = nla_get_u32(attrs[NETDISK_ATTR_TIMEOUT]);
	t->dead_timeout_s = ND_DEAD_TIMEOUT_MODULE;
	if (attrs[NETDISK_ATTR_DEAD_TIMEOUT])
		t->dead_timeout_s = nla_get_u32(attrs[NETDISK_ATTR_DEAD_TIMEOUT]);
	/* the blk-mq timer holds jiffies in an unsigned int: a day at most */
	if ((attrs[NETDISK_ATTR_TIMEOUT] && (!t->timeout_s || t->timeout_s > ND_MAX_TIMEOUT_S)) ||
	    (t->dead_timeout_s != ND_DEAD_TIMEOUT_MODULE && t->dead_timeout_s > ND_MAX_DEAD_TIMEOUT_S)) {
		NL_SET_ERR_MSG(info->extack, "timeout is 1..86400 s, dead_timeout 0..31536000 s");
		kfree_sensitive(r);
		return -ERANGE;
	}
	ret = nd_get_string(info, NETDISK_ATTR_ADDRESS, r->addr, sizeof(r->addr));
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_KEY_DESC, key_desc, sizeof(key_desc));
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_EXPORT, t->export_name, ND_NAME_SIZE);
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_IDENTITY, t->identity, ND_NAME_SIZE);
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_SERVER, t->server_name, ND_NAME_SIZE);
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_NAME, t->name, ND_NAME_SIZE);
	ret = ret ?: nd_target_finish(t, r->addr);
	/* the caller's keyrings: only here, in the caller's context */
	ret = ret ?: nd_key_from_keyring(key_desc, t->key);
	if (ret) {
		kfree_sensitive(r);
		return ret;
	}
	/* genetlink holds no reference for a doit: the module may be going */
	if (!try_module_get(THIS_MODULE)) {
		kfree_sensitive(r);
		return -ENODEV;
	}
	INIT_WORK(&r->work, nd_attach_work);
	r->net = get_net(genl_info_net(info));
	r->portid = info->snd_portid;
	r->seq = info->snd_seq;
	spin_lock(&nd_attach_lock);
	list_add(&r->entry, &nd_attach_reqs);
	spin_unlock(&nd_attach_lock);
	queue_work(nd_attach_wq, &r->work);
	return 0;
}

static int nd_genl_detach(struct sk_buff *skb, struct genl_info *info)
{
	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (!info->attrs[NETDISK_ATTR_INDEX]) {
		NL_SET_ERR_MSG(info->extack, "detach needs a disk index");
		return -EINVAL;
	}
	return nd_ctrl_detach(nla_get_u32(info->attrs[NETDISK_ATTR_INDEX]));
}

/*
 * A new key for an attached disk: its connections go on under the session
 * keys they have, and each handshake from now on proves the new key. The
 * disk list's lock keeps the device from being freed meanwhile. With an
 * IDENTITY, the disk must still be one of that identity: not another that
 * took the index since the caller looked.
 */
static int nd_genl_rekey(struct sk_buff *skb, struct genl_info *info)
{
	char key_desc[256], identity[ND_NAME_SIZE] = "";
	struct nd_device *dev;
	u8 key[ND_KEY_SIZE];
	u32 index;
	int ret;

	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (!info->attrs[NETDISK_ATTR_INDEX] || !info->attrs[NETDISK_ATTR_KEY_DESC]) {
		NL_SET_ERR_MSG(info->extack, "rekey needs a disk index and a key description");
		return -EINVAL;
	}
	index = nla_get_u32(info->attrs[NETDISK_ATTR_INDEX]);
	ret = nd_get_string(info, NETDISK_ATTR_KEY_DESC, key_desc, sizeof(key_desc));
	ret = ret ?: nd_get_string(info, NETDISK_ATTR_IDENTITY, identity, sizeof(identity));
	ret = ret ?: nd_key_from_keyring(key_desc, key);
	if (ret)
		return ret;
	ret = -ENODEV;
	mutex_lock(&nd_disks_lock);
	list_for_each_entry(dev, &nd_disks, list) {
		if (dev->index == index && identity[0] &&
		    strcmp(identity, dev->target.identity)) {
			ret = -ESTALE;
			break;
		}
		if (dev->index == index) {
			nd_target_set_key(&dev->target, key);
			pr_info("netdisk%u: new key from '%s', used from the next connection\n",
				index, key_desc);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&nd_disks_lock);
	memzero_explicit(key, sizeof(key));
	return ret;
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
	[NETDISK_ATTR_ERROR]		= { .type = NLA_REJECT },
	/* ranges: nd_genl_attach */
	[NETDISK_ATTR_TIMEOUT]		= { .type = NLA_U32 },
	[NETDISK_ATTR_DEAD_TIMEOUT]	= { .type = NLA_U32 },
	[NETDISK_ATTR_NAME]		= { .type = NLA_NUL_STRING, .len = ND_NAME_SIZE - 1 },
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
	{
		.cmd	= NETDISK_CMD_REKEY,
		.doit	= nd_genl_rekey,
		.flags	= GENL_ADMIN_PERM,
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
	int ret;

	nd_attach_wq = alloc_workqueue("netdisk_attach", WQ_UNBOUND, 0);
	if (!nd_attach_wq)
		return -ENOMEM;
	ret = netlink_register_notifier(&nd_netlink_notifier);
	if (ret)
		goto out_wq;
	ret = genl_register_family(&nd_genl_family);
	if (ret)
		goto out_notifier;
	return 0;
out_notifier:
	netlink_unregister_notifier(&nd_netlink_notifier);
out_wq:
	destroy_workqueue(nd_attach_wq);
	return ret;
}

/*
 * No command runs once the family is gone, and no attach is pending, since
 * each holds a module reference: what is left can be detached.
 */
void nd_ctrl_exit(void)
{
	struct nd_device *dev, *next;

	genl_unregister_family(&nd_genl_family);
	netlink_unregister_notifier(&nd_netlink_notifier);
	/* empty: each pending attach held the module; waits for the last return */
	destroy_workqueue(nd_attach_wq);
	list_for_each_entry_safe(dev, next, &nd_disks, list) {
		list_del(&dev->list);
		nd_device_detach(dev);
	}
}

/* the first netlink lookup of the family loads the module */
MODULE_ALIAS_GENL_FAMILY(NETDISK_GENL_NAME);
