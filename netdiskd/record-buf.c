// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "record-buf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

/*
 * Idle buffers kept: enough for four busy connections, at most 32 MiB.
 * They are not given back with MADV_FREE: re-dirtying such a page costs
 * about as much as the fault this saves. Nor is a new one populated when
 * mapped: a connection that moves 4 KiB blocks touches two of its pages.
 */
#define RECORD_BUF_IDLE 32

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *idle[RECORD_BUF_IDLE];
static unsigned int idle_count;
static _Atomic size_t mapped;		/* buffers mapped: in use or idle */

uint8_t *record_buf_get(void)
{
	uint8_t *buf = NULL;
	void *p;

	pthread_mutex_lock(&idle_lock);
	if (idle_count)
		buf = idle[--idle_count];
	pthread_mutex_unlock(&idle_lock);
	if (buf)
		return buf;
	p = mmap(NULL, RECORD_BUF_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	atomic_fetch_add(&mapped, 1);
	return p;
}

void record_buf_put(uint8_t *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&idle_lock);
	if (idle_count < RECORD_BUF_IDLE) {
		idle[idle_count++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&idle_lock);
	if (buf) {
		munmap(buf, RECORD_BUF_SIZE);
		atomic_fetch_sub(&mapped, 1);
	}
}

size_t record_buf_mapped_bytes(void)
{
	return atomic_load(&mapped) * RECORD_BUF_SIZE;
}
