// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "nd_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nd_crypto.h"
#include "nd_session.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nd_parse_hex_key(const char *hex, uint8_t key[ND_KEY_SIZE])
{
	if (strlen(hex) != 2 * ND_KEY_SIZE)
		return -1;
	for (size_t i = 0; i < ND_KEY_SIZE; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void nd_format_hex_key(const uint8_t key[ND_KEY_SIZE], char out[2 * ND_KEY_SIZE + 1])
{
	for (size_t i = 0; i < ND_KEY_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", key[i]);
}

static char *read_text_fd(int fd, const char *path, size_t max, char *err,
			  size_t err_len);

char *nd_read_text_file(const char *path, size_t max, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return read_text_fd(fd, path, max, err, err_len);
}

/* Reads fd to its end and closes it; path is used in messages. */
static char *read_text_fd(int fd, const char *path, size_t max, char *err,
			  size_t err_len)
{
	char *buf = NULL;
	size_t len = 0;

	buf = malloc(max + 1);
	if (!buf) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_len, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			snprintf(err, err_len, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, err_len, "%s: contains a NUL byte", path);
		goto fail;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
fail:
	close(fd);
	if (buf)
		nd_wipe(buf, max + 1);
	free(buf);
	return NULL;
}

static int add_entry(struct nd_keyring *kr, const char *id, const uint8_t *key)
{
	struct nd_key_entry *e = realloc(kr->entries,
					 (kr->count + 1) * sizeof(*e));

	if (!e)
		return -1;
	kr->entries = e;
	e += kr->count++;
	memset(e, 0, sizeof(*e));
	strcpy(e->identity, id);
	memcpy(e->key, key, ND_KEY_SIZE);
	return 0;
}

int nd_keyring_parse(struct nd_keyring *kr, const char *text, const char *path,
		     char *err, size_t err_len)
{
	const char *p = text;
	unsigned int lineno = 0;

	memset(kr, 0, sizeof(*kr));
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char line[256], *fields[3] = { NULL }, *save = NULL, *tok;
		unsigned int nf = 0;
		uint8_t key[ND_KEY_SIZE];

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, err_len, "%s:%u: line too long", path, lineno);
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (eol ? 1 : 0);
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		for (tok = strtok_r(line, " \t\r", &save); tok;
		     tok = strtok_r(NULL, " \t\r", &save)) {
			if (nf == 2) {
				nf = 3;
				break;
			}
			fields[nf++] = tok;
		}
		if (nf == 0)
			continue;
		if (nf == 3) {
			snprintf(err, err_len, "%s:%u: expected 'identity key' or a bare key",
				 path, lineno);
			goto fail;
		}
		if (nd_parse_hex_key(fields[nf - 1], key)) {
			snprintf(err, err_len, "%s:%u: a key is 64 hex digits "
				 "(make one with 'netdiskctl keygen')", path, lineno);
			goto fail;
		}
		if (nf == 1) {
			if (kr->has_default) {
				snprintf(err, err_len, "%s:%u: second default key",
					 path, lineno);
				goto fail;
			}
			kr->has_default = true;
			memcpy(kr->default_key, key, ND_KEY_SIZE);
		} else if (!nd_valid_identity(fields[0])) {
			/* never echo the field: it may be a key in the wrong place */
			if (!nd_parse_hex_key(fields[0], key))
				snprintf(err, err_len, "%s:%u: two keys on one line "
					 "(expected 'identity key' or a bare key)",
					 path, lineno);
			else
				snprintf(err, err_len, "%s:%u: invalid identity (1 to 63 "
					 "characters from [A-Za-z0-9._:@-], not starting "
					 "with '.' or '-')", path, lineno);
			nd_wipe(key, sizeof(key));
			nd_wipe(line, sizeof(line));
			goto fail;
		} else {
			unsigned int listed = 0;

			for (size_t i = 0; i < kr->count; i++) {
				if (strcmp(kr->entries[i].identity, fields[0]))
					continue;
				if (nd_equal_ct(kr->entries[i].key, key, ND_KEY_SIZE)) {
					snprintf(err, err_len, "%s:%u: identity '%s' has this "
						 "key already", path, lineno, fields[0]);
					nd_wipe(key, sizeof(key));
					nd_wipe(line, sizeof(line));
					goto fail;
				}
				listed++;
			}
			if (listed == ND_KEYS_PER_IDENTITY) {
				snprintf(err, err_len, "%s:%u: identity '%s' has a third key "
					 "(two at most: the old and the new one while it rolls "
					 "over)", path, lineno, fields[0]);
				nd_wipe(key, sizeof(key));
				nd_wipe(line, sizeof(line));
				goto fail;
			}
			if (add_entry(kr, fields[0], key)) {
				snprintf(err, err_len, "%s: out of memory", path);
				goto fail;
			}
		}
		nd_wipe(key, sizeof(key));
		nd_wipe(line, sizeof(line));
	}
	if (!kr->has_default && !kr->count) {
		snprintf(err, err_len, "%s: no key in file (make one with "
			 "'netdiskctl keygen')", path);
		goto fail;
	}
	return 0;
fail:
	nd_keyring_free(kr);
	return -1;
}

int nd_keyring_load(struct nd_keyring *kr, const char *path,
		    bool allow_shared_perms, char *err, size_t err_len)
{
	/* checked and read through one descriptor: no window between the two */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *text;
	int ret;

	if (fd < 0 && errno == ELOOP) {
		snprintf(err, err_len, "key file %s is a symbolic link; name the "
			 "file itself", path);
		return -1;
	}
	if (fd < 0) {
		snprintf(err, err_len, "key file %s: %s; make a key with "
			 "'netdiskctl keygen > %s', then chmod 600 it (and chown it "
			 "to the user the server runs as)", path, strerror(errno), path);
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "key file %s is not a regular file", path);
		goto fail;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, err_len, "key file %s is owned by uid %u; it must belong "
			 "to root or to the user that reads it (uid %u)", path,
			 (unsigned int)st.st_uid, (unsigned int)geteuid());
		goto fail;
	}
	if (!allow_shared_perms && (st.st_mode & 077)) {
		snprintf(err, err_len, "key file %s is accessible by group or others "
			 "(mode %03o); run 'chmod 600 %s'", path,
			 (unsigned int)(st.st_mode & 0777), path);
		goto fail;
	}
	text = read_text_fd(fd, path, 1 << 20, err, err_len);
	if (!text)
		return -1;
	ret = nd_keyring_parse(kr, text, path, err, err_len);
	nd_wipe(text, strlen(text));
	free(text);
	return ret;
fail:
	close(fd);
	return -1;
}

enum nd_key_kind nd_keyring_find(const struct nd_keyring *kr, const char *identity,
				 struct nd_psks *psks)
{
	psks->count = 0;
	for (size_t i = 0; i < kr->count && psks->count < ND_KEYS_PER_IDENTITY; i++)
		if (!strcmp(kr->entries[i].identity, identity))
			memcpy(psks->key[psks->count++], kr->entries[i].key, ND_KEY_SIZE);
	if (psks->count)
		return ND_KEY_IDENTITY;
	if (!kr->has_default)
		return ND_KEY_NONE;
	memcpy(psks->key[psks->count++], kr->default_key, ND_KEY_SIZE);
	return ND_KEY_DEFAULT;
}

enum nd_key_kind nd_keyring_lookup(const struct nd_keyring *kr,
				   const char *identity, uint8_t key[ND_KEY_SIZE])
{
	struct nd_psks psks;
	enum nd_key_kind kind = nd_keyring_find(kr, identity, &psks);

	if (kind != ND_KEY_NONE)
		memcpy(key, psks.key[psks.count - 1], ND_KEY_SIZE);
	nd_wipe(&psks, sizeof(psks));
	return kind;
}

void nd_keyring_free(struct nd_keyring *kr)
{
	if (kr->entries)
		nd_wipe(kr->entries, kr->count * sizeof(*kr->entries));
	free(kr->entries);
	nd_wipe(kr, sizeof(*kr));
}
