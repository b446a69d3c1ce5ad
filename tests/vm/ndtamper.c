// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * ndtamper LISTEN_PORT SERVER_PORT OFFSET [CHUNK]: a TCP relay on 127.0.0.1
 * that flips one bit at byte OFFSET of the first connection's
 * server-to-client stream (-1: none), and relays every later connection
 * untouched. With CHUNK, the server's bytes reach the client in writes of
 * CHUNK bytes each, so that TCP queues them in many small pieces.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16))
		return -1;
	return fd;
}

static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	return connect(fd, (struct sockaddr *)&a, sizeof(a)) ? -1 : fd;
}

static int write_all(int fd, const char *p, size_t n, size_t chunk)
{
	while (n) {
		size_t len = n < chunk ? n : chunk;
		ssize_t done = write(fd, p, len);

		if (done <= 0)
			return -1;
		p += done;
		n -= (size_t)done;
	}
	return 0;
}

/* Relays both ways until either side closes; flips the byte at *flip. */
static void relay(int client, int server, long long *flip, size_t chunk)
{
	struct pollfd p[2] = { { client, POLLIN, 0 }, { server, POLLIN, 0 } };
	long long down = 0;
	char buf[65536];

	for (;;) {
		if (poll(p, 2, -1) < 0)
			return;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0)
				return;
			if (i == 1 && *flip >= down && *flip < down + n) {
				buf[*flip - down] ^= 0x01;
				fprintf(stderr, "ndtamper: flipped a bit at byte %lld\n", *flip);
				*flip = -1;
			}
			if (i == 1)
				down += n;
			if (write_all(p[!i].fd, buf, (size_t)n, i == 1 ? chunk : sizeof(buf)))
				return;
		}
	}
}

int main(int argc, char **argv)
{
	size_t chunk = 65536;
	long long flip;
	int lfd;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: ndtamper LISTEN_PORT SERVER_PORT OFFSET [CHUNK]\n");
		return 2;
	}
	flip = atoll(argv[3]);
	if (argc == 5 && (chunk = (size_t)atol(argv[4])) == 0) {
		fprintf(stderr, "ndtamper: CHUNK must be at least 1\n");
		return 2;
	}
	lfd = listen_on(atoi(argv[1]));
	if (lfd < 0) {
		perror("listen");
		return 2;
	}
	for (;;) {
		int c = accept(lfd, NULL, NULL), s, one = 1;

		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (fork() == 0) {
			close(lfd);
			s = dial(atoi(argv[2]));
			if (s >= 0)
				relay(c, s, &flip, chunk);
			_exit(0);
		}
		close(c);
		flip = -1;	/* only the first connection */
	}
}
