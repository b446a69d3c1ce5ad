/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * What netdiskd says about itself: the status text that the admin socket
 * hands to netdiskctl status, and the same counters in Prometheus' text
 * format, for node_exporter's textfile collector. The status text is lines
 * of KIND KEY=VALUE...; netdiskd(8), "STATUS", gives its fields:
 *
 *   netdisk-status 1
 *   server uptime=S connections=N handshakes=N admitted=N busy=N ...
 *   connection address=A state=serving identity=I export=E age=S ...
 *   end
 *
 * A reader that finds no "end" line got a cut-off answer (the server ran
 * out of memory, or the reader was too slow).
 */
#ifndef NETDISKD_STATUS_H
#define NETDISKD_STATUS_H

#include <stdio.h>

#include "server.h"

/* Writes the status text to f; takes server.lock while it walks the list. */
void status_format(struct server *srv, FILE *f);
/*
 * Replaces path with the metrics, by a rename, so that a reader sees a
 * whole file; 0, or -1 after logging why.
 */
int status_write_metrics(struct server *srv, const char *path);

#endif
