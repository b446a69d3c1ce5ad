// SPDX-License-Identifier: GPL-2.0
/* What a disk shows in /sys/block/netdiskN/netdisk/. */
#include <linux/blkdev.h>
#include <linux/device.h>

#include "netdisk.h"

static struct nd_device *nd_to_device(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

/* DEVICE_ATTR_RO() with the names prefixed */
#define ND_ATTR_RO(name)							\
static struct device_attribute nd_attr_##name =				\
	__ATTR(name, 0444, nd_##name##_show, NULL)

#define ND_STRING_ATTR(name, expr)						\
static ssize_t nd_##name##_show(struct device *d, struct device_attribute *a,	\
			   char *buf)						\
{										\
	struct nd_device *dev = nd_to_device(d);					\
										\
	return sysfs_emit(buf, "%s\n", expr);					\
}										\
ND_ATTR_RO(name)

#define ND_COUNTER_ATTR(name)							\
static ssize_t nd_##name##_show(struct device *d, struct device_attribute *a,	\
			   char *buf)						\
{										\
	return sysfs_emit(buf, "%lld\n",					\
			  atomic64_read(&nd_to_device(d)->stats.name));		\
}										\
ND_ATTR_RO(name)

ND_STRING_ATTR(host, dev->target.host);
ND_STRING_ATTR(export, dev->target.export_name);
ND_STRING_ATTR(identity, dev->target.identity);
ND_STRING_ATTR(name, dev->target.name);

/*
 * The name udev gives /dev/netdisk/: [IDENTITY@]HOST[_PORT][-EXPORT], with
 * the identity and port only where they are not the defaults, so that two
 * disks that differ only in them do not share a link.
 */
static ssize_t nd_link_show(struct device *d, struct device_attribute *a, char *buf)
{
	const struct nd_target *t = &nd_to_device(d)->target;
	int n = 0;

	if (!t->identity_default)
		n += sysfs_emit_at(buf, n, "%s@", t->identity);
	n += sysfs_emit_at(buf, n, "%s", t->host);
	if (t->port != ND_DEFAULT_PORT)
		n += sysfs_emit_at(buf, n, "_%u", t->port);
	if (t->export_name[0])
		n += sysfs_emit_at(buf, n, "-%s", t->export_name);
	return n + sysfs_emit_at(buf, n, "\n");
}
ND_ATTR_RO(link);

/* The export's UUID, for /dev/disk/by-id/netdisk-UUID */
static ssize_t nd_uuid_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%pUb\n", nd_to_device(d)->info.uuid);
}
ND_ATTR_RO(uuid);
ND_COUNTER_ATTR(reads);
ND_COUNTER_ATTR(writes);
ND_COUNTER_ATTR(flushes);
ND_COUNTER_ATTR(discards);
ND_COUNTER_ATTR(write_zeroes);
ND_COUNTER_ATTR(bytes_read);
ND_COUNTER_ATTR(bytes_written);
ND_COUNTER_ATTR(errors);
ND_COUNTER_ATTR(reconnects);
ND_COUNTER_ATTR(lost_writes);

#define ND_CACHE_ATTR(name)							\
static ssize_t nd_cache_##name##_show(struct device *d,				\
				   struct device_attribute *a, char *buf)	\
{										\
	return sysfs_emit(buf, "%lld\n",					\
			  atomic64_read(&nd_to_device(d)->cache.name));		\
}										\
ND_ATTR_RO(cache_##name)

ND_CACHE_ATTR(hits);
ND_CACHE_ATTR(misses);
ND_CACHE_ATTR(evictions);

static ssize_t nd_cache_bytes_show(struct device *d, struct device_attribute *a,
				char *buf)
{
	return sysfs_emit(buf, "%lu\n", nd_cache_bytes(&nd_to_device(d)->cache));
}
ND_ATTR_RO(cache_bytes);

static ssize_t nd_cache_limit_bytes_show(struct device *d, struct device_attribute *a,
				      char *buf)
{
	return sysfs_emit(buf, "%lu\n", nd_to_device(d)->cache.limit << 12);
}
ND_ATTR_RO(cache_limit_bytes);

/* Reply data that had to be copied before it was opened (see conn.h). */
static ssize_t nd_rx_copied_bytes_show(struct device *d, struct device_attribute *a,
				       char *buf)
{
	struct nd_device *dev = nd_to_device(d);
	unsigned int i;
	u64 sum = 0;

	for (i = 0; i < dev->nr_queues; i++)
		sum += READ_ONCE(dev->queues[i].conn.rx_copied);
	return sysfs_emit(buf, "%llu\n", sum);
}
ND_ATTR_RO(rx_copied_bytes);

static ssize_t nd_port_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", nd_to_device(d)->target.port);
}
ND_ATTR_RO(port);

static ssize_t nd_connections_show(struct device *d, struct device_attribute *a,
				char *buf)
{
	return sysfs_emit(buf, "%u\n", nd_to_device(d)->nr_queues);
}
ND_ATTR_RO(connections);

static ssize_t nd_timeout_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", nd_to_device(d)->target.timeout_s);
}
ND_ATTR_RO(timeout);

/* the one in force: the disk's own, or the module's */
static ssize_t nd_dead_timeout_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", nd_dead_timeout(nd_to_device(d)));
}
ND_ATTR_RO(dead_timeout);

static ssize_t nd_state_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n", nd_device_state(nd_to_device(d)));
}
ND_ATTR_RO(state);

/*
 * One line per connection: its index, state (live, reconnecting, failed),
 * the requests sent on it, its reconnects, the records sealed on its
 * current socket, the requests in flight on it, the most ever in flight
 * on it at once, and the send pages it had to renew (txring.h). A
 * snapshot read without locks: the fields of a line may come from moments
 * apart.
 */
static ssize_t nd_queues_show(struct device *d, struct device_attribute *a, char *buf)
{
	struct nd_device *dev = nd_to_device(d);
	unsigned int i;
	int len = 0;

	for (i = 0; i < dev->nr_queues; i++) {
		struct nd_queue *q = &dev->queues[i];
		const char *state = nd_queue_state_name(READ_ONCE(q->state));

		len += sysfs_emit_at(buf, len,
				     "%u %s requests=%lld reconnects=%lld records=%llu inflight=%u peak_inflight=%u renewed_pages=%llu\n",
				     i, state, (long long)atomic64_read(&q->requests),
				     (long long)atomic64_read(&q->reconnects),
				     (unsigned long long)READ_ONCE(q->conn.tx_sealed),
				     READ_ONCE(q->conn.tx_inflight),
				     READ_ONCE(q->conn.tx_inflight_peak),
				     (unsigned long long)READ_ONCE(q->conn.tx_ring.renewed));
	}
	return len;
}
ND_ATTR_RO(queues);

static struct attribute *nd_disk_attrs[] = {
	&nd_attr_host.attr,
	&nd_attr_port.attr,
	&nd_attr_export.attr,
	&nd_attr_identity.attr,
	&nd_attr_name.attr,
	&nd_attr_link.attr,
	&nd_attr_uuid.attr,
	&nd_attr_state.attr,
	&nd_attr_connections.attr,
	&nd_attr_timeout.attr,
	&nd_attr_dead_timeout.attr,
	&nd_attr_queues.attr,
	&nd_attr_reads.attr,
	&nd_attr_writes.attr,
	&nd_attr_flushes.attr,
	&nd_attr_discards.attr,
	&nd_attr_write_zeroes.attr,
	&nd_attr_bytes_read.attr,
	&nd_attr_bytes_written.attr,
	&nd_attr_errors.attr,
	&nd_attr_reconnects.attr,
	&nd_attr_lost_writes.attr,
	&nd_attr_rx_copied_bytes.attr,
	&nd_attr_cache_hits.attr,
	&nd_attr_cache_misses.attr,
	&nd_attr_cache_evictions.attr,
	&nd_attr_cache_bytes.attr,
	&nd_attr_cache_limit_bytes.attr,
	NULL,
};

static const struct attribute_group nd_disk_group = {
	.name = "netdisk",
	.attrs = nd_disk_attrs,
};

const struct attribute_group *nd_disk_groups[] = {
	&nd_disk_group,
	NULL,
};
