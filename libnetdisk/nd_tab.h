/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * /etc/netdisk/netdisktab: the disks to attach at boot, one per line:
 *   NAME  netdisk://[IDENTITY@]HOST[:PORT][/EXPORT]  [OPTION[,OPTION...]]
 * netdisktab(5) documents the options.
 */
#ifndef ND_TAB_H
#define ND_TAB_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>

#include "nd_client.h"

#define ND_TAB_PATH "/etc/netdisk/netdisktab"
/* the module's bounds on timeout= and dead-timeout= (include/netdisk/netlink.h) */
#define ND_TAB_MAX_TIMEOUT_S		86400U
#define ND_TAB_MAX_DEAD_TIMEOUT_S	(365U * 86400U)
/* a server still booting when netdisk@NAME starts: retried this long */
#define ND_TAB_ATTACH_TIMEOUT_S		60U

struct nd_tab_entry {
	char name[ND_NAME_SIZE];	/* the instance: netdisk@NAME.service */
	struct nd_uri uri;
	char key_file[PATH_MAX];	/* "": netdiskctl's default */
	char server_name[ND_NAME_SIZE];	/* "": the URI's host */
	unsigned int connections;	/* 0: the module's default */
	unsigned int cache_mb;
	unsigned int timeout_s;		/* 0: the module's */
	unsigned int dead_timeout_s;	/* if dead_timeout_set; 0: never fail */
	bool dead_timeout_set;
	unsigned int attach_timeout_s;	/* attach retries this long; default below */
	bool noauto;			/* not attached at boot */
	unsigned int line;
};

/* A line that does not parse: skipped, so that it breaks no other disk. */
struct nd_tab_bad {
	char name[ND_NAME_SIZE];	/* the disk it names, "" if none reads */
	char why[640];			/* "SOURCE:LINE: reason" */
};

struct nd_tab {
	struct nd_tab_entry *entries;
	size_t count;
	struct nd_tab_bad *bad;
	size_t bad_count;
};

/*
 * Every good line becomes an entry and every bad one a struct nd_tab_bad
 * (of two lines with one name, the second is the bad one). 0, or -1 with
 * the reason in err when the table cannot be read at all (out of memory);
 * nothing to free on failure.
 */
int nd_tab_parse(struct nd_tab *tab, const char *text, const char *source,
		 char *err, size_t err_len);
/* A missing file is an empty table. */
int nd_tab_load(struct nd_tab *tab, const char *path, char *err, size_t err_len);
const struct nd_tab_entry *nd_tab_find(const struct nd_tab *tab, const char *name);
/* The first bad line naming disk name, or NULL. */
const struct nd_tab_bad *nd_tab_find_bad(const struct nd_tab *tab, const char *name);
void nd_tab_free(struct nd_tab *tab);

/*
 * A decimal number 0..max and nothing else, for the options that the table
 * and netdiskctl's command line share; -1 otherwise.
 */
int nd_parse_uint(const char *s, unsigned int max, unsigned int *out);

#endif
