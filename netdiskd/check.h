/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * netdiskd --check, as sshd -t: the configuration and keys as a start
 * would load them, and each export probed read-only; prints what would be
 * served. Changes nothing, and runs beside a serving netdiskd.
 */
#ifndef NETDISKD_CHECK_H
#define NETDISKD_CHECK_H

#include "config.h"
#include "nd_keys.h"

/* Returns the exit status: 0 when every export can be served, else 1. */
int check_config(const struct server_config *cfg, const struct nd_keyring *keys);

#endif
