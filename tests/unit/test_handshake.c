// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* The handshake of both sides over a socketpair, and the record stream. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stddef.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "nd_session.h"

static const uint8_t alice_key[ND_KEY_SIZE] = { 1, 2, 3, 4 };
static const uint8_t wrong_key[ND_KEY_SIZE] = { 9, 9, 9, 9 };

struct server_side {
	int fd;
	struct nd_session s;
	enum nd_accept_result result;
	struct nd_hello_names names;
	enum nd_key_kind kind;
	uint8_t key[ND_KEY_SIZE];	/* the one the client proved */
	int echo_records;
	uint64_t rekey;
};

static const uint8_t new_key[ND_KEY_SIZE] = { 7, 7, 7, 7 };

/* bob rolls over from alice's key to new_key */
static enum nd_key_kind lookup(void *ctx, const char *identity, struct nd_psks *psks)
{
	(void)ctx;
	psks->count = 1;
	if (!strcmp(identity, "alice")) {
		memcpy(psks->key[0], alice_key, ND_KEY_SIZE);
		return ND_KEY_IDENTITY;
	}
	if (!strcmp(identity, "bob")) {
		memcpy(psks->key[0], alice_key, ND_KEY_SIZE);
		memcpy(psks->key[psks->count++], new_key, ND_KEY_SIZE);
		return ND_KEY_IDENTITY;
	}
	if (!strcmp(identity, "dflt")) {
		memcpy(psks->key[0], wrong_key, ND_KEY_SIZE);
		return ND_KEY_DEFAULT;
	}
	return ND_KEY_NONE;
}

static bool answers_to(void *ctx, int fd, const char *name, uint16_t port)
{
	(void)ctx;
	(void)fd;
	return !strcasecmp(name, "store1") && port == 26547;
}

static int lookups;	/* admission must come before any key is looked up */

static unsigned int admit(void *ctx, const struct nd_hello_names *names)
{
	(void)ctx;
	return !strcmp(names->identity, "crowded") ? 1234 : 0;
}

static enum nd_key_kind counted_lookup(void *ctx, const char *identity,
				       struct nd_psks *psks)
{
	lookups++;
	return lookup(ctx, identity, psks);
}

static uint64_t proven_timestamp;	/* the last proven hello's */

static int proven(void *ctx, const struct nd_hello_names *names, enum nd_key_kind kind,
		  uint64_t timestamp, const uint8_t mac1[ND_MAC1_SIZE])
{
	(void)ctx;
	(void)mac1;
	(void)kind;
	proven_timestamp = timestamp;
	if (!strcmp(names->identity, "alice") && timestamp == 2)
		return -1;	/* a replay */
	return !strcmp(names->identity, "bob") && timestamp == 1 ? 4321 : 0;
}

static const struct nd_accept_ops ops = { counted_lookup, answers_to, admit, proven, NULL };

static struct nd_hello_names names_of(const char *identity, const char *export_name,
				      const char *server_name)
{
	struct nd_hello_names n;

	memset(&n, 0, sizeof(n));
	strcpy(n.identity, identity);
	strcpy(n.export_name, export_name);
	strcpy(n.server_name, server_name);
	n.server_port = 26547;
	return n;
}

static void *server_thread(void *arg)
{
	struct server_side *sv = arg;
	static uint8_t buf[ND_MAX_RECORD + ND_RECORD_OVERHEAD];

	nd_session_init(&sv->s, sv->fd);
	sv->s.rekey_records = sv->rekey ? sv->rekey : sv->s.rekey_records;
	nd_session_set_deadline(&sv->s, 10);
	sv->result = nd_session_accept(&sv->s, &ops, &sv->names, &sv->kind, sv->key);
	if (sv->result == ND_ACCEPT_OK) {
		for (int i = 0; i < sv->echo_records; i++) {
			uint8_t type;
			long n = nd_session_recv(&sv->s, &type, buf, sizeof(buf));

			if (n < 0 || nd_session_send(&sv->s, type, buf, (size_t)n))
				break;
		}
	}
	close(sv->fd);
	return NULL;
}

static int run_pair_named(struct server_side *sv, struct nd_session *cs,
			  const char *identity, const char *export_name,
			  const char *server_name, const uint8_t *key, pthread_t *t)
{
	struct nd_hello_names n = names_of(identity, export_name, server_name);
	int sp[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	sv->fd = sp[0];
	pthread_create(t, NULL, server_thread, sv);
	nd_session_init(cs, sp[1]);
	nd_session_set_deadline(cs, 10);
	return nd_session_connect(cs, &n, key);
}

static int run_pair(struct server_side *sv, struct nd_session *cs,
		    const char *identity, const char *export_name,
		    const uint8_t *key, pthread_t *t)
{
	return run_pair_named(sv, cs, identity, export_name, "store1", key, t);
}

static void test_good_key_and_rotation(void)
{
	struct server_side sv = { .echo_records = 60, .rekey = 3 };
	static uint8_t buf[ND_MAX_RECORD + ND_RECORD_OVERHEAD];
	struct nd_session cs;
	pthread_t t;

	CHECK(run_pair(&sv, &cs, "alice", "boot", alice_key, &t) == 0);
	cs.rekey_records = 4;
	for (int i = 0; i < 60; i++) {
		size_t len = i == 59 ? ND_MAX_RECORD : (size_t)(i * 977) % 5000;
		uint8_t type;
		long n;

		for (size_t j = 0; j < len; j++)
			nd_record_payload(buf)[j] = (uint8_t)(i + j);
		CHECK(nd_session_send(&cs, ND_REC_REQUEST, buf, len) == 0);
		n = nd_session_recv(&cs, &type, buf, sizeof(buf));
		CHECK(n == (long)len && type == ND_REC_REQUEST);
		for (size_t j = 0; j < len && n == (long)len; j++)
			if (nd_record_payload(buf)[j] != (uint8_t)(i + j)) {
				CHECK(!"echoed data differs");
				break;
			}
	}
	pthread_join(t, NULL);
	CHECK(sv.result == ND_ACCEPT_OK && sv.kind == ND_KEY_IDENTITY);
	CHECK(!strcmp(sv.names.identity, "alice") && !strcmp(sv.names.export_name, "boot"));
	CHECK(!strcmp(sv.names.server_name, "store1"));
	CHECK(cs.tx.epoch >= 14 && cs.rx.epoch >= 19);	/* 60/4, 60/3 */
	close(cs.fd);
	nd_session_free(&cs);
	nd_session_free(&sv.s);
}

static void test_wrong_key(void)
{
	struct server_side sv = { 0 };
	struct nd_session cs;
	pthread_t t;

	CHECK(run_pair(&sv, &cs, "alice", "", wrong_key, &t) != 0);
	CHECK(strstr(cs.error, "wrong key") != NULL);
	pthread_join(t, NULL);
	CHECK(sv.result == ND_ACCEPT_BAD_KEY);
	close(cs.fd);
	nd_session_free(&cs);
	nd_session_free(&sv.s);
}

/* During a rotation either of an identity's two keys opens it; a third does not. */
static void test_either_key_of_a_rotation(void)
{
	const uint8_t *keys[] = { alice_key, new_key, wrong_key };

	for (int i = 0; i < 3; i++) {
		struct server_side sv = { 0 };
		struct nd_session cs;
		pthread_t t;

		CHECK((run_pair(&sv, &cs, "bob", "", keys[i], &t) == 0) == (i < 2));
		pthread_join(t, NULL);
		CHECK(sv.result == (i < 2 ? ND_ACCEPT_OK : ND_ACCEPT_BAD_KEY));
		CHECK(i == 2 || !memcmp(sv.key, keys[i], ND_KEY_SIZE));
		close(cs.fd);
		nd_session_free(&cs);
		nd_session_free(&sv.s);
	}
}

static void test_unknown_identity(void)
{
	struct server_side sv = { 0 };
	struct nd_session cs;
	pthread_t t;

	CHECK(run_pair(&sv, &cs, "mallory", "", alice_key, &t) != 0);
	CHECK(strstr(cs.error, "server rejected the key") != NULL);
	CHECK(cs.connect_failure == ND_CONNECT_REFUSED);
	pthread_join(t, NULL);
	CHECK(sv.result == ND_ACCEPT_UNKNOWN_ID);
	close(cs.fd);
	nd_session_free(&cs);
	nd_session_free(&sv.s);
}

static void test_default_key_is_reported(void)
{
	struct server_side sv = { .echo_records = 1 };
	static uint8_t buf[64 + ND_RECORD_OVERHEAD];
	struct nd_session cs;
	uint8_t type;
	pthread_t t;

	CHECK(run_pair(&sv, &cs, "dflt", "", wrong_key, &t) == 0);
	/* a REPLY's first 16 bytes travel in the clear and are authenticated */
	memset(nd_record_payload(buf), 0xab, 40);
	CHECK(nd_session_send(&cs, ND_REC_REPLY, buf, 40) == 0);
	CHECK(nd_session_recv(&cs, &type, buf, sizeof(buf)) == 40 && type == ND_REC_REPLY);
	CHECK(nd_record_payload(buf)[0] == 0xab && nd_record_payload(buf)[39] == 0xab);
	CHECK(nd_session_send(&cs, ND_REC_REPLY, buf, 15) != 0);	/* no room */
	pthread_join(t, NULL);
	CHECK(sv.result == ND_ACCEPT_OK && sv.kind == ND_KEY_DEFAULT);
	close(cs.fd);
	nd_session_free(&cs);
	nd_session_free(&sv.s);
}

static void test_wrong_server_name(void)
{
	struct server_side sv = { 0 };
	struct nd_session cs;
	pthread_t t;

	CHECK(run_pair_named(&sv, &cs, "alice", "", "store2", alice_key, &t) != 0);
	CHECK(strstr(cs.error, "does not answer to the name 'store2'") != NULL);
	pthread_join(t, NULL);
	CHECK(sv.result == ND_ACCEPT_WRONG_SERVER);
	close(cs.fd);
	nd_session_free(&cs);
	nd_session_free(&sv.s);
	/* names compare without case */
	CHECK(run_pair_named(&sv, &cs, "alice", "", "STORE1", alice_key, &t) == 0);
	pthread_join(t, NULL);
	CHECK(sv.result == ND_ACCEPT_OK);
	close(cs.fd);
	nd_session_free(&cs);
	nd_session_free(&sv.s);
}

/* A server at its limits says BUSY, with its hint, and looks up no key. */
static void test_busy_before_any_key(void)
{
	struct server_side sv = { 0 };
	struct nd_session cs;
	pthread_t t;

	lookups = 0;
	CHECK(run_pair(&sv, &cs, "crowded", "", alice_key, &t) != 0);
	pthread_join(t, NULL);
	CHECK(sv.result == ND_ACCEPT_BUSY);
	CHECK(cs.connect_failure == ND_CONNECT_BUSY);
	CHECK(cs.retry_after_ms == 1234);
	CHECK(strstr(cs.error, "busy") != NULL);
	CHECK(lookups == 0);
	close(cs.fd);
	nd_session_free(&cs);
	nd_session_free(&sv.s);
}

/* A peer that sends nothing meets the deadline, not a per-read timeout. */
static void test_deadline(void)
{
	uint8_t key[ND_KEY_SIZE];
	struct nd_hello_names n;
	enum nd_key_kind kind;
	struct nd_session s;
	int sp[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	CHECK(write(sp[1], "NDSK", 4) == 4);
	nd_session_init(&s, sp[0]);
	nd_session_set_deadline(&s, 1);
	CHECK(nd_session_accept(&s, &ops, &n, &kind, key) == ND_ACCEPT_TIMEOUT);
	CHECK(strstr(s.error, "timed out") != NULL);
	close(sp[0]);
	close(sp[1]);
	nd_session_free(&s);
}

/* Feeds raw bytes to the server and returns what it answered. */
static enum nd_accept_result raw_accept(const void *bytes, size_t len,
					uint8_t *reply, ssize_t *reply_len)
{
	uint8_t key[ND_KEY_SIZE];
	struct nd_hello_names n;
	enum nd_key_kind kind;
	struct nd_session s;
	enum nd_accept_result r;
	int sp[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	CHECK(write(sp[1], bytes, len) == (ssize_t)len);
	shutdown(sp[1], SHUT_WR);
	nd_session_init(&s, sp[0]);
	r = nd_session_accept(&s, &ops, &n, &kind, key);
	close(sp[0]);
	*reply_len = read(sp[1], reply, 256);
	close(sp[1]);
	nd_session_free(&s);
	return r;
}

static void hello(struct nd_client_hello *ch, const char *id)
{
	uint8_t priv[ND_SHARE_SIZE];

	memset(ch, 0, sizeof(*ch));
	ch->magic = htonl(ND_MAGIC);
	ch->version = htons(ND_VERSION);
	memcpy(ch->identity, id, strlen(id));
	memcpy(ch->server_name, "store1", 6);
	ch->server_port = htons(26547);
	CHECK(nd_x25519_keypair(priv, ch->share) == 0);
	ch->timestamp[7] = 1;
	CHECK(nd_hello_mac1(ch, alice_key, ch->mac1) == 0);
}

static void test_malformed_hellos(void)
{
	struct nd_client_hello ch;
	struct nd_server_hello *sh;
	uint8_t reply[256];
	ssize_t n;

	hello(&ch, "alice");
	ch.magic = htonl(0x12345678);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);

	/* another version: told at once, after the first 8 bytes */
	hello(&ch, "alice");
	ch.version = htons(1);
	CHECK(raw_accept(&ch, 8, reply, &n) == ND_ACCEPT_VERSION);
	sh = (struct nd_server_hello *)reply;
	CHECK(n == sizeof(*sh) && ntohs(sh->status) == ND_HELLO_VERSION &&
	      ntohs(sh->version) == ND_VERSION);

	/* a server name this server does not answer to */
	hello(&ch, "alice");
	memcpy(ch.server_name, "other", 6);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_WRONG_SERVER);
	CHECK(n == sizeof(*sh) && ntohs(sh->status) == ND_HELLO_WRONG_SERVER);
	hello(&ch, "alice");
	memset(ch.server_name, 0, sizeof(ch.server_name));
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	/* the right name on another port: another instance */
	hello(&ch, "alice");
	ch.server_port = htons(26548);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_WRONG_SERVER);
	CHECK(n == sizeof(*sh) && ntohs(sh->status) == ND_HELLO_WRONG_SERVER);
	/* no port, or reserved bytes set: malformed */
	hello(&ch, "alice");
	ch.server_port = 0;
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	hello(&ch, "alice");
	ch.reserved = htons(1);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);

	/* low-order X25519 shares (RFC 7748 section 7): all-zero secrets */
	hello(&ch, "alice");
	memset(ch.share, 0, sizeof(ch.share));
	CHECK(nd_hello_mac1(&ch, alice_key, ch.mac1) == 0);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	hello(&ch, "alice");
	memset(ch.share, 0, sizeof(ch.share));
	ch.share[0] = 1;
	CHECK(nd_hello_mac1(&ch, alice_key, ch.mac1) == 0);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);

	/*
	 * mac1 (docs/protocol.md, "Unauthenticated connections"): any byte
	 * changed, another key, or an unknown identity gets KEY at once, and
	 * the proven hook sees no such hello
	 */
	for (size_t i = offsetof(struct nd_client_hello, nonce); i < sizeof(ch); i += 5) {
		/* the names and the port have checks of their own, before mac1 */
		if (i >= offsetof(struct nd_client_hello, identity) &&
		    i < offsetof(struct nd_client_hello, timestamp))
			i = offsetof(struct nd_client_hello, timestamp);
		hello(&ch, "alice");
		((uint8_t *)&ch)[i] ^= 0x01;
		proven_timestamp = 0;
		CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_BAD_KEY);
		CHECK(n == sizeof(*sh) && ntohs(sh->status) == ND_HELLO_KEY && !proven_timestamp);
	}
	hello(&ch, "mallory");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_UNKNOWN_ID);
	CHECK(n == sizeof(*sh) && ntohs(sh->status) == ND_HELLO_KEY);
	/* the hook sees the client's clock, and may say busy */
	hello(&ch, "alice");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_IO && proven_timestamp == 1);
	hello(&ch, "alice");
	ch.timestamp[7] = 2;
	CHECK(nd_hello_mac1(&ch, alice_key, ch.mac1) == 0);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_REPLAY && n <= 0);
	hello(&ch, "bob");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_BUSY);
	CHECK(n == sizeof(*sh) && ntohs(sh->status) == ND_HELLO_BUSY &&
	      ntohl(sh->retry_after_ms) == 4321);

	hello(&ch, "../etc");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	hello(&ch, "ali ce");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	hello(&ch, "");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	hello(&ch, "alice");
	ch.identity[40] = 'x';		/* bytes after the terminating NUL */
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	hello(&ch, "alice");
	memset(ch.export_name, 'a', sizeof(ch.export_name));	/* no NUL */
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	hello(&ch, "alice");
	ch.flags = htons(2);		/* a flag no version defines */
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);
	hello(&ch, "alice");
	ch.flags = htons(ND_HELLO_LIST);	/* a list names no export */
	strcpy(ch.export_name, "disk");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n <= 0);

	/* truncated hello, and a valid hello with no ClientFinished */
	hello(&ch, "alice");
	CHECK(raw_accept(&ch, 100, reply, &n) == ND_ACCEPT_IO && n <= 0);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_IO &&
	      n == sizeof(struct nd_server_hello));
}

static void test_names(void)
{
	CHECK(nd_valid_identity("host-1.example.org"));
	CHECK(nd_valid_identity("user@host:2"));
	CHECK(!nd_valid_identity(""));
	CHECK(!nd_valid_identity(".hidden"));
	CHECK(!nd_valid_identity("-opt"));
	CHECK(!nd_valid_identity("a/b"));
	CHECK(!nd_valid_identity("a\\b"));
	CHECK(!nd_valid_identity("caf\xc3\xa9"));
	CHECK(nd_valid_export_name(""));
	CHECK(!nd_valid_export_name(".."));
	CHECK(nd_valid_server_name("fd00::1"));
	CHECK(nd_valid_server_name("store1.example.org"));
	CHECK(!nd_valid_server_name(""));
	CHECK(!nd_valid_server_name("[::1]"));
}

int main(void)
{
	test_names();
	test_good_key_and_rotation();
	test_wrong_key();
	test_either_key_of_a_rotation();
	test_unknown_identity();
	test_default_key_is_reported();
	test_wrong_server_name();
	test_busy_before_any_key();
	test_deadline();
	test_malformed_hellos();
	return check_report("test_handshake");
}
