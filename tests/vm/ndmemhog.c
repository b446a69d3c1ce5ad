// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * ndmemhog MIB: allocates MIB MiB, fills every page with a pattern of its
 * own, then reads it all back. With more MiB than RAM the kernel must swap.
 * Exits 0 when every byte verifies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHUNK (1 << 20)

int main(int argc, char **argv)
{
	long mib = argc == 2 ? atol(argv[1]) : 0;
	uint64_t **chunks;

	if (mib <= 0) {
		fprintf(stderr, "usage: ndmemhog MIB\n");
		return 2;
	}
	chunks = calloc((size_t)mib, sizeof(*chunks));
	if (!chunks)
		return 2;
	for (long i = 0; i < mib; i++) {
		chunks[i] = malloc(CHUNK);
		if (!chunks[i]) {
			fprintf(stderr, "out of memory at %ld MiB\n", i);
			return 1;
		}
		for (size_t j = 0; j < CHUNK / 8; j++)
			chunks[i][j] = ((uint64_t)i << 32 | j) * 0x9e3779b97f4a7c15ULL;
		if (i % 256 == 255)
			fprintf(stderr, "ndmemhog: %ld MiB filled\n", i + 1);
	}
	for (long i = 0; i < mib; i++)
		for (size_t j = 0; j < CHUNK / 8; j++)
			if (chunks[i][j] != ((uint64_t)i << 32 | j) * 0x9e3779b97f4a7c15ULL) {
				fprintf(stderr, "MiB %ld differs at word %zu\n", i, j);
				return 1;
			}
	printf("%ld MiB filled and verified\n", mib);
	return 0;
}
