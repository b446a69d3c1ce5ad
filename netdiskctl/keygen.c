// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskctl keygen */
#include <stdio.h>

#include "nd_keys.h"
#include "netdiskctl.h"

int cmd_keygen(void)
{
	uint8_t key[ND_KEY_SIZE];
	char hex[2 * ND_KEY_SIZE + 1];

	if (nd_random(key, sizeof(key)))
		die("no random bytes available");
	nd_format_hex_key(key, hex);
	nd_wipe(key, sizeof(key));
	printf("%s\n", hex);
	return 0;
}
