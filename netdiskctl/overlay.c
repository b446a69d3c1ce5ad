// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskctl overlay: netdiskd's copy-on-write overlays, through its own code. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "nd_fileio.h"
#include "netdiskctl.h"
#include "overlay.h"

static void check_names(const char *export_name, const char *identity)
{
	if (!*export_name || !nd_valid_export_name(export_name))
		die("invalid export name '%s'", export_name);
	if (identity && !nd_valid_identity(identity))
		die("invalid identity '%s'", identity);
}

/* DIR/EXPORT/IDENTITY.map for every export under DIR */
int cmd_overlay_list(const char *dir)
{
	struct dirent **exports;
	int ne = scandir(dir, &exports, NULL, alphasort);

	if (ne < 0)
		die("%s: %s", dir, strerror(errno));
	printf("%-24s %-32s %14s %s\n", "EXPORT", "IDENTITY", "BYTES", "STATE");
	for (int i = 0; i < ne; i++) {
		char sub[4096];
		struct dirent **names;
		int n;

		snprintf(sub, sizeof(sub), "%s/%s", dir, exports[i]->d_name);
		n = exports[i]->d_name[0] == '.' ? -1 : scandir(sub, &names, NULL, alphasort);
		for (int j = 0; j < n; j++) {
			char *name = names[j]->d_name, path[8192], exp[ND_NAME_SIZE];
			size_t len = strlen(name);
			uint64_t blocks;
			bool busy;
			int ret;

			if (len > 4 && !strcmp(name + len - 4, ".map")) {
				snprintf(path, sizeof(path), "%s/%s", sub, name);
				ret = overlay_inspect(path, exp, &blocks, &busy);
				name[len - 4] = '\0';
				if (ret)
					printf("%-24s %-32s %14s %s\n", exports[i]->d_name, name,
					       "?", strerror(-ret));
				else
					printf("%-24s %-32s %14llu %s\n", exp, name,
					       (unsigned long long)blocks * OVERLAY_BLOCK,
					       busy ? "in use" : "idle");
			}
			free(names[j]);
		}
		if (n >= 0)
			free(names);
		free(exports[i]);
	}
	free(exports);
	return 0;
}

int cmd_overlay_reset(const char *dir, const char *export_name,
			     const char *identity)
{
	int ret;

	check_names(export_name, identity);
	ret = overlay_reset(dir, export_name, identity);
	if (ret == -ENOENT)
		die("export '%s' has no overlay for '%s' in %s", export_name, identity, dir);
	if (ret == -EBUSY)
		die("the overlay of '%s' on '%s' is in use: disconnect that client first",
		    identity, export_name);
	if (ret)
		die("resetting the overlay of '%s' on '%s': %s", identity, export_name,
		    strerror(-ret));
	return 0;
}

int cmd_overlay_merge(const char *dir, const char *export_name,
			     const char *identity, const char *base, const char *out)
{
	static uint8_t buf[1 << 20];
	struct file_backend bf;
	struct overlay ov;
	char err[512];
	uint64_t size;
	int ofd, ret;

	check_names(export_name, identity);
	if (file_backend_open(&bf, base, true, err, sizeof(err)))
		die("%s", err);
	size = bf.b.size;
	if (overlay_open(&ov, dir, export_name, identity, &bf.b, err, sizeof(err)))
		die("%s", err[0] ? err : "cannot open the overlay");
	if (ov.data_fd < 0)
		die("export '%s' has no overlay for '%s' in %s", export_name, identity, dir);
	ofd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (ofd < 0)
		die("%s: %s", out, strerror(errno));
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);

		ret = overlay_read(&ov, buf, n, off);
		if (ret)
			die("reading at %llu: %s", (unsigned long long)off, strerror(-ret));
		ret = nd_pwrite_full(ofd, buf, n, off);
		if (ret)
			die("%s: %s", out, strerror(-ret));
	}
	if (fsync(ofd) || close(ofd))
		die("%s: %s", out, strerror(errno));
	overlay_close(&ov);
	file_backend_close(&bf);
	return 0;
}
