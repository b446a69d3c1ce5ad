// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * ndsigwriter DEV MIB: writes MIB MiB to DEV with O_DIRECT from 8 threads
 * in 4 MiB writes (the plugged path, which issues from the writing task),
 * each thread sent a handled signal every millisecond with tgkill (the way
 * Go's runtime preempts); fsyncs from a signalled thread, reads it all back.
 * Exits 0 when every byte verifies.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WRITERS 8
#define CHUNK (4 << 20)

static int fd;
static long mib, chunks;
static atomic_int tids[WRITERS];
static atomic_int done;
static atomic_long signals;

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals, 1);
}

static void fill(uint64_t *p, uint64_t off)
{
	for (size_t i = 0; i < CHUNK / 8; i++)
		p[i] = (off + i * 8) ^ 0x6e65746469736bULL;
}

static void *writer(void *arg)
{
	int n = (int)(intptr_t)arg;
	void *buf;

	atomic_store(&tids[n], (int)syscall(SYS_gettid));
	if (posix_memalign(&buf, 4096, CHUNK))
		exit(2);
	for (long i = n; i < chunks; i += WRITERS) {
		uint64_t off = (uint64_t)i * CHUNK;
		ssize_t w;

		fill(buf, off);
		do
			w = pwrite(fd, buf, CHUNK, (off_t)off);
		while (w < 0 && errno == EINTR);
		if (w != CHUNK) {
			fprintf(stderr, "write at %llu: %s\n", (unsigned long long)off,
				w < 0 ? strerror(errno) : "short");
			exit(1);
		}
	}
	if (fsync(fd)) {
		perror("fsync");
		exit(1);
	}
	free(buf);
	atomic_fetch_add(&done, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	pthread_t th[WRITERS];
	void *buf, *want;

	if (argc != 3 || (mib = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: ndsigwriter DEV MIB\n");
		return 2;
	}
	chunks = mib * (1 << 20) / CHUNK;
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i);
	while (atomic_load(&done) < WRITERS) {
		struct timespec ms = { 0, 1000000 };

		for (int i = 0; i < WRITERS; i++) {
			int tid = atomic_load(&tids[i]);

			if (tid)
				syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
		}
		nanosleep(&ms, NULL);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	if (posix_memalign(&buf, 4096, CHUNK) || posix_memalign(&want, 4096, CHUNK))
		return 2;
	for (long i = 0; i < chunks; i++) {
		uint64_t off = (uint64_t)i * CHUNK;

		if (pread(fd, buf, CHUNK, (off_t)off) != CHUNK) {
			perror("read back");
			return 1;
		}
		fill(want, off);
		if (memcmp(buf, want, CHUNK)) {
			fprintf(stderr, "data differs in chunk %ld\n", i);
			return 1;
		}
	}
	printf("%ld MiB written and verified, %ld signals delivered\n", mib,
	       atomic_load(&signals));
	return 0;
}
