// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int export_open(struct export *e, const struct export_config *cfg, char *err,
		size_t err_len)
{
	char why[400];
	struct stat st;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->read_only = cfg->read_only;
	e->cow = cfg->cow_dir != NULL;
	e->file.fd = -1;
	if (e->cow && (stat(cfg->cow_dir, &st) || !S_ISDIR(st.st_mode) ||
		       access(cfg->cow_dir, W_OK))) {
		snprintf(err, err_len, "export '%s': overlay directory %s is not a writable directory",
			 cfg->name, cfg->cow_dir);
		return -1;
	}
	if (file_backend_open(&e->file, cfg->path, e->read_only || e->cow, why, sizeof(why))) {
		snprintf(err, err_len, "export '%s': %s", cfg->name, why);
		return -1;
	}
	if (e->cow)
		cow_filters_init(&e->cow_filters, cfg->cow_dir, cfg->name, &e->file.b);
	return 0;
}

void export_close(struct export *e)
{
	int ret;

	if (e->file.fd < 0)
		return;
	if (e->cow)
		cow_filters_destroy(&e->cow_filters);
	ret = file_backend_close(&e->file);
	if (ret)
		log_err("export '%s': final sync of %s failed: %s", e->cfg->name,
			e->cfg->path, strerror(-ret));
}

struct backend *export_backend_get(struct export *e, const char *identity, char *err,
				   size_t err_len)
{
	if (!e->cow)
		return &e->file.b;
	return cow_filter_get(&e->cow_filters, identity, err, err_len);
}

void export_backend_put(struct export *e, struct backend *b)
{
	if (e->cow)
		cow_filter_put(&e->cow_filters, b);
}
