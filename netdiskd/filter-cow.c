// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "filter-cow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "overlay.h"

struct cow_filter {
	struct backend b;		/* first: a struct backend * is a cow_filter * */
	struct cow_filter *next;	/* under cow_filters.lock */
	unsigned int refs;		/* connections using it, under cow_filters.lock */
	struct overlay ov;
};

static struct overlay *overlay_of(struct backend *b)
{
	return &((struct cow_filter *)b)->ov;
}

static int cow_pread(struct backend *b, void *buf, uint32_t len, uint64_t off)
{
	return overlay_read(overlay_of(b), buf, len, off);
}

static int cow_flush(struct backend *b)
{
	return overlay_flush(overlay_of(b));
}

static int cow_pwrite(struct backend *b, const void *buf, uint32_t len, uint64_t off,
		      bool fua)
{
	int ret = overlay_write(overlay_of(b), buf, len, off);

	return !ret && fua ? cow_flush(b) : ret;
}

/* the overlay is sparse: no_hole cannot promise allocation (docs/protocol.md) */
static int cow_zero(struct backend *b, uint64_t off, uint64_t len, bool fua,
		    bool no_hole)
{
	(void)no_hole;
	int ret = overlay_write_zeroes(overlay_of(b), len, off);

	return !ret && fua ? cow_flush(b) : ret;
}

/* the base must not show through a trimmed range: it reads as zeroes */
static int cow_trim(struct backend *b, uint64_t off, uint64_t len)
{
	return cow_zero(b, off, len, false, false);
}

static int cow_identify(struct backend *b, struct backend_identity *id)
{
	(void)b;
	(void)id;
	return -EOPNOTSUPP;
}

static const struct backend_ops cow_ops = {
	.pread = cow_pread,
	.pwrite = cow_pwrite,
	.flush = cow_flush,
	.trim = cow_trim,
	.zero = cow_zero,
	.identify = cow_identify,
};

void cow_filters_init(struct cow_filters *f, const char *dir, const char *export_name,
		      struct backend *base)
{
	memset(f, 0, sizeof(*f));
	f->dir = dir;
	f->export_name = export_name;
	f->base = base;
	pthread_mutex_init(&f->lock, NULL);
}

int cow_filters_destroy(struct cow_filters *f)
{
	pthread_mutex_destroy(&f->lock);
	return f->close_failed ? -EIO : 0;
}

struct backend *cow_filter_get(struct cow_filters *f, const char *identity, int *error,
			       char *err, size_t err_len)
{
	struct cow_filter *c;
	int ret;

	pthread_mutex_lock(&f->lock);
	for (c = f->list; c; c = c->next)
		if (!strcmp(c->ov.identity, identity))
			break;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			snprintf(err, err_len, "out of memory");
			*error = -ENOMEM;
		} else if ((ret = overlay_open(&c->ov, f->dir, f->export_name, identity, f->base,
					       err, err_len))) {
			free(c);
			c = NULL;
			*error = ret;
		} else {
			c->b = (struct backend){ &cow_ops, f->base->size, f->base->block_size,
						 f->base->path };
			c->next = f->list;
			f->list = c;
		}
	}
	if (c)
		c->refs++;
	pthread_mutex_unlock(&f->lock);
	return c ? &c->b : NULL;
}

void cow_filter_put(struct cow_filters *f, struct backend *b)
{
	struct cow_filter **pp, *c;

	pthread_mutex_lock(&f->lock);
	for (pp = &f->list; (c = *pp); pp = &c->next) {
		if (&c->b == b) {
			if (!--c->refs) {
				*pp = c->next;
				if (overlay_close(&c->ov))
					f->close_failed = true;
				free(c);
			}
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
}
