// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * netdiskctl list: the attached disks as the module's netlink family lists
 * them, with what sysfs adds (size, each connection's state and counters),
 * their /dev/netdisk/ links, and the netdisktab name that attaches each.
 */
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "genl.h"
#include "nd_tab.h"
#include "netdiskctl.h"

#define DEV_DIR "/dev/netdisk"
#define MAX_CONNS 64

struct conn_state {
	unsigned int index;
	char state[16];
	unsigned long long requests, reconnects, records;
};

struct disk_view {
	const struct nd_disk *d;
	long long size;			/* bytes; -1 if sysfs does not say */
	char links[8][PATH_MAX];	/* /dev/netdisk/ names of the whole disk */
	unsigned int nlinks;
	const char *tab_name;		/* NULL: no netdisktab entry attaches it */
	struct conn_state conns[MAX_CONNS];
	unsigned int nconns;
};

static long long disk_size(uint32_t index)
{
	char path[64];
	unsigned long long sectors;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/block/netdisk%u/size", index);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fscanf(f, "%llu", &sectors) == 1;
	fclose(f);
	return ok ? (long long)(sectors * 512) : -1;
}

/* netdisk/queues: "INDEX STATE requests=N reconnects=N records=N" lines */
static void read_conns(struct disk_view *v)
{
	char path[80], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/netdisk%u/netdisk/queues", v->d->index);
	f = fopen(path, "re");
	if (!f)
		return;
	while (v->nconns < MAX_CONNS && fgets(line, sizeof(line), f)) {
		struct conn_state *c = &v->conns[v->nconns];

		if (sscanf(line, "%u %15s requests=%llu reconnects=%llu records=%llu", &c->index,
			   c->state, &c->requests, &c->reconnects, &c->records) == 5)
			v->nconns++;
	}
	fclose(f);
}

/* the links in /dev/netdisk/ to the whole disk: the udev rule makes them */
static void read_links(struct disk_view *v)
{
	struct dirent **names;
	struct stat st;
	int n = scandir(DEV_DIR, &names, NULL, alphasort);
	char path[PATH_MAX];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), DEV_DIR "/%s", names[i]->d_name);
		if (names[i]->d_name[0] != '.' && v->nlinks < 8 && !stat(path, &st) &&
		    S_ISBLK(st.st_mode)) {
			char real[PATH_MAX], want[32];

			snprintf(want, sizeof(want), "/dev/netdisk%u", v->d->index);
			if (realpath(path, real) && !strcmp(real, want))
				snprintf(v->links[v->nlinks++], PATH_MAX, "%s", path);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

/* An entry's host as the disk records it, without failing the listing. */
static bool entry_address(const struct nd_tab_entry *e, char addr[INET6_ADDRSTRLEN])
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

	if (getaddrinfo(e->uri.host, NULL, &hints, &ai))
		return false;
	getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, INET6_ADDRSTRLEN, NULL, 0,
		    NI_NUMERICHOST);
	freeaddrinfo(ai);
	return true;
}

static void find_tab_name(struct disk_view *v, const struct nd_tab *tab)
{
	char addr[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < tab->count && !v->tab_name; i++)
		if (entry_address(&tab->entries[i], addr) &&
		    disk_is_entry(v->d, addr, &tab->entries[i]))
			v->tab_name = tab->entries[i].name;
}

/* names the module and the netdisktab validated, and /dev paths: plain */
static void print_json(const struct disk_view *v, bool first)
{
	const struct nd_disk *d = v->d;

	printf("%s{\"disk\": \"netdisk%u\", \"host\": \"%s\", \"port\": %u, "
	       "\"export\": \"%s\", \"identity\": \"%s\", \"state\": \"%s\", ",
	       first ? "" : ", ", d->index, d->address, d->port, d->export_name, d->identity,
	       d->state);
	if (v->size >= 0)
		printf("\"size\": %lld, ", v->size);
	else
		printf("\"size\": null, ");
	if (v->tab_name)
		printf("\"name\": \"%s\", \"links\": [", v->tab_name);
	else
		printf("\"name\": null, \"links\": [");
	for (unsigned int i = 0; i < v->nlinks; i++)
		printf("%s\"%s\"", i ? ", " : "", v->links[i]);
	printf("], \"connections\": [");
	for (unsigned int i = 0; i < v->nconns; i++) {
		const struct conn_state *c = &v->conns[i];

		printf("%s{\"index\": %u, \"state\": \"%s\", \"requests\": %llu, "
		       "\"reconnects\": %llu, \"records\": %llu}", i ? ", " : "", c->index,
		       c->state, c->requests, c->reconnects, c->records);
	}
	printf("]}");
}

static void print_text(const struct disk_view *v)
{
	const struct nd_disk *d = v->d;
	char disk[24], size[32];

	snprintf(disk, sizeof(disk), "netdisk%u", d->index);
	if (v->size >= 0)
		snprintf(size, sizeof(size), "%lld", v->size);
	else
		snprintf(size, sizeof(size), "-");
	printf("%-10s %-24s %-6u %-16s %-16s %-12s %14s %-12s %s\n", disk, d->address, d->port,
	       d->export_name[0] ? d->export_name : "(default)", d->identity, d->state, size,
	       v->tab_name ? v->tab_name : "-", v->nlinks ? v->links[0] : "-");
	for (unsigned int i = 0; i < v->nconns; i++) {
		const struct conn_state *c = &v->conns[i];

		printf("  connection %u: %s, %llu requests, %llu reconnects, %llu records\n",
		       c->index, c->state, c->requests, c->reconnects, c->records);
	}
}

int cmd_list(const struct client_opts *o)
{
	struct nd_disk *disks = NULL;
	struct nd_tab tab = { 0 };
	bool have_tab;
	char err[512];
	size_t n = 0;
	int rc = genl_list(&disks, &n);

	if (rc && rc != -ENOENT)
		die("listing the disks failed: %s", strerror(-rc));
	/* a missing or partly bad table only leaves names out */
	have_tab = !nd_tab_load(&tab, tab_path(o), err, sizeof(err));
	if (!have_tab && errno != ENOENT && o->tab_path)
		fprintf(stderr, "netdiskctl: %s\n", err);
	if (o->json)
		printf("[");
	else
		printf("%-10s %-24s %-6s %-16s %-16s %-12s %14s %-12s %s\n", "DISK", "HOST", "PORT",
		       "EXPORT", "IDENTITY", "STATE", "SIZE", "NAME", "LINK");
	for (size_t i = 0; i < n; i++) {
		struct disk_view *v = calloc(1, sizeof(*v));

		if (!v)
			die("out of memory");
		v->d = &disks[i];
		v->size = disk_size(disks[i].index);
		read_conns(v);
		read_links(v);
		if (have_tab)
			find_tab_name(v, &tab);
		if (o->json)
			print_json(v, i == 0);
		else
			print_text(v);
		free(v);
	}
	if (o->json)
		printf("]\n");
	if (have_tab)
		nd_tab_free(&tab);
	free(disks);
	return 0;
}
