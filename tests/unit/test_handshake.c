// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/* The handshake of both sides over a socketpair, and the record stream. */
#include <arpa/inet.h>
#include <pthread.h>
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
	char identity[ND_NAME_SIZE];
	char export_name[ND_NAME_SIZE];
	int echo_records;
	uint64_t rekey;
};

static bool lookup(void *ctx, const char *identity, uint8_t key[ND_KEY_SIZE])
{
	(void)ctx;
	if (strcmp(identity, "alice"))
		return false;
	memcpy(key, alice_key, ND_KEY_SIZE);
	return true;
}

static void *server_thread(void *arg)
{
	struct server_side *sv = arg;
	static uint8_t buf[ND_MAX_RECORD + ND_RECORD_OVERHEAD];

	nd_session_init(&sv->s, sv->fd);
	sv->s.rekey_records = sv->rekey ? sv->rekey : sv->s.rekey_records;
	sv->result = nd_session_accept(&sv->s, lookup, NULL, sv->identity,
				       sv->export_name);
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

static int run_pair(struct server_side *sv, struct nd_session *cs,
		    const char *identity, const char *export_name,
		    const uint8_t *key, pthread_t *t)
{
	int sp[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	sv->fd = sp[0];
	pthread_create(t, NULL, server_thread, sv);
	nd_session_init(cs, sp[1]);
	return nd_session_connect(cs, identity, export_name, key);
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
	CHECK(sv.result == ND_ACCEPT_OK);
	CHECK(!strcmp(sv.identity, "alice") && !strcmp(sv.export_name, "boot"));
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

static void test_unknown_identity(void)
{
	struct server_side sv = { 0 };
	struct nd_session cs;
	pthread_t t;

	CHECK(run_pair(&sv, &cs, "mallory", "", alice_key, &t) != 0);
	pthread_join(t, NULL);
	CHECK(sv.result == ND_ACCEPT_UNKNOWN_ID);
	close(cs.fd);
	nd_session_free(&cs);
	nd_session_free(&sv.s);
}

/* Feeds raw bytes to the server and returns what it answered. */
static enum nd_accept_result raw_accept(const void *bytes, size_t len,
					uint8_t *reply, ssize_t *reply_len)
{
	char id[ND_NAME_SIZE], ex[ND_NAME_SIZE];
	struct nd_session s;
	enum nd_accept_result r;
	int sp[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	CHECK(write(sp[1], bytes, len) == (ssize_t)len);
	shutdown(sp[1], SHUT_WR);
	nd_session_init(&s, sp[0]);
	r = nd_session_accept(&s, lookup, NULL, id, ex);
	close(sp[0]);
	*reply_len = read(sp[1], reply, 256);
	close(sp[1]);
	nd_session_free(&s);
	return r;
}

static void hello(struct nd_client_hello *ch, const char *id)
{
	memset(ch, 0, sizeof(*ch));
	ch->magic = htonl(ND_MAGIC);
	ch->version = htons(ND_VERSION);
	memcpy(ch->identity, id, strlen(id));
}

static void test_malformed_hellos(void)
{
	struct nd_client_hello ch;
	struct nd_server_hello *sh;
	uint8_t reply[256];
	ssize_t n;

	hello(&ch, "alice");
	ch.magic = htonl(0x12345678);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n == 0);

	hello(&ch, "alice");
	ch.version = htons(2);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_VERSION);
	sh = (struct nd_server_hello *)reply;
	CHECK(n == sizeof(*sh) && ntohs(sh->status) == ND_HELLO_VERSION &&
	      ntohs(sh->version) == ND_VERSION);

	hello(&ch, "../etc");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n == 0);
	hello(&ch, "ali ce");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n == 0);
	hello(&ch, "");
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n == 0);
	hello(&ch, "alice");
	ch.identity[40] = 'x';		/* bytes after the terminating NUL */
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n == 0);
	hello(&ch, "alice");
	memset(ch.export_name, 'a', sizeof(ch.export_name));	/* no NUL */
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n == 0);
	hello(&ch, "alice");
	ch.flags = htons(1);
	CHECK(raw_accept(&ch, sizeof(ch), reply, &n) == ND_ACCEPT_MALFORMED && n == 0);

	/* truncated hello, and a valid hello with no ClientFinished */
	hello(&ch, "alice");
	CHECK(raw_accept(&ch, 100, reply, &n) == ND_ACCEPT_IO && n == 0);
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
}

int main(void)
{
	test_names();
	test_good_key_and_rotation();
	test_wrong_key();
	test_unknown_identity();
	test_malformed_hellos();
	return check_report("test_handshake");
}
