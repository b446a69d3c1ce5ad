// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export-uuid.h"
#include "log.h"
#include "verifier.h"

/* Whether a copy-on-write export's overlay directory can take overlays. */
static bool overlay_dir_ok(const struct export_config *cfg, char *err, size_t err_len)
{
	struct stat st;

	if (!cfg->cow_dir || (!stat(cfg->cow_dir, &st) && S_ISDIR(st.st_mode) &&
			      !access(cfg->cow_dir, W_OK)))
		return true;
	snprintf(err, err_len, "export '%s': overlay directory %s is not a writable directory",
		 cfg->name, cfg->cow_dir);
	return false;
}

int export_probe(const struct export_config *cfg, uint64_t *size, char *err, size_t err_len)
{
	struct file_backend f;
	char why[EXPORT_ERROR_SIZE - 128];

	if (!overlay_dir_ok(cfg, err, err_len))
		return -1;
	if (file_backend_probe(&f, cfg->path, why, sizeof(why))) {
		snprintf(err, err_len, "export '%s': %s", cfg->name, why);
		return -1;
	}
	*size = f.b.size;
	file_backend_close(&f);
	return 0;
}

struct export *export_open(const struct export_config *cfg, const char *epoch,
			   char *err, size_t err_len)
{
	struct export *e = calloc(1, sizeof(*e));
	char why[EXPORT_ERROR_SIZE - 128];
	struct stat st;

	if (!e || !(e->path = strdup(cfg->path)) ||
	    (cfg->cow_dir && !(e->cow_dir = strdup(cfg->cow_dir)))) {
		snprintf(err, err_len, "export '%s': out of memory", cfg->name);
		goto fail;
	}
	strcpy(e->name, cfg->name);
	e->read_only = cfg->read_only;
	e->cow = cfg->cow_dir != NULL;
	e->file.fd = -1;
	if (!overlay_dir_ok(cfg, err, err_len))
		goto fail;
	if (file_backend_open(&e->file, e->path, e->read_only || e->cow, why, sizeof(why))) {
		snprintf(err, err_len, "export '%s': %s", e->name, why);
		goto fail;
	}
	if (export_uuid(cfg, e->file.fd, e->uuid, err, err_len)) {
		file_backend_close(&e->file);
		goto fail;
	}
	if (fstat(e->file.fd, &st) ||
	    verifier_of(epoch, e->name, e->uuid, S_ISBLK(st.st_mode) ? st.st_rdev : st.st_ino,
			&e->verifier)) {
		snprintf(err, err_len, "export '%s': cannot make its write verifier", e->name);
		file_backend_close(&e->file);
		goto fail;
	}
	if (e->cow)
		cow_filters_init(&e->cow_filters, e->cow_dir, e->name, &e->file.b);
	return e;
fail:
	if (e) {
		free(e->path);
		free(e->cow_dir);
	}
	free(e);
	return NULL;
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool export_matches(const struct export *e, const struct export_config *cfg)
{
	return !strcmp(e->name, cfg->name) && !strcmp(e->path, cfg->path) &&
	       e->read_only == cfg->read_only && same_string(e->cow_dir, cfg->cow_dir);
}

int export_close(struct export *e)
{
	int ret, cow = e->cow ? cow_filters_destroy(&e->cow_filters) : 0;

	if (cow)
		log_err("export '%s': an overlay's final flush failed", e->name);
	ret = file_backend_close(&e->file);
	if (ret)
		log_err("export '%s': final sync of %s failed: %s", e->name, e->path,
			strerror(-ret));
	free(e->path);
	free(e->cow_dir);
	free(e);
	return ret ? ret : cow;
}

struct backend *export_backend_get(struct export *e, const char *identity, int *error,
				   char *err, size_t err_len)
{
	if (!e->cow)
		return &e->file.b;
	return cow_filter_get(&e->cow_filters, identity, error, err, err_len);
}

void export_backend_put(struct export *e, struct backend *b)
{
	if (e->cow)
		cow_filter_put(&e->cow_filters, b);
}
