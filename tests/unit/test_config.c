// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* Key files, netdiskd.conf and netdisk:// URIs. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "nd_client.h"
#include "nd_keys.h"

#define K1 "0000000000000000000000000000000000000000000000000000000000000001"
#define K2 "00000000000000000000000000000000000000000000000000000000000000ff"
#define K3 "00000000000000000000000000000000000000000000000000000000000000aa"

static void test_keyfile(void)
{
	struct nd_keyring kr;
	uint8_t key[ND_KEY_SIZE];
	struct nd_psks psks;
	char err[256];

	CHECK(nd_keyring_parse(&kr, K1 "\n", "k", err, sizeof(err)) == 0);
	CHECK(kr.has_default && kr.count == 0);
	CHECK(nd_keyring_lookup(&kr, "anyone", key) && key[31] == 1);
	nd_keyring_free(&kr);

	CHECK(nd_keyring_parse(&kr, "# keys\n alice " K1 "  # laptop\n\nbob\t" K2 "\r\n",
			       "k", err, sizeof(err)) == 0);
	CHECK(!kr.has_default && kr.count == 2);
	CHECK(nd_keyring_lookup(&kr, "bob", key) && key[31] == 0xff);
	CHECK(nd_keyring_lookup(&kr, "alice", key) && key[31] == 1);
	CHECK(!nd_keyring_lookup(&kr, "carol", key));
	nd_keyring_free(&kr);

	CHECK(nd_keyring_parse(&kr, "alice " K1 "\n" K2 "\n", "k", err, sizeof(err)) == 0);
	CHECK(nd_keyring_lookup(&kr, "carol", key) && key[31] == 0xff);
	nd_keyring_free(&kr);

	CHECK(nd_keyring_parse(&kr, "alice 1234\n", "k", err, sizeof(err)) != 0);
	CHECK(strstr(err, "k:1: a key is 64 hex digits") != NULL);
	/* a rotation: two keys, both found for the server, the newer for a client */
	CHECK(nd_keyring_parse(&kr, "alice " K1 "\nbob " K1 "\nalice " K2 "\n", "k", err,
			       sizeof(err)) == 0);
	CHECK(nd_keyring_find(&kr, "alice", &psks) == ND_KEY_IDENTITY && psks.count == 2);
	CHECK(psks.key[0][31] == 1 && psks.key[1][31] == 0xff);
	CHECK(nd_keyring_find(&kr, "bob", &psks) == ND_KEY_IDENTITY && psks.count == 1);
	CHECK(nd_keyring_lookup(&kr, "alice", key) && key[31] == 0xff);
	nd_keyring_free(&kr);
	CHECK(nd_keyring_parse(&kr, "alice " K1 "\nalice " K2 "\nalice " K3 "\n", "k", err,
			       sizeof(err)) != 0);
	CHECK(strstr(err, "k:3: identity 'alice' has a third key") != NULL);
	CHECK(nd_keyring_parse(&kr, "alice " K1 "\nalice " K1 "\n", "k", err, sizeof(err)) != 0);
	CHECK(strstr(err, "k:2: identity 'alice' has this key already") != NULL);
	CHECK(nd_keyring_parse(&kr, K1 "\n" K2 "\n", "k", err, sizeof(err)) != 0);
	CHECK(strstr(err, "second default key") != NULL);
	CHECK(nd_keyring_parse(&kr, "../x " K1 "\n", "k", err, sizeof(err)) != 0);
	CHECK(strstr(err, "invalid identity") != NULL);
	CHECK(nd_keyring_parse(&kr, "a b " K1 "\n", "k", err, sizeof(err)) != 0);
	CHECK(nd_keyring_parse(&kr, "# nothing\n", "k", err, sizeof(err)) != 0);
	CHECK(strstr(err, "no key in file") != NULL);
	CHECK(nd_keyring_parse(&kr, K1 "g\n", "k", err, sizeof(err)) != 0);
}

static void test_keyfile_permissions(void)
{
	char path[] = "/tmp/nd-test-keyXXXXXX";
	int fd = mkstemp(path);
	struct nd_keyring kr;
	char err[256];

	CHECK(fd >= 0);
	CHECK(write(fd, K1 "\n", 65) == 65);
	close(fd);
	chmod(path, 0644);
	CHECK(nd_keyring_load(&kr, path, false, err, sizeof(err)) != 0);
	CHECK(strstr(err, "chmod 600") != NULL);
	chmod(path, 0600);
	CHECK(nd_keyring_load(&kr, path, false, err, sizeof(err)) == 0);
	nd_keyring_free(&kr);
	unlink(path);
	CHECK(nd_keyring_load(&kr, path, false, err, sizeof(err)) != 0);
	CHECK(strstr(err, "netdiskctl keygen") != NULL);
}

static void test_config(void)
{
	struct server_config cfg = { 0 };
	const struct export_config *e;
	char err[256];

	CHECK(config_parse(&cfg,
			   "listen = 127.0.0.1:9000\n"
			   "listen = [::1]\n"
			   "key-file = /etc/k\n"
			   "[export boot]\n"
			   "path = /srv/boot.img\n"
			   "read-only = yes\n"
			   "allow = alice, bob\n"
			   "[export default]  # comment\n"
			   "path = /srv/d.img\n"
			   "allow-write = alice\n",
			   "c", err, sizeof(err)) == 0);
	CHECK(cfg.listen_count == 2 && !strcmp(cfg.listen[1], "[::1]"));
	CHECK(!strcmp(cfg.key_file, "/etc/k"));
	CHECK(cfg.export_count == 2);
	e = config_find_export(&cfg, "boot");
	CHECK(e && e->read_only && !strcmp(e->path, "/srv/boot.img"));
	CHECK(e && id_list_contains(&e->allow, "bob") && !id_list_contains(&e->allow, "carol"));
	e = config_find_export(&cfg, "");
	CHECK(e && !strcmp(e->name, "default") && !e->read_only);
	CHECK(e && id_list_contains(&e->allow, "carol"));
	CHECK(e && id_list_contains(&e->allow_write, "alice") &&
	      !id_list_contains(&e->allow_write, "carol"));
	CHECK(config_find_export(&cfg, "nope") == NULL);
	config_free(&cfg);

	/* a single export is the default whatever its name */
	CHECK(config_add_export(&cfg, "only", "/x", false, err, sizeof(err)) == 0);
	CHECK(config_find_export(&cfg, "") == &cfg.exports[0]);
	CHECK(config_add_export(&cfg, "only", "/y", false, err, sizeof(err)) != 0);
	CHECK(strstr(err, "defined twice") != NULL);
	config_free(&cfg);

	CHECK(config_parse(&cfg, "[export a]\n", "c", err, sizeof(err)) != 0);
	CHECK(strstr(err, "has no path") != NULL);
	config_free(&cfg);
	CHECK(config_parse(&cfg, "bogus = 1\n", "c", err, sizeof(err)) != 0);
	CHECK(strstr(err, "c:1: unknown setting 'bogus'") != NULL);
	config_free(&cfg);
	CHECK(config_parse(&cfg, "[export a]\npath = rel.img\n", "c", err, sizeof(err)) != 0);
	CHECK(strstr(err, "absolute") != NULL);
	config_free(&cfg);
	CHECK(config_parse(&cfg, "[export ../x]\npath = /a\n", "c", err, sizeof(err)) != 0);
	config_free(&cfg);
	CHECK(config_parse(&cfg, "[export a]\npath = /a\nread-only = maybe\n", "c", err,
			   sizeof(err)) != 0);
	config_free(&cfg);
	CHECK(config_parse(&cfg, "[export a]\npath = /a\nallow = ok bad/id\n", "c", err,
			   sizeof(err)) != 0);
	CHECK(strstr(err, "invalid identity 'bad/id'") != NULL);
	config_free(&cfg);
	CHECK(config_parse(&cfg, "just words\n", "c", err, sizeof(err)) != 0);
	config_free(&cfg);
}

static void test_uri(void)
{
	struct nd_uri u;
	char err[256];

	CHECK(nd_uri_parse("netdisk://server", &u, err, sizeof(err)) == 0);
	CHECK(!strcmp(u.host, "server") && !strcmp(u.port, "26547") && !u.export_name[0]);
	CHECK(nd_uri_parse("netdisk://10.0.0.1:1234/boot", &u, err, sizeof(err)) == 0);
	CHECK(!strcmp(u.host, "10.0.0.1") && !strcmp(u.port, "1234") &&
	      !strcmp(u.export_name, "boot"));
	CHECK(nd_uri_parse("netdisk://[::1]:99/x", &u, err, sizeof(err)) == 0);
	CHECK(!strcmp(u.host, "::1") && !strcmp(u.port, "99") && !strcmp(u.export_name, "x"));
	CHECK(nd_uri_parse("netdisk://[fe80::1]", &u, err, sizeof(err)) == 0);
	CHECK(!strcmp(u.host, "fe80::1"));
	CHECK(nd_uri_parse("netdisk://alice@[::1]:99/x", &u, err, sizeof(err)) == 0);
	CHECK(!strcmp(u.identity, "alice") && !strcmp(u.host, "::1") &&
	      !strcmp(u.export_name, "x"));
	CHECK(nd_uri_parse("netdisk://h/x@y", &u, err, sizeof(err)) == 0);
	CHECK(!u.identity[0] && !strcmp(u.export_name, "x@y"));
	/* each malformed URI says what is wrong with it */
	CHECK(nd_uri_parse("nbd://server", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "not a netdisk:// URI"));
	CHECK(nd_uri_parse("netdisk://", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "host is missing"));
	CHECK(nd_uri_parse("netdisk://h:0", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "port must be"));
	CHECK(nd_uri_parse("netdisk://h:65536", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "port must be"));
	CHECK(nd_uri_parse("netdisk://h:12a", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "port must be"));
	/* digits only: strtol would take a sign and leading spaces */
	CHECK(nd_uri_parse("netdisk://h:+1", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "port must be"));
	CHECK(nd_uri_parse("netdisk://h: 1", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "port must be"));
	CHECK(nd_uri_parse("netdisk://h:-1", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "port must be"));
	CHECK(nd_uri_parse("netdisk://h/a/b", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "not a valid export name"));
	CHECK(nd_uri_parse("netdisk://[::1", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "closing ']'"));
	CHECK(nd_uri_parse("netdisk://@h", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "identity before '@'"));
	CHECK(nd_uri_parse("netdisk://a b@h", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "not a valid identity"));
	CHECK(nd_uri_parse("netdisk://h?x", &u, err, sizeof(err)) != 0 &&
	      strstr(err, "unexpected '?'"));
}

int main(void)
{
	test_keyfile();
	test_keyfile_permissions();
	test_config();
	test_uri();
	return check_report("test_config");
}
