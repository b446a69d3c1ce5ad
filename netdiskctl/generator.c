// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * netdisk-generator: a systemd generator that makes remote-fs.target want
 * netdisk@NAME.service for each disk in /etc/netdisk/netdisktab that has no
 * noauto. systemd runs it at boot and at every daemon-reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nd_tab.h"

#ifndef NETDISK_UNITDIR
#define NETDISK_UNITDIR "/usr/lib/systemd/system"
#endif

int main(int argc, char **argv)
{
	const char *path = getenv("NETDISK_TAB") ? getenv("NETDISK_TAB") : ND_TAB_PATH;
	char err[512], dir[PATH_MAX], link[PATH_MAX + 2 * ND_NAME_SIZE];
	struct nd_tab tab;
	int status = 0;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: netdisk-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n");
		return 2;
	}
	/* a table that cannot be read: say why, attach nothing */
	if (nd_tab_load(&tab, path, err, sizeof(err))) {
		fprintf(stderr, "netdisk-generator: %s\n", err);
		return 1;
	}
	/* a bad line is skipped: it breaks no other disk, and fails the run */
	for (size_t i = 0; i < tab.bad_count; i++) {
		fprintf(stderr, "netdisk-generator: %s (line skipped)\n", tab.bad[i].why);
		status = 1;
	}
	if (snprintf(dir, sizeof(dir), "%s/remote-fs.target.wants", argv[1]) >= (int)sizeof(dir)) {
		fprintf(stderr, "netdisk-generator: %s: path too long\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < tab.count; i++) {
		const struct nd_tab_entry *e = &tab.entries[i];

		if (e->noauto)
			continue;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			fprintf(stderr, "netdisk-generator: %s: %s\n", dir, strerror(errno));
			status = 1;
			break;
		}
		snprintf(link, sizeof(link), "%s/netdisk@%s.service", dir, e->name);
		if (symlink(NETDISK_UNITDIR "/netdisk@.service", link) && errno != EEXIST) {
			fprintf(stderr, "netdisk-generator: %s: %s\n", link, strerror(errno));
			status = 1;
		}
	}
	nd_tab_free(&tab);
	return status;
}
