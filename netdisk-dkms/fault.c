// SPDX-License-Identifier: GPL-2.0
/*
 * Test builds only: /sys/module/netdisk/parameters/fault_point arms one
 * point of fault.h; the next pass through it logs "fault point N" and waits
 * fault_delay_ms, and disarms it. A suite arms a point, waits for the line
 * in the log, and then does what must race with the step that follows.
 */
#define pr_fmt(fmt) "netdisk: " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/module.h>

#include "fault.h"

static unsigned int nd_fault_point;
module_param_named(fault_point, nd_fault_point, uint, 0644);
MODULE_PARM_DESC(fault_point, "Test builds: the point of fault.h the next delay is at");

static unsigned int nd_fault_delay_ms = 2000;
module_param_named(fault_delay_ms, nd_fault_delay_ms, uint, 0644);
MODULE_PARM_DESC(fault_delay_ms, "Test builds: how long a fault point waits");

void nd_fault_delay(enum nd_fault_point p, bool atomic)
{
	unsigned int ms = READ_ONCE(nd_fault_delay_ms);

	if (READ_ONCE(nd_fault_point) != p || cmpxchg(&nd_fault_point, p, ND_FAULT_NONE) != p)
		return;
	pr_info("fault point %u: waiting %u ms\n", p, ms);
	if (atomic)
		mdelay(ms);
	else
		msleep(ms);
}
