// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "record-buf.h"

static struct log_limit metrics_errors = LOG_LIMIT_INIT;

static uint64_t seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ? (uint64_t)(now.tv_sec - t->tv_sec) : 0;
}

/* A name as the status shows it: "-" when empty; one word, whatever it held. */
static const char *word(const char *name, char *out, size_t len)
{
	size_t i;

	if (!*name)
		return "-";
	for (i = 0; name[i] && i + 1 < len; i++)
		out[i] = (name[i] > ' ' && name[i] < 0x7f && name[i] != '=') ? name[i] : '?';
	out[i] = '\0';
	return out;
}

/* The server line's figures, live connections and ended ones together. */
struct server_figures {
	uint64_t uptime, admitted, busy, requests, bytes_read, bytes_written;
	unsigned int serving, handshakes;
	size_t record_buffer_bytes;
};

/*
 * Walks the connections once under server.lock: the figures, and, if conns
 * is not NULL, a line per connection into it.
 */
static void snapshot(struct server *srv, struct server_figures *s, FILE *conns)
{
	char id[ND_NAME_SIZE], ex[ND_NAME_SIZE];

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&srv->lock);
	for (const struct server_peer *p = srv->peers; p; p = p->next) {
		bool serving = p->authenticated && *p->export_name;

		s->requests += atomic_load(&p->requests);
		s->bytes_read += atomic_load(&p->bytes_read);
		s->bytes_written += atomic_load(&p->bytes_written);
		if (serving)
			s->serving++;
		else
			s->handshakes++;
		if (!conns)
			continue;
		fprintf(conns, "connection address=%s state=%s identity=%s export=%s age=%" PRIu64
			" requests=%" PRIu64 " in_flight=%" PRIu64 " bytes_read=%" PRIu64
			" bytes_written=%" PRIu64 "\n", p->host,
			serving ? "serving" : p->authenticated ? "opening" : "handshake",
			p->authenticated ? word(p->identity, id, sizeof(id)) : "-",
			word(p->export_name, ex, sizeof(ex)), seconds_since(&p->since),
			atomic_load(&p->requests), atomic_load(&p->in_flight),
			atomic_load(&p->bytes_read), atomic_load(&p->bytes_written));
	}
	/* a peer moves its counters to ended_* under the lock: none counted twice */
	s->requests += atomic_load(&srv->ended_requests);
	s->bytes_read += atomic_load(&srv->ended_bytes_read);
	s->bytes_written += atomic_load(&srv->ended_bytes_written);
	pthread_mutex_unlock(&srv->lock);
	s->uptime = seconds_since(&srv->started);
	s->admitted = atomic_load(&srv->admitted);
	s->busy = atomic_load(&srv->busy);
	s->record_buffer_bytes = record_buf_mapped_bytes();
}

void status_format(struct server *srv, FILE *f)
{
	struct server_figures s;
	char *lines = NULL;
	size_t lines_len = 0;
	FILE *conns = open_memstream(&lines, &lines_len);
	bool whole = conns != NULL;

	snapshot(srv, &s, conns);
	/* a line cut short for want of memory: no "end", so not whole */
	if (conns && (ferror(conns) | fclose(conns)))
		whole = false;
	fprintf(f, "netdisk-status 1\n");
	fprintf(f, "server uptime=%" PRIu64 " connections=%u handshakes=%u admitted=%" PRIu64
		" busy=%" PRIu64 " requests=%" PRIu64 " bytes_read=%" PRIu64 " bytes_written=%"
		PRIu64 " record_buffer_bytes=%zu\n", s.uptime, s.serving, s.handshakes,
		s.admitted, s.busy, s.requests, s.bytes_read, s.bytes_written,
		s.record_buffer_bytes);
	if (whole && lines)
		fputs(lines, f);
	free(lines);
	if (whole && !ferror(f))
		fprintf(f, "end\n");
}

static void metric(FILE *f, const char *name, const char *type, const char *help,
		   uint64_t value)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
		name, value);
}

static void format_metrics(struct server *srv, FILE *f)
{
	struct server_figures s;

	snapshot(srv, &s, NULL);
	metric(f, "netdiskd_uptime_seconds", "gauge", "Seconds since netdiskd started.",
	       s.uptime);
	metric(f, "netdiskd_connections", "gauge", "Connections serving an export.", s.serving);
	metric(f, "netdiskd_handshakes", "gauge",
	       "Connections not yet serving: in their handshake or opening the export.",
	       s.handshakes);
	metric(f, "netdiskd_admitted_total", "counter",
	       "Connections that took a place after their handshake.", s.admitted);
	metric(f, "netdiskd_busy_total", "counter",
	       "Connections told busy before, or FULL after, their handshake.", s.busy);
	metric(f, "netdiskd_requests_total", "counter", "Requests read.", s.requests);
	metric(f, "netdiskd_read_bytes_total", "counter", "Bytes clients read.", s.bytes_read);
	metric(f, "netdiskd_written_bytes_total", "counter", "Bytes clients wrote.",
	       s.bytes_written);
	metric(f, "netdiskd_record_buffer_bytes", "gauge",
	       "Memory of the record buffers, in use and kept idle.", s.record_buffer_bytes);
}

int status_write_metrics(struct server *srv, const char *path)
{
	char tmp[4096];
	FILE *f;
	int fd, ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		log_limited(&metrics_errors, LOG_ERR, NULL, "metrics file %s: the name is too long",
			    path);
		return -1;
	}
	/* readable by node_exporter, which runs as another user */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || fchmod(fd, 0644) || !(f = fdopen(fd, "w"))) {
		log_limited(&metrics_errors, LOG_ERR, NULL, "metrics file %s: %s", tmp,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	format_metrics(srv, f);
	ret = ferror(f);
	if (fclose(f) || ret) {
		log_limited(&metrics_errors, LOG_ERR, NULL, "metrics file %s: %s", tmp,
			    strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		log_limited(&metrics_errors, LOG_ERR, NULL, "metrics file %s: %s", path,
			    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
