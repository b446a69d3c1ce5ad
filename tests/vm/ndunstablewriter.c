// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * ndunstablewriter DEV MIB: writes MIB MiB to DEV with O_DIRECT, 64 KiB at
 * a time, from a shared mapping that a child process rewrites all along,
 * the way a VM with cache=none or a database reusing a buffer does. What
 * lands on the server is whatever the buffer held when the write was sent;
 * the device must later read back exactly that. Exits 0 when all is written.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (64 << 10)

int main(int argc, char **argv)
{
	volatile uint64_t *buf;
	long mib, off;
	pid_t child;
	int fd;

	if (argc != 3 || (mib = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: ndunstablewriter DEV MIB\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_DIRECT);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (!child) {
		for (uint64_t n = 1;; n++)
			for (size_t i = 0; i < CHUNK / sizeof(*buf); i++)
				buf[i] = n * 0x9e3779b97f4a7c15ULL + i;
	}
	for (off = 0; off < mib << 20; off += CHUNK) {
		if (pwrite(fd, (const void *)buf, CHUNK, off) != CHUNK) {
			perror("pwrite");
			kill(child, SIGKILL);
			return 1;
		}
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (fsync(fd)) {
		perror("fsync");
		return 1;
	}
	return close(fd) ? 1 : 0;
}
