/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * netdisk wire protocol, version 4. Specified in docs/protocol.md.
 *
 * Shared by the kernel module and the userspace tools. All fields are in
 * network byte order (big-endian); all structures are packed by layout, with
 * no implicit padding.
 */
#ifndef _UAPI_NETDISK_WIRE_H
#define _UAPI_NETDISK_WIRE_H

#include <linux/types.h>

#define ND_DEFAULT_PORT		26547
#define ND_MAGIC		0x4e44534bU	/* "NDSK" */
#define ND_VERSION		4

#define ND_KEY_SIZE		32	/* pre-shared key, AES-256 key */
#define ND_NONCE_SIZE		32	/* hello nonce */
#define ND_HASH_SIZE		32	/* SHA-256 output, finished MACs */
#define ND_IV_SIZE		12	/* AES-GCM nonce */
#define ND_TAG_SIZE		16	/* AES-GCM tag */
#define ND_NAME_SIZE		64	/* identity / export / server name, NUL padded */
#define ND_SHARE_SIZE		32	/* X25519 public key */

#define ND_MAX_IO		(1U << 20)		/* largest READ/WRITE */
#define ND_MAX_RECORD		(ND_MAX_IO + 32)	/* largest plaintext */

/* A sender rotates before either limit; a receiver enforces the hard ones. */
#define ND_REKEY_RECORDS	(1ULL << 20)
#define ND_REKEY_BYTES		(1ULL << 32)
#define ND_HARD_RECORDS		(1ULL << 24)
#define ND_HARD_BYTES		(1ULL << 36)

#define ND_HANDSHAKE_TIMEOUT_S	10
#define ND_MAC1_SIZE		16

struct nd_client_hello {
	__be32 magic;
	__be16 version;
	__be16 flags;				/* enum nd_hello_flags */
	__u8 nonce[ND_NONCE_SIZE];
	__u8 share[ND_SHARE_SIZE];		/* ephemeral X25519 public key */
	char identity[ND_NAME_SIZE];		/* 1..63 bytes, NUL padded */
	char export_name[ND_NAME_SIZE];		/* 0..63 bytes; "" = default */
	char server_name[ND_NAME_SIZE];		/* 1..63 bytes, NUL padded */
	__be16 server_port;			/* the TCP port dialed, nonzero */
	__be16 reserved;			/* zero */
	__u8 timestamp[8];			/* be64: the client's clock, Unix s */
	__u8 mac1[ND_MAC1_SIZE];		/* over the bytes above: protocol.md */
};

/* mac1 = HMAC-SHA256(HKDF-Expand(PSK, ND_MAC1_LABEL, 32), hello)[0..16) */
#define ND_MAC1_LABEL		"netdisk4 mac1"

enum nd_hello_flags {
	ND_HELLO_LIST = 1 << 0,			/* a LIST record, not INFO; no export */
};

enum nd_hello_status {
	ND_HELLO_OK = 0,
	ND_HELLO_VERSION = 1,			/* version holds the server's */
	ND_HELLO_WRONG_SERVER = 2,		/* server_name is not this server */
	ND_HELLO_BUSY = 3,			/* at a connection limit: retry_after_ms */
	ND_HELLO_KEY = 4,			/* mac1 did not verify */
};

#define ND_RETRY_AFTER_MAX_MS 60000	/* the largest retry_after a server sends */

/* The part of every hello, of any version, that a server reads first. */
struct nd_hello_prefix {
	__be32 magic;
	__be16 version;
	__be16 flags_or_status;
};

struct nd_server_hello {
	__be32 magic;
	__be16 version;
	__be16 status;				/* enum nd_hello_status */
	union {
		__u8 nonce[ND_NONCE_SIZE];	/* status OK */
		__be32 retry_after_ms;		/* status BUSY; the rest is zero */
	};
	__u8 share[ND_SHARE_SIZE];		/* ephemeral X25519 public key */
};

/* ClientFinished and ServerFinished are bare HMAC-SHA256 values. */

struct nd_record_header {
	__be32 length;				/* bytes up to the tag, <= ND_MAX_RECORD */
	__u8 type;				/* enum nd_record_type */
	__u8 reserved[3];			/* must be 0 */
};
/*
 * followed by length bytes, of which the first nd_record_clear_len(type) are
 * sent in the clear (authenticated as associated data) and the rest are
 * ciphertext, and then ND_TAG_SIZE bytes of tag
 */

enum nd_record_type {
	ND_REC_INFO = 1,			/* s->c, struct nd_info */
	ND_REC_REQUEST = 2,			/* c->s, struct nd_request [+ data] */
	ND_REC_REPLY = 3,			/* s->c, struct nd_reply [+ data] */
	ND_REC_KEY_UPDATE = 4,			/* both, empty */
	ND_REC_LIST = 5,			/* s->c, struct nd_list_entry[] */
};

enum nd_info_flags {
	ND_INFO_READ_ONLY = 1 << 0,
	ND_INFO_FLUSH = 1 << 1,
	ND_INFO_FUA = 1 << 2,
	ND_INFO_TRIM = 1 << 3,
	ND_INFO_WRITE_ZEROES = 1 << 4,
};

struct nd_info {
	__be32 status;				/* enum nd_status */
	__be32 flags;				/* enum nd_info_flags */
	__be64 size;				/* bytes */
	__be32 block_size;			/* logical block size */
	__be32 max_io;				/* <= ND_MAX_IO */
	__be64 verifier;			/* changes when acked writes may be lost */
	__u8 uuid[16];				/* the disk's name, RFC 9562 binary */
};

/* One export in a LIST record. */
struct nd_list_entry {
	char name[ND_NAME_SIZE];		/* NUL padded */
	__be64 size;				/* bytes */
	__be32 flags;				/* enum nd_info_flags */
	__be32 reserved;
};

#define ND_LIST_MAX	(ND_MAX_RECORD / sizeof(struct nd_list_entry))

enum nd_request_type {
	ND_CMD_READ = 0,
	ND_CMD_WRITE = 1,
	ND_CMD_FLUSH = 2,
	ND_CMD_TRIM = 3,
	ND_CMD_WRITE_ZEROES = 4,
};

enum nd_request_flags {
	ND_CMD_FLAG_FUA = 1 << 0,		/* WRITE, WRITE_ZEROES only */
	ND_CMD_FLAG_NO_HOLE = 1 << 1,		/* WRITE_ZEROES only: stay allocated */
};

struct nd_request {
	__be16 type;				/* enum nd_request_type */
	__be16 flags;				/* enum nd_request_flags */
	__be32 length;
	__be64 handle;				/* echoed in the reply */
	__be64 offset;
};
/* WRITE: followed by length bytes of data in the same record */

enum nd_status {
	ND_OK = 0,
	ND_ERR_READ_ONLY = 1,
	ND_ERR_RANGE = 2,
	ND_ERR_IO = 3,
	ND_ERR_NOSPC = 4,
	ND_ERR_UNSUPPORTED = 5,
	ND_ERR_INVALID = 6,
	ND_ERR_NO_EXPORT = 7,
	ND_ERR_DENIED = 8,
	ND_ERR_BUSY = 9,			/* INFO: another process holds it */
	ND_ERR_FULL = 10,			/* INFO: a limit was reached meanwhile */
};

struct nd_reply {
	__be32 status;				/* enum nd_status */
	__be32 length;				/* data bytes that follow */
	__be64 handle;
};
/* READ with ND_OK: followed by length bytes of data */

/* Bytes of a record's body sent in the clear: the reply header of a REPLY. */
static inline __u32 nd_record_clear_len(__u8 type)
{
	return type == ND_REC_REPLY ? sizeof(struct nd_reply) : 0;
}

#endif /* _UAPI_NETDISK_WIRE_H */
