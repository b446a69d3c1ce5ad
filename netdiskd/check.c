// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "check.h"

#include <stdio.h>

#include "export.h"

int check_config(const struct server_config *cfg, const struct nd_keyring *keys)
{
	int status = 0;

	/* under socket activation, systemd's sockets come instead */
	for (size_t i = 0; i < cfg->listen_count; i++)
		printf("listen %s\n", cfg->listen[i]);
	if (!cfg->listen_count)
		printf("listen [::] and 0.0.0.0\n");
	printf("keys: %zu identity key(s)%s\n", keys->count,
	       keys->has_default ? " and a default key" : "");
	for (size_t i = 0; i < cfg->export_count; i++) {
		const struct export_config *ec = &cfg->exports[i];
		char err[EXPORT_ERROR_SIZE];
		uint64_t size;

		if (export_probe(ec, &size, err, sizeof(err))) {
			fprintf(stderr, "netdiskd: %s\n", err);
			status = 1;
			continue;
		}
		printf("export '%s': %s, %llu bytes, %s\n", ec->name, ec->path,
		       (unsigned long long)size,
		       ec->read_only ? "read-only" : ec->cow_dir ? "copy-on-write" : "read-write");
	}
	printf("%s\n", status ? "configuration has errors" : "configuration OK");
	return status;
}
