// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* netdiskctl attach, detach, list: the kernel module's disks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <netdb.h>

#include "nd_keys.h"
#include "netdiskctl.h"

#define SYSFS_CONTROL "/sys/kernel/netdisk"

static int write_control(const char *file, const char *text)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", SYSFS_CONTROL, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void ensure_module(void)
{
	struct stat st;

	if (!stat(SYSFS_CONTROL, &st))
		return;
	if (system("modprobe netdisk") != 0 || stat(SYSFS_CONTROL, &st))
		die("the netdisk kernel module is not loaded and 'modprobe netdisk' failed");
}

/* Disk names present now, as a bit per index below 256. */
static void disk_set(uint8_t set[32])
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	unsigned int n;

	memset(set, 0, 32);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (sscanf(e->d_name, "netdisk%u", &n) == 1 && n < 256)
			set[n / 8] |= (uint8_t)(1 << (n % 8));
	closedir(d);
}

int cmd_attach(const struct client_opts *o, const char *target)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char err[512], addr[INET6_ADDRSTRLEN], hex[2 * ND_KEY_SIZE + 1];
	char cmd[512], conns[32] = "", server[ND_NAME_SIZE];
	uint8_t key[ND_KEY_SIZE], before[32], after[32];
	struct nd_uri uri;
	int rc;

	if (nd_uri_parse(target, &uri, err, sizeof(err)))
		die("%s", err);
	rc = getaddrinfo(uri.host, NULL, &hints, &ai);
	if (rc)
		die("cannot resolve %s: %s", uri.host, gai_strerror(rc));
	getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(ai);
	if (o->server_name[0])
		strcpy(server, o->server_name);
	else if (nd_server_name_of(uri.host, server))
		die("'%s' cannot be sent as the server's name; give --server-name", uri.host);
	load_key(o, key);
	nd_format_hex_key(key, hex);
	nd_wipe(key, sizeof(key));
	if (o->connections)
		snprintf(conns, sizeof(conns), " connections=%u", o->connections);
	snprintf(cmd, sizeof(cmd), "address=%s port=%s export=%s identity=%s server=%s%s key=%s",
		 addr, uri.port, uri.export_name, o->identity, server, conns, hex);
	nd_wipe(hex, sizeof(hex));
	ensure_module();
	disk_set(before);
	rc = write_control("attach", cmd);
	nd_wipe(cmd, sizeof(cmd));
	if (rc == -EKEYREJECTED)
		die("%s rejected the key for identity '%s'", target, o->identity);
	if (rc == -ENOENT)
		die("%s: no such export", target);
	if (rc == -EACCES)
		die("%s: identity '%s' is not allowed on this export", target, o->identity);
	if (rc)
		die("attaching %s failed: %s (see the kernel log)", target, strerror(-rc));
	disk_set(after);
	for (unsigned int i = 0; i < 256; i++)
		if ((after[i / 8] & ~before[i / 8]) & (1 << (i % 8)))
			printf("netdisk%u\n", i);
	return 0;
}

int cmd_detach(const char *name)
{
	char resolved[PATH_MAX];
	const char *base;
	int rc;

	if (strchr(name, '/') && realpath(name, resolved))
		name = resolved;
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (strncmp(base, "netdisk", 7))
		die("'%s' is not a netdisk device", name);
	rc = write_control("detach", base);
	if (rc)
		die("detaching %s failed: %s", base, rc == -ENODEV ? "no such disk" :
		    strerror(-rc));
	return 0;
}

static void read_attr(const char *disk, const char *attr, char *out, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/netdisk/%s", disk, attr);
	out[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

int cmd_list(const struct client_opts *o)
{
	struct dirent **names;
	int n = scandir("/sys/block", &names, NULL, versionsort);
	const char *sep = "";

	if (n < 0)
		die("/sys/block: %s", strerror(errno));
	if (o->json)
		printf("[");
	else
		printf("%-10s %-24s %-6s %-16s %-16s %s\n", "DISK", "HOST", "PORT",
		       "EXPORT", "IDENTITY", "STATE");
	for (int i = 0; i < n; i++) {
		char host[80], port[16], exp[80], id[80], state[32];
		const char *d = names[i]->d_name;

		if (!strncmp(d, "netdisk", 7)) {
			read_attr(d, "host", host, sizeof(host));
			read_attr(d, "port", port, sizeof(port));
			read_attr(d, "export", exp, sizeof(exp));
			read_attr(d, "identity", id, sizeof(id));
			read_attr(d, "state", state, sizeof(state));
			if (o->json) {
				/* sysfs gives names the module validated: no escapes */
				printf("%s{\"disk\": \"%s\", \"host\": \"%s\", \"port\": %s, "
				       "\"export\": \"%s\", \"identity\": \"%s\", "
				       "\"state\": \"%s\"}", sep, d, host, port[0] ? port : "0",
				       exp, id, state);
				sep = ", ";
			} else {
				printf("%-10s %-24s %-6s %-16s %-16s %s\n", d, host, port,
				       exp[0] ? exp : "(default)", id, state);
			}
		}
		free(names[i]);
	}
	free(names);
	if (o->json)
		printf("]\n");
	return 0;
}
