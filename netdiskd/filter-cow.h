/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * Copy-on-write as a filter over a read-only base backend: each identity
 * sees the base with its own overlay (overlay.c) on top. One filter per
 * identity, shared by that identity's connections.
 */
#ifndef NETDISKD_FILTER_COW_H
#define NETDISKD_FILTER_COW_H

#include <pthread.h>
#include <stddef.h>

#include "backend.h"

struct cow_filter;

/* The filters of one export. */
struct cow_filters {
	const char *dir;		/* the copy-on-write directory */
	const char *export_name;
	struct backend *base;
	pthread_mutex_t lock;
	struct cow_filter *list;	/* under lock */
	bool close_failed;		/* an overlay's last flush failed; under lock */
};

void cow_filters_init(struct cow_filters *f, const char *dir, const char *export_name,
		      struct backend *base);
/* -EIO if the last flush of an overlay that closed failed, else 0. */
int cow_filters_destroy(struct cow_filters *f);

/* identity's view of the export; NULL with -errno in *error and a message in err. */
struct backend *cow_filter_get(struct cow_filters *f, const char *identity, int *error,
			       char *err, size_t err_len);
void cow_filter_put(struct cow_filters *f, struct backend *b);

#endif
