// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "nd_keys.h"
#include "nd_session.h"

bool id_list_contains(const struct id_list *l, const char *identity)
{
	if (l->any)
		return true;
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->names[i], identity))
			return true;
	return false;
}

static void id_list_free(struct id_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->names[i]);
	free(l->names);
	memset(l, 0, sizeof(*l));
}

static int id_list_parse(struct id_list *l, char *value, const char *where,
			 char *err, size_t err_len)
{
	char *save = NULL;

	id_list_free(l);
	for (char *t = strtok_r(value, " \t,", &save); t;
	     t = strtok_r(NULL, " \t,", &save)) {
		char **names;

		if (!strcmp(t, "*")) {
			l->any = true;
			continue;
		}
		if (!nd_valid_identity(t)) {
			snprintf(err, err_len, "%s: invalid identity '%s'", where, t);
			return -1;
		}
		names = realloc(l->names, (l->count + 1) * sizeof(*names));
		if (!names || !(names[l->count] = strdup(t))) {
			if (names)
				l->names = names;
			snprintf(err, err_len, "%s: out of memory", where);
			return -1;
		}
		l->names = names;
		l->count++;
	}
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off")) {
		*out = false;
		return 0;
	}
	return -1;
}

int config_add_export(struct server_config *cfg, const char *name,
		      const char *path, bool read_only, char *err, size_t err_len)
{
	struct export_config *e;

	if (!nd_valid_export_name(name) || !*name) {
		snprintf(err, err_len, "invalid export name '%s' (1-63 of A-Z a-z 0-9 . _ : @ -)",
			 name);
		return -1;
	}
	for (size_t i = 0; i < cfg->export_count; i++) {
		if (!strcmp(cfg->exports[i].name, name)) {
			snprintf(err, err_len, "export '%s' defined twice", name);
			return -1;
		}
	}
	e = realloc(cfg->exports, (cfg->export_count + 1) * sizeof(*e));
	if (!e)
		goto oom;
	cfg->exports = e;
	e += cfg->export_count;
	memset(e, 0, sizeof(*e));
	strcpy(e->name, name);
	e->read_only = read_only;
	e->allow.any = true;
	e->allow_write.any = true;
	if (path && !(e->path = strdup(path)))
		goto oom;
	cfg->export_count++;
	return 0;
oom:
	snprintf(err, err_len, "out of memory");
	return -1;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

int config_add_listen(struct server_config *cfg, const char *addr,
		      const char *where, char *err, size_t err_len)
{
	if (cfg->listen_count == CONFIG_MAX_LISTEN) {
		snprintf(err, err_len, "%s: at most %d listen addresses", where,
			 CONFIG_MAX_LISTEN);
		return -1;
	}
	if (!(cfg->listen[cfg->listen_count] = strdup(addr))) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	cfg->listen_count++;
	return 0;
}

int config_add_server_names(struct server_config *cfg, const char *names,
			    const char *where, char *err, size_t err_len)
{
	char *copy = strdup(names), *save = NULL;
	int ret = -1;

	if (!copy)
		goto oom;
	for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		char **n;

		if (!nd_valid_server_name(t)) {
			snprintf(err, err_len, "%s: invalid server name '%.63s' (1 to 63 "
				 "characters from [A-Za-z0-9._:@-])", where, t);
			goto out;
		}
		n = realloc(cfg->server_names, (cfg->server_name_count + 1) * sizeof(*n));
		if (!n)
			goto oom;
		cfg->server_names = n;
		if (!(n[cfg->server_name_count] = strdup(t)))
			goto oom;
		cfg->server_name_count++;
	}
	ret = 0;
	goto out;
oom:
	snprintf(err, err_len, "out of memory");
out:
	free(copy);
	return ret;
}

int config_add_server_ports(struct server_config *cfg, const char *ports,
			    const char *where, char *err, size_t err_len)
{
	char *copy = strdup(ports), *save = NULL;
	int ret = -1;

	if (!copy) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		unsigned long n = 0;

		/* digits only, 1..65535 */
		if (strspn(t, "0123456789") != strlen(t) || strlen(t) > 5 ||
		    (n = strtoul(t, NULL, 10)) < 1 || n > 65535) {
			snprintf(err, err_len, "%s: invalid server port '%.16s' (1 to 65535)",
				 where, t);
			goto out;
		}
		if (cfg->server_port_count == CONFIG_MAX_LISTEN) {
			snprintf(err, err_len, "%s: more than %d server ports", where,
				 CONFIG_MAX_LISTEN);
			goto out;
		}
		cfg->server_ports[cfg->server_port_count++] = (uint16_t)n;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

static int global_key(struct server_config *cfg, const char *key, char *value,
		      const char *where, char *err, size_t err_len)
{
	if (!strcmp(key, "listen")) {
		return config_add_listen(cfg, value, where, err, err_len);
	} else if (!strcmp(key, "server-name")) {
		return config_add_server_names(cfg, value, where, err, err_len);
	} else if (!strcmp(key, "server-port")) {
		return config_add_server_ports(cfg, value, where, err, err_len);
	} else if (!strcmp(key, "key-file")) {
		if (set_string(&cfg->key_file, value))
			goto oom;
	} else if (!strcmp(key, "max-connections")) {
		char *end;
		unsigned long n = strtoul(value, &end, 10);

		if (*end || !n || n > 65536) {
			snprintf(err, err_len, "%s: max-connections must be 1..65536", where);
			return -1;
		}
		cfg->max_connections = (unsigned int)n;
	} else if (!strcmp(key, "max-connections-per-identity")) {
		char *end;
		unsigned long n = strtoul(value, &end, 10);

		if (!*value || *end || !n || n > 65536 || value[0] == '-' || value[0] == '+') {
			snprintf(err, err_len, "%s: max-connections-per-identity must be "
				 "1..65536", where);
			return -1;
		}
		cfg->max_connections_per_identity = (unsigned int)n;
	} else {
		snprintf(err, err_len, "%s: unknown setting '%s'", where, key);
		return -1;
	}
	return 0;
oom:
	snprintf(err, err_len, "out of memory");
	return -1;
}

static int export_key(struct export_config *e, const char *key, char *value,
		      const char *where, char *err, size_t err_len)
{
	if (!strcmp(key, "path")) {
		if (value[0] != '/') {
			snprintf(err, err_len, "%s: path must be absolute", where);
			return -1;
		}
		if (set_string(&e->path, value)) {
			snprintf(err, err_len, "out of memory");
			return -1;
		}
	} else if (!strcmp(key, "copy-on-write")) {
		if (value[0] != '/') {
			snprintf(err, err_len, "%s: copy-on-write takes an absolute directory", where);
			return -1;
		}
		if (set_string(&e->cow_dir, value)) {
			snprintf(err, err_len, "out of memory");
			return -1;
		}
	} else if (!strcmp(key, "uuid")) {
		if (uuid_parse(value, e->uuid) || uuid_is_null(e->uuid)) {
			snprintf(err, err_len, "%s: uuid '%.40s' is not a UUID (such as "
				 "'1b4e28ba-2fa1-11d2-883f-0016d3cca427')", where, value);
			return -1;
		}
		e->has_uuid = true;
	} else if (!strcmp(key, "read-only")) {
		if (parse_bool(value, &e->read_only)) {
			snprintf(err, err_len, "%s: read-only takes yes or no", where);
			return -1;
		}
	} else if (!strcmp(key, "allow")) {
		return id_list_parse(&e->allow, value, where, err, err_len);
	} else if (!strcmp(key, "allow-write")) {
		return id_list_parse(&e->allow_write, value, where, err, err_len);
	} else {
		snprintf(err, err_len, "%s: unknown export setting '%s'", where, key);
		return -1;
	}
	return 0;
}

int config_parse(struct server_config *cfg, const char *text, const char *path,
		 char *err, size_t err_len)
{
	struct export_config *cur = NULL;
	unsigned int lineno = 0;
	size_t first_export = cfg->export_count;

	while (*text) {
		size_t n = strcspn(text, "\n");
		char buf[1024], where[300], *line, *eq;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (n >= sizeof(buf)) {
			snprintf(err, err_len, "%s: line too long", where);
			return -1;
		}
		memcpy(buf, text, n);
		buf[n] = '\0';
		text += n + (text[n] ? 1 : 0);
		buf[strcspn(buf, "#")] = '\0';
		line = trim(buf);
		if (!*line)
			continue;
		if (*line == '[') {
			char name[ND_NAME_SIZE];
			size_t len = strlen(line);

			if (line[len - 1] != ']' || strncmp(line, "[export ", 8) ||
			    len - 9 >= sizeof(name)) {
				snprintf(err, err_len, "%s: expected [export NAME]", where);
				return -1;
			}
			memcpy(name, line + 8, len - 9);
			name[len - 9] = '\0';
			if (config_add_export(cfg, trim(name), NULL, false, where,
					      sizeof(where))) {
				snprintf(err, err_len, "%s:%u: %s", path, lineno, where);
				return -1;
			}
			cur = &cfg->exports[cfg->export_count - 1];
			continue;
		}
		eq = strchr(line, '=');
		if (!eq) {
			snprintf(err, err_len, "%s: expected 'key = value'", where);
			return -1;
		}
		*eq = '\0';
		if (cur ? export_key(cur, trim(line), trim(eq + 1), where, err, err_len) :
			  global_key(cfg, trim(line), trim(eq + 1), where, err, err_len))
			return -1;
	}
	for (size_t i = first_export; i < cfg->export_count; i++) {
		if (!cfg->exports[i].path) {
			snprintf(err, err_len, "%s: export '%s' has no path", path,
				 cfg->exports[i].name);
			return -1;
		}
		for (size_t j = 0; j < i && cfg->exports[i].has_uuid; j++) {
			if (cfg->exports[j].has_uuid &&
			    !uuid_compare(cfg->exports[i].uuid, cfg->exports[j].uuid)) {
				snprintf(err, err_len, "%s: export '%s' has the UUID of export "
					 "'%s': each disk needs its own", path,
					 cfg->exports[i].name, cfg->exports[j].name);
				return -1;
			}
		}
	}
	return 0;
}

int config_load(struct server_config *cfg, const char *path, char *err,
		size_t err_len)
{
	char *text = nd_read_text_file(path, 1 << 20, err, err_len);
	int ret;

	if (!text)
		return -1;
	ret = config_parse(cfg, text, path, err, err_len);
	free(text);
	return ret;
}

void config_free(struct server_config *cfg)
{
	for (size_t i = 0; i < cfg->listen_count; i++)
		free(cfg->listen[i]);
	for (size_t i = 0; i < cfg->server_name_count; i++)
		free(cfg->server_names[i]);
	free(cfg->server_names);
	for (size_t i = 0; i < cfg->export_count; i++) {
		free(cfg->exports[i].path);
		free(cfg->exports[i].cow_dir);
		id_list_free(&cfg->exports[i].allow);
		id_list_free(&cfg->exports[i].allow_write);
	}
	free(cfg->exports);
	free(cfg->key_file);
	memset(cfg, 0, sizeof(*cfg));
}

const struct export_config *config_find_export(const struct server_config *cfg,
					       const char *name)
{
	if (!*name) {
		if (cfg->export_count == 1)
			return &cfg->exports[0];
		name = "default";
	}
	for (size_t i = 0; i < cfg->export_count; i++)
		if (!strcmp(cfg->exports[i].name, name))
			return &cfg->exports[i];
	return NULL;
}
