// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* The netdisktab parser: netdiskctl and the systemd generator share it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nd_keys.h"
#include "nd_tab.h"

/* A unit instance name that needs no escaping, and no leading '-' or '.'. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= ND_NAME_SIZE || s[0] == '-' || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._") == n;
}

int nd_parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int parse_option(struct nd_tab_entry *e, char *opt, char *why, size_t why_len)
{
	char *val = strchr(opt, '=');

	if (val)
		*val++ = '\0';
	if (!strcmp(opt, "noauto") && !val) {
		e->noauto = true;
	} else if (!strcmp(opt, "key-file") && val) {
		if (val[0] != '/' || strlen(val) >= sizeof(e->key_file))
			goto bad;
		strcpy(e->key_file, val);
	} else if (!strcmp(opt, "server-name") && val && *val) {
		if (strlen(val) >= sizeof(e->server_name))
			goto bad;
		strcpy(e->server_name, val);
	} else if (!strcmp(opt, "connections") && val) {
		if (nd_parse_uint(val, 16, &e->connections) || !e->connections)
			goto bad;
	} else if (!strcmp(opt, "cache-mb") && val) {
		if (nd_parse_uint(val, 1 << 20, &e->cache_mb))
			goto bad;
	} else if (!strcmp(opt, "timeout") && val) {
		if (nd_parse_uint(val, ND_TAB_MAX_TIMEOUT_S, &e->timeout_s) || !e->timeout_s)
			goto bad;
	} else if (!strcmp(opt, "attach-timeout") && val) {
		if (nd_parse_uint(val, ND_TAB_MAX_TIMEOUT_S, &e->attach_timeout_s))
			goto bad;
	} else if (!strcmp(opt, "dead-timeout") && val) {
		if (nd_parse_uint(val, ND_TAB_MAX_DEAD_TIMEOUT_S, &e->dead_timeout_s))
			goto bad;
		e->dead_timeout_set = true;
	} else {
		snprintf(why, why_len, "unknown option '%s%s%s' (known: key-file=/PATH, "
			 "server-name=NAME, connections=1..16, cache-mb=N, timeout=S, "
			 "dead-timeout=S, attach-timeout=S, noauto)",
			 opt, val ? "=" : "", val ? val : "");
		return -1;
	}
	return 0;
bad:
	snprintf(why, why_len, "bad value '%s' for %s", val ? val : "", opt);
	return -1;
}

static int parse_line(struct nd_tab_entry *e, char *line, char *why, size_t why_len)
{
	char *name, *uri, *opts, *rest, *opt, *save = NULL;

	name = strtok_r(line, " \t", &save);
	uri = strtok_r(NULL, " \t", &save);
	opts = strtok_r(NULL, " \t", &save);
	rest = strtok_r(NULL, " \t", &save);
	if (!uri || rest) {
		snprintf(why, why_len, "expected NAME URI [OPTIONS]");
		return -1;
	}
	if (!valid_name(name)) {
		snprintf(why, why_len, "'%s' is not a disk name: up to %d letters, digits, "
			 "'.' and '_'", name, ND_NAME_SIZE - 1);
		return -1;
	}
	strcpy(e->name, name);
	e->attach_timeout_s = ND_TAB_ATTACH_TIMEOUT_S;
	if (nd_uri_parse(uri, &e->uri, why, why_len))
		return -1;
	if (!opts)
		return 0;
	for (opt = strtok_r(opts, ",", &save); opt; opt = strtok_r(NULL, ",", &save))
		if (parse_option(e, opt, why, why_len))
			return -1;
	return 0;
}

/* Keeps a bad line; -1 when out of memory. */
static int add_bad(struct nd_tab *tab, const char *name, const char *source,
		   unsigned int lineno, const char *why)
{
	struct nd_tab_bad *more = realloc(tab->bad, (tab->bad_count + 1) * sizeof(*more));

	if (!more)
		return -1;
	tab->bad = more;
	more = &tab->bad[tab->bad_count++];
	snprintf(more->name, sizeof(more->name), "%s", name);
	snprintf(more->why, sizeof(more->why), "%s:%u: %s", source, lineno, why);
	return 0;
}

int nd_tab_parse(struct nd_tab *tab, const char *text, const char *source,
		 char *err, size_t err_len)
{
	char *copy = strdup(text), *line, *next, why[384];
	unsigned int lineno = 0;

	memset(tab, 0, sizeof(*tab));
	if (!copy)
		goto oom;
	for (line = copy; line; line = next) {
		struct nd_tab_entry e = { 0 }, *more;
		const struct nd_tab_entry *dup;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line[strcspn(line, "#\r")] = '\0';
		if (strspn(line, " \t") == strlen(line))
			continue;
		if (parse_line(&e, line, why, sizeof(why))) {
			if (add_bad(tab, e.name, source, lineno, why))
				goto oom;
			continue;
		}
		e.line = lineno;
		dup = nd_tab_find(tab, e.name);
		if (dup) {
			snprintf(why, sizeof(why), "disk '%s' is already on line %u", e.name,
				 dup->line);
			if (add_bad(tab, e.name, source, lineno, why))
				goto oom;
			continue;
		}
		more = realloc(tab->entries, (tab->count + 1) * sizeof(*more));
		if (!more)
			goto oom;
		tab->entries = more;
		tab->entries[tab->count++] = e;
	}
	free(copy);
	return 0;
oom:
	snprintf(err, err_len, "%s: out of memory", source);
	free(copy);
	nd_tab_free(tab);
	return -1;
}

int nd_tab_load(struct nd_tab *tab, const char *path, char *err, size_t err_len)
{
	char *text;
	int ret;

	memset(tab, 0, sizeof(*tab));
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	text = nd_read_text_file(path, 1 << 20, err, err_len);
	if (!text)
		return -1;
	ret = nd_tab_parse(tab, text, path, err, err_len);
	free(text);
	return ret;
}

const struct nd_tab_entry *nd_tab_find(const struct nd_tab *tab, const char *name)
{
	for (size_t i = 0; i < tab->count; i++)
		if (!strcmp(tab->entries[i].name, name))
			return &tab->entries[i];
	return NULL;
}

const struct nd_tab_bad *nd_tab_find_bad(const struct nd_tab *tab, const char *name)
{
	for (size_t i = 0; i < tab->bad_count; i++)
		if (tab->bad[i].name[0] && !strcmp(tab->bad[i].name, name))
			return &tab->bad[i];
	return NULL;
}

void nd_tab_free(struct nd_tab *tab)
{
	free(tab->entries);
	free(tab->bad);
	memset(tab, 0, sizeof(*tab));
}
