// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* The netdisktab parser: what the boot-time attach reads. */
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include "nd_tab.h"

static void test_good(void)
{
	struct nd_tab tab;
	const struct nd_tab_entry *e;
	char err[512];

	CHECK(nd_tab_parse(&tab,
		"# NAME URI OPTIONS\n"
		"\n"
		"root\tnetdisk://lab-a@169.254.1.1/golden  key-file=/etc/netdisk/root.key,connections=2,dead-timeout=0,timeout=5\n"
		"  scratch netdisk://[fe80::1]:4000 noauto,cache-mb=64,server-name=store,attach-timeout=300 # spare\r\n"
		"plain netdisk://store.example\n",
		"tab", err, sizeof(err)) == 0);
	CHECK(tab.count == 3);
	e = nd_tab_find(&tab, "root");
	CHECK(e && e->line == 3 && !strcmp(e->uri.identity, "lab-a") &&
	      !strcmp(e->uri.host, "169.254.1.1") && !strcmp(e->uri.export_name, "golden") &&
	      !strcmp(e->key_file, "/etc/netdisk/root.key") && e->connections == 2 &&
	      !e->noauto && !e->cache_mb && e->timeout_s == 5 && e->dead_timeout_set &&
	      !e->dead_timeout_s && e->attach_timeout_s == ND_TAB_ATTACH_TIMEOUT_S);
	e = nd_tab_find(&tab, "scratch");
	CHECK(e && e->noauto && e->cache_mb == 64 && !strcmp(e->server_name, "store") &&
	      !e->timeout_s && !e->dead_timeout_set && e->attach_timeout_s == 300 &&
	      !strcmp(e->uri.port, "4000") && !strcmp(e->uri.host, "fe80::1"));
	e = nd_tab_find(&tab, "plain");
	CHECK(e && !e->key_file[0] && !e->uri.identity[0] && !strcmp(e->uri.port, "26547"));
	CHECK(!nd_tab_find(&tab, "nope"));
	nd_tab_free(&tab);

	CHECK(nd_tab_parse(&tab, "", "tab", err, sizeof(err)) == 0 && tab.count == 0);
	CHECK(nd_tab_load(&tab, "/nonexistent/netdisktab", err, sizeof(err)) == 0 &&
	      tab.count == 0);
}

/* text has one bad line, whose reason includes why; the others still count */
static void refused(const char *text, const char *why)
{
	struct nd_tab tab = { 0 };
	char err[512] = "";
	size_t lines = 0;

	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	CHECK(nd_tab_parse(&tab, text, "tab", err, sizeof(err)) == 0);
	CHECK(tab.bad_count == 1);
	if (tab.bad_count == 1 && !strstr(tab.bad[0].why, why))
		fprintf(stderr, "for %s  got: %s\n  want: %s\n", text, tab.bad[0].why, why);
	CHECK(tab.bad_count == 1 && strstr(tab.bad[0].why, why) != NULL);
	/* blank lines aside, every other line is an entry */
	CHECK(tab.count + tab.bad_count <= lines);
	nd_tab_free(&tab);
}

/* one bad line breaks no other disk: netdiskctl and the generator go on */
static void test_bad_lines_are_skipped(void)
{
	struct nd_tab tab;
	char err[512] = "";

	CHECK(nd_tab_parse(&tab, "data netdisk://h/d\nroot netdisk://h:99999\n"
			   "spare netdisk://h noauto\nroot netdisk://g\n", "tab", err,
			   sizeof(err)) == 0);
	CHECK(tab.count == 3 && nd_tab_find(&tab, "data") && nd_tab_find(&tab, "spare"));
	/* the second 'root' is good once the first did not parse */
	CHECK(nd_tab_find(&tab, "root") && nd_tab_find(&tab, "root")->line == 4);
	CHECK(tab.bad_count == 1 && !strcmp(tab.bad[0].name, "root") &&
	      strstr(tab.bad[0].why, "tab:2:") && strstr(tab.bad[0].why, "port must be"));
	CHECK(nd_tab_find_bad(&tab, "root") == &tab.bad[0] && !nd_tab_find_bad(&tab, "data"));
	nd_tab_free(&tab);
}

static void test_bad(void)
{
	refused("root\n", "tab:1: expected NAME URI [OPTIONS]");
	refused("a netdisk://h x y\n", "tab:1: expected NAME URI [OPTIONS]");
	refused("\n\nroot/x netdisk://h\n", "tab:3: 'root/x' is not a disk name");
	refused("-root netdisk://h\n", "is not a disk name");
	refused("root-fs netdisk://h\n", "is not a disk name");
	refused("root http://h\n", "tab:1:");
	refused("root netdisk://h bogus\n", "tab:1: unknown option 'bogus'");
	refused("root netdisk://h key=00\n", "unknown option 'key=00'");
	refused("root netdisk://h key-file=relative\n", "bad value 'relative' for key-file");
	refused("root netdisk://h connections=0\n", "bad value '0' for connections");
	refused("root netdisk://h connections=17\n", "bad value '17' for connections");
	refused("root netdisk://h connections=2x\n", "bad value '2x' for connections");
	refused("root netdisk://h cache-mb=-1\n", "bad value '-1' for cache-mb");
	refused("root netdisk://h noauto=yes\n", "unknown option 'noauto=yes'");
	refused("root netdisk://h timeout=0\n", "bad value '0' for timeout");
	refused("root netdisk://h attach-timeout=86401\n", "bad value '86401' for attach-timeout");
	refused("root netdisk://h timeout=86401\n", "bad value '86401' for timeout");
	refused("root netdisk://h dead-timeout=-1\n", "bad value '-1' for dead-timeout");
	refused("root netdisk://h dead-timeout=31536001\n", "bad value '31536001' for dead-timeout");
	refused("root netdisk://h\nother netdisk://h\nroot netdisk://g\n",
		"tab:3: disk 'root' is already on line 1");
}

int main(void)
{
	test_good();
	test_bad_lines_are_skipped();
	test_bad();
	return check_report("test_netdisktab");
}
