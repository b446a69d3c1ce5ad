/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * Pre-shared keys: 64 hex digits. A key file holds either one bare key (the
 * default key) or lines of "identity hexkey"; '#' starts a comment. An
 * identity may be listed twice, with two keys, while it rolls over from the
 * first to the second.
 */
#ifndef ND_KEYS_H
#define ND_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nd_session.h"
#include <netdisk/wire.h>

struct nd_key_entry {
	char identity[ND_NAME_SIZE];
	uint8_t key[ND_KEY_SIZE];
};

struct nd_keyring {
	bool has_default;
	uint8_t default_key[ND_KEY_SIZE];
	struct nd_key_entry *entries;
	size_t count;
};

int nd_parse_hex_key(const char *hex, uint8_t key[ND_KEY_SIZE]);
void nd_format_hex_key(const uint8_t key[ND_KEY_SIZE], char out[2 * ND_KEY_SIZE + 1]);

/*
 * Loads a key file. Refuses symbolic links, files that belong to neither
 * root nor the caller, and, unless allow_shared_perms, files that group or
 * others can read. On error returns -1 and writes a message to err; no
 * message ever quotes the file's contents.
 */
int nd_keyring_load(struct nd_keyring *kr, const char *path,
		    bool allow_shared_perms, char *err, size_t err_len);
/* Parses key-file text; path is used in messages. */
int nd_keyring_parse(struct nd_keyring *kr, const char *text, const char *path,
		     char *err, size_t err_len);
/* A server's keys for identity: its own, oldest first, else the default key. */
enum nd_key_kind nd_keyring_find(const struct nd_keyring *kr, const char *identity,
				 struct nd_psks *psks);
/* A client's key for identity: the newest listed, else the default key. */
enum nd_key_kind nd_keyring_lookup(const struct nd_keyring *kr,
				   const char *identity, uint8_t key[ND_KEY_SIZE]);
void nd_keyring_free(struct nd_keyring *kr);

/* Reads a file of at most max bytes into a NUL-terminated string. */
char *nd_read_text_file(const char *path, size_t max, char *err, size_t err_len);

#endif
