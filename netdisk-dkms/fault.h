/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test builds only (make NETDISK_TEST=1): a delay at one named point of the
 * lifecycle, to widen the window between two of its steps so that a VM
 * suite can land in it. Other builds compile every point to nothing.
 */
#ifndef _NETDISK_FAULT_H
#define _NETDISK_FAULT_H

enum nd_fault_point {
	ND_FAULT_NONE,
	ND_FAULT_RECOVER_OPENED,	/* recovery: a connection opened, not started */
	ND_FAULT_FAILED,		/* a connection failed, recovery not yet queued */
	ND_FAULT_QUEUE,			/* nd_conn_queue: tested live, not yet queued */
	ND_FAULT_RECOVER_STARTED,	/* recovery: connection started, queue not */
	ND_FAULT_IO_WORK,		/* io_work: queued, not yet looked at the connection */
	ND_FAULT_ATTACH_STARTED,	/* attach: a connection started, its queue not live */
};

#ifdef NETDISK_TEST
/* Waits fault_delay_ms once, if fault_point names p; atomic: busy-waits. */
void nd_fault_delay(enum nd_fault_point p, bool atomic);
#else
static inline void nd_fault_delay(enum nd_fault_point p, bool atomic)
{
}
#endif

#endif
