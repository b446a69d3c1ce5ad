#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""The protocol v2 handshake against a real netdiskd: forward secrecy, server
binding, identities under the default key, keyless clients that try to lock
others out, and what reaches the log. PyClient is a second, independent
implementation of docs/protocol.md, written from the text alone."""

import argparse
import hashlib
import hmac
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

from cryptography.hazmat.primitives.asymmetric.x25519 import (X25519PrivateKey,
                                                              X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import test_netdiskd as base
from test_netdiskd import MiB, Proxy, closed_without_reply

MAGIC = 0x4E44534B
VERSION = 4
CH_LEN = {1: 168, 2: 264, 3: 264, 4: 292}
SH_LEN = {1: 40, 2: 72, 3: 72, 4: 72}
REPLY = 3


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        b = sock.recv(n - len(out))
        if not b:
            raise ConnectionError("closed after %d of %d bytes" % (len(out), n))
        out += b
    return out


def hkdf_expand(prk, info, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def schedule(version, ch, sh, psk, dh):
    """The key schedule of docs/protocol.md; dh is b"" in version 1."""
    th = hashlib.sha256(ch + sh).digest()
    prk = hmac.new(ch[8:40] + sh[8:40], psk + dh, hashlib.sha256).digest()
    tag = b"netdisk%d " % version
    keys = {n: hkdf_expand(prk, tag + n.encode() + th, 32)
            for n in ("c2s", "s2c", "cfin", "sfin")}
    keys["th"] = th
    return keys


class Direction:
    def __init__(self, version, secret):
        tag = b"netdisk%d " % version
        self.aead = AESGCM(hkdf_expand(secret, tag + b"key", 32))
        self.iv = hkdf_expand(secret, tag + b"iv", 12)
        self.seq = 0

    def nonce(self):
        n = bytearray(self.iv)
        for i, b in enumerate(struct.pack(">Q", self.seq)):
            n[4 + i] ^= b
        self.seq += 1
        return bytes(n)


def open_record(direction, stream, version):
    """Opens the record at the start of stream; returns (type, clear, body)."""
    length, rtype = struct.unpack(">IB", stream[:5])
    clear = 16 if version >= 2 and rtype == REPLY else 0
    hdr, rest = stream[:8], stream[8:8 + length + 16]
    body = direction.aead.decrypt(direction.nonce(), rest[clear:], hdr + rest[:clear])
    return rtype, rest[:clear], body


def name(s):
    return s.encode().ljust(64, b"\0")


def mac1(hello, psk):
    """docs/protocol.md, "Unauthenticated connections": hello without mac1."""
    key = hkdf_expand(psk, b"netdisk4 mac1", 32)
    return hmac.new(key, hello, hashlib.sha256).digest()[:16]


def client_hello(psk, identity, export, server_name, server_port, share,
                 timestamp=None, nonce=None):
    ch = (struct.pack(">IHH", MAGIC, VERSION, 0) + (nonce or os.urandom(32)) + share +
          name(identity) + name(export) + name(server_name) +
          struct.pack(">HHQ", server_port, 0,
                      int(time.time()) if timestamp is None else timestamp))
    return ch + mac1(ch, psk)


class PyClient:
    """A protocol v2 client: hello, key confirmation, then records."""

    def __init__(self, port, psk, identity, export="", server_name="127.0.0.1",
                 host="127.0.0.1", server_port=None):
        self.sock = socket.create_connection((host, port), timeout=20)
        priv = X25519PrivateKey.generate()
        share = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.ch = client_hello(psk, identity, export, server_name,
                               port if server_port is None else server_port, share)
        self.sock.sendall(self.ch)
        self.sh = recv_exact(self.sock, 8)
        _, self.version, self.status = struct.unpack(">IHH", self.sh)
        if self.status:
            return
        self.sh += recv_exact(self.sock, SH_LEN[VERSION] - 8)
        dh = priv.exchange(X25519PublicKey.from_public_bytes(self.sh[40:72]))
        k = schedule(VERSION, self.ch, self.sh, psk, dh)
        self.sock.sendall(hmac.new(k["cfin"], k["th"], hashlib.sha256).digest())
        fin = recv_exact(self.sock, 32)
        if not hmac.compare_digest(fin, hmac.new(k["sfin"], k["th"], hashlib.sha256).digest()):
            raise AssertionError("ServerFinished does not verify")
        self.rx = Direction(VERSION, k["s2c"])

    def recv_record(self):
        hdr = recv_exact(self.sock, 8)
        length = struct.unpack(">I", hdr[:4])[0]
        return open_record(self.rx, hdr + recv_exact(self.sock, length + 16), VERSION)


def snoop(c2s, s2c, psk):
    """What a passive recording and the PSK give an attacker who did not
    take part: the hellos and the first server record, opened with every key
    schedule that can be computed without an ephemeral private key.
    Returns the INFO body, or None."""
    version = struct.unpack(">H", s2c[4:6])[0]
    ch, sh = c2s[:CH_LEN[version]], s2c[:SH_LEN[version]]
    first = s2c[SH_LEN[version] + 32:]
    for dh in (b"", bytes(32)):
        k = schedule(version, ch, sh, psk, dh)
        try:
            return open_record(Direction(version, k["s2c"]), first, version)[2]
        except Exception:
            continue
    return None


class HandshakeTest(base.Harness):
    def key_bytes(self, path):
        return bytes.fromhex(open(path).read().split()[-1])

    def trickler(self, port, stop, source="127.0.0.1", period=0.5):
        """A client without a key that sends one byte of hello at a time."""
        s = socket.socket()
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        hello = struct.pack(">IHH", MAGIC, VERSION, 0) + bytes(256)

        def run():
            try:
                for b in hello:
                    if stop.is_set():
                        break
                    s.sendall(bytes([b]))
                    time.sleep(period)
            except OSError:
                pass
        threading.Thread(target=run, daemon=True).start()
        return s

    # forward secrecy ---------------------------------------------------
    def test_pyclient_speaks_the_documented_protocol(self):
        disk = self.image("disk.img", 3 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        c = PyClient(srv.port, self.key_bytes(self.key), "tester")
        rtype, clear, body = c.recv_record()
        self.assertEqual(rtype, 1)
        self.assertEqual(clear, b"")
        status, flags, size = struct.unpack(">IIQ", body[:16])
        self.assertEqual((status, size), (0, 3 * MiB))

    def test_recorded_session_stays_closed_to_a_later_key_holder(self):
        disk = self.image("disk.img", 2 * MiB, 2 * MiB)
        srv, proxy = self.behind_proxy("--file", disk, "--key-file", self.key)
        c2s, s2c = bytearray(), bytearray()

        def record(direction, data, pos):
            (c2s if direction == "c2s" else s2c).extend(data)
            return data
        proxy.tamper = record
        self.ctl("info", self.uri(proxy.port))
        proxy.close()
        self.assertGreater(len(s2c), 72 + 32)
        self.assertIsNone(snoop(bytes(c2s), bytes(s2c), self.key_bytes(self.key)),
                          "the PSK alone opened a recorded session")

    # server binding ----------------------------------------------------
    def test_relay_to_another_server_with_the_same_key_is_refused(self):
        a_disk, b_disk = self.image("a.img", MiB), self.image("b.img", 2 * MiB)
        pa, pb = base.free_port(), base.free_port()
        self.server("--file", a_disk, "--key-file", self.key, port=pa,
                    listen="127.0.0.2:%d" % pa)
        srv_b = self.server("--file", b_disk, "--key-file", self.key, port=pb,
                            listen="127.0.0.3:%d" % pb)
        r = self.ctl("info", "netdisk://127.0.0.2:%d" % pa)
        self.assertIn("1048576", r.stdout)
        # the attacker answers on A's address and relays to B
        relay = socket.socket()
        relay.bind(("127.0.0.2", 0))
        relay.listen(4)
        rport = relay.getsockname()[1]

        def pump(src, dst):
            try:
                while True:
                    d = src.recv(65536)
                    if not d:
                        break
                    dst.sendall(d)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def run():
            cl, _ = relay.accept()
            sv = socket.create_connection(("127.0.0.3", pb))
            threading.Thread(target=pump, args=(cl, sv), daemon=True).start()
            pump(sv, cl)
        threading.Thread(target=run, daemon=True).start()
        r = self.ctl("info", "netdisk://127.0.0.2:%d" % rport, check=False)
        relay.close()
        self.assertEqual(r.returncode, 4, r.stdout)
        self.assertIn("does not answer to the name '127.0.0.2'", r.stderr)
        # the whole advice, not cut off at a buffer's end
        self.assertIn("add them to server-name and server-port in the server's "
                      "netdiskd.conf)", r.stderr)
        srv_b.wait_log("client asked for server '127.0.0.2'")

    def test_a_relay_to_another_port_of_the_same_address_fails(self):
        # two instances, one key, one address: a client that dials one port
        # is relayed to the other instance's
        srv_a = self.server("--file", self.image("a.img", MiB), "--key-file", self.key)
        srv_b = self.server("--file", self.image("b.img", 2 * MiB), "--key-file", self.key)
        self.assertIn("1048576", self.ctl("info", self.uri(srv_a.port)).stdout)
        relay = Proxy(srv_b.port, lambda direction, data, pos: data)
        r = self.ctl("info", self.uri(relay.port), check=False)
        self.assertEqual(r.returncode, 4, r.stdout)
        self.assertNotIn("2097152", r.stdout)
        self.assertIn("does not answer to the name '127.0.0.1' on port %d" % relay.port,
                      r.stderr)
        srv_b.wait_log("client asked for server '127.0.0.1' port %d" % relay.port)

    def test_server_ports_are_configurable(self):
        # a port forward the administrator set up is named in server-port
        disk = self.image("disk.img", 2 * MiB)
        forward = Proxy(1, lambda direction, data, pos: data)
        other = Proxy(1, lambda direction, data, pos: data)
        srv = self.server("--file", disk, "--key-file", self.key,
                          "--server-port", "%d, 1" % forward.port)
        forward.target = other.target = srv.port
        self.assertIn("2097152", self.ctl("info", self.uri(forward.port)).stdout)
        self.assertIn("2097152", self.ctl("info", self.uri(srv.port)).stdout)
        r = self.ctl("info", self.uri(other.port), check=False)
        self.assertEqual(r.returncode, 4, r.stderr)
        nd = os.path.join(base.BUILD, "netdiskd")
        for bad in ("0", "65536", "+1", "x", "123456"):
            r = subprocess.run([nd, "--file", disk, "--key-file", self.key, "--check",
                                "--server-port", bad], capture_output=True, text=True,
                               timeout=30)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("invalid server port", r.stderr, bad)

    def test_server_names_are_configurable(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key,
                          "--server-name", "store1.example", "--server-name", "store1")
        for good in ("store1", "STORE1.example", "127.0.0.1"):
            self.ctl("info", self.uri(srv.port), "--server-name", good)
        r = self.ctl("info", self.uri(srv.port), "--server-name", "store2", check=False)
        self.assertEqual(r.returncode, 4)
        self.assertIn("store2", r.stderr)

    # identities under the default key ----------------------------------
    def test_default_key_does_not_prove_an_identity(self):
        bob = self.keygen()
        keys = self.write_key("keys", "%s\nbob %s" % (open(self.key).read().strip(), bob))
        bk = self.write_key("bob.key", bob)
        conf = os.path.join(self.tmp, "netdiskd.conf")
        overlays = os.path.join(self.tmp, "overlays")
        os.mkdir(overlays)
        with open(conf, "w") as f:
            f.write("key-file = %s\n[export private]\npath = %s\nallow = alice bob\n"
                    "[export shared]\npath = %s\nallow-write = alice bob\n"
                    "[export golden]\npath = %s\ncopy-on-write = %s\n"
                    % (keys, self.image("p.img", MiB), self.image("s.img", MiB),
                       self.image("g.img", MiB), overlays))
        srv = self.server("--config", conf)
        # the default key under alice's name: none of alice's rights
        r = self.req(srv.port, "read:0:512", identity="alice", export="private")
        self.assertIn("identity not allowed on this export", r.stderr)
        srv.wait_log("default key does not prove the identity 'alice'")
        r = self.req(srv.port, "write:0:512", "read:0:512", identity="alice", export="shared")
        self.assertEqual(r.stdout, "export is read-only\nok\n")
        r = self.req(srv.port, "read:0:512", identity="alice", export="golden")
        self.assertIn("identity not allowed on this export", r.stderr)
        self.assertEqual(os.listdir(overlays), [])
        # a key of one's own proves the identity
        self.assertEqual(self.req(srv.port, "read:0:512", identity="bob", key=bk,
                                  export="private").stdout, "ok\n")
        self.assertEqual(self.req(srv.port, "write:0:512", identity="bob", key=bk,
                                  export="shared").stdout, "ok\n")
        self.assertEqual(self.req(srv.port, "write:0:512", identity="bob", key=bk,
                                  export="golden").stdout, "ok\n")

    # keyless clients ---------------------------------------------------
    def test_handshake_deadline_is_not_renewed_by_each_byte(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key, "--handshake-timeout", "2")
        stop = threading.Event()
        s = self.trickler(srv.port, stop, period=0.3)
        t0 = time.time()
        self.assertTrue(closed_without_reply(s, timeout=10))
        stop.set()
        self.assertLess(time.time() - t0, 4)
        srv.wait_log("handshake timed out")

    def test_keyless_clients_cannot_lock_out_a_client_with_a_key(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key, "--max-connections", "2")
        stop = threading.Event()
        socks = [self.trickler(srv.port, stop, period=1) for _ in range(2)]
        # more than the per-address limit (64) from one address, and more
        # than the overall limit (256) from many
        socks += [self.trickler(srv.port, stop, source="127.0.1.1", period=1)
                  for _ in range(70)]
        socks += [self.trickler(srv.port, stop, source="127.0.2.%d" % (i % 250 + 1),
                                period=1) for i in range(260)]
        time.sleep(1)
        t0 = time.time()
        self.assertEqual(self.req(srv.port, "read:0:512").stdout, "ok\n")
        self.assertLess(time.time() - t0, 5)
        # authenticated connections still count against max-connections
        held = [PyClient(srv.port, self.key_bytes(self.key), "tester") for _ in range(2)]
        r = self.req(srv.port, "read:0:512")
        self.assertEqual(r.returncode, 1)
        srv.wait_log("max-connections")
        stop.set()
        for s in socks + [h.sock for h in held]:
            s.close()

    def flood(self, port, rate, seconds, sources, stop, junk=True):
        """Keyless connections at rate per second, for seconds, from the
        addresses in sources: half send nothing, half (with junk) a
        ClientHello with a MAC that no key makes. Returns the sockets, for
        the caller to close."""
        socks, t0, n = [], time.time(), 0
        forged = client_hello(os.urandom(32), "tester", "", "127.0.0.1", port, os.urandom(32))
        while time.time() - t0 < seconds and not stop.is_set():
            while n < (time.time() - t0) * rate:
                s = socket.socket()
                s.bind((sources[n % len(sources)], 0))
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                if junk and n % 2:
                    try:
                        s.send(forged)
                    except OSError:
                        pass
                socks.append(s)
                n += 1
            time.sleep(0.002)
        return socks

    def slow_clients_connect_through_a_keyless_flood(self, rate):
        """Through a proxy that holds every chunk 150 ms each way (a 300 ms
        round trip, and a ClientHello that reaches the server 150 ms after
        its connection), 20 netdiskctl connections during a keyless flood at
        rate from 5 addresses for 10 s: every one connects."""
        if os.environ.get("NETDISK_BUILD_KIND", "release") != "release":
            self.skipTest("a flood's timing needs an unsanitized netdiskd")
        disk = self.image("disk.img", MiB)
        proxy = Proxy(0, lambda direction, data, pos: (time.sleep(0.15), data)[1])
        srv = self.server("--file", disk, "--key-file", self.key,
                          "--server-port", str(proxy.port))
        proxy.target = srv.port
        stop = threading.Event()
        result = {}
        flooder = threading.Thread(target=lambda: result.update(socks=self.flood(
            srv.port, rate, 10, ["127.0.4.%d" % i for i in range(1, 6)], stop)))
        flooder.start()
        time.sleep(1)
        outcomes = []

        def connect(n):
            for _ in range(n):
                r = self.ctl("info", self.uri(proxy.port), check=False)
                outcomes.append((r.returncode, r.stderr.strip()))
        workers = [threading.Thread(target=connect, args=(5,)) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        stop.set()
        flooder.join()
        for s in result.get("socks", []):
            s.close()
        proxy.close()
        failed = [o for o in outcomes if o[0]]
        self.assertEqual(failed, [], "%d of 20 failed" % len(failed))
        self.assertEqual(len(outcomes), 20)
        self.assertIn("mac1 did not verify", srv.text())

    def test_slow_clients_connect_through_a_keyless_flood_of_300_per_second(self):
        self.slow_clients_connect_through_a_keyless_flood(300)

    def test_slow_clients_connect_through_a_keyless_flood_of_1000_per_second(self):
        self.slow_clients_connect_through_a_keyless_flood(1000)

    def test_a_replayed_client_hello_is_refused_and_a_proven_one_stays(self):
        """A ClientHello recorded and sent again passes mac1, but the server
        has seen it: it closes the replay without an answer or an X25519.
        The first, proven, outlives a keyless flood that would have pushed
        out an unproven handshake."""
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        psk = self.key_bytes(self.key)
        share = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw,
                                                                     PublicFormat.Raw)
        ch = client_hello(psk, "tester", "", "127.0.0.1", srv.port, share)
        first = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        first.sendall(ch)
        self.assertEqual(struct.unpack(">H", recv_exact(first, 72)[6:8])[0], 0)
        again = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        again.sendall(ch)
        self.assertTrue(closed_without_reply(again, timeout=10))
        srv.wait_log("a ClientHello seen before (a replay)")
        # 256 keyless connections after it would push out an unproven one
        stop = threading.Event()
        socks = self.flood(srv.port, 1000, 0.4, ["127.0.5.%d" % i for i in range(1, 6)],
                           stop, junk=False)
        time.sleep(0.5)
        first.settimeout(0.5)
        with self.assertRaises(socket.timeout, msg=srv.text()[-2000:]):
            first.recv(1)
        for s in socks + [first, again]:
            s.close()

    # what reaches the log ----------------------------------------------
    def test_failed_handshakes_are_not_logged_under_the_claimed_identity(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        other = self.write_key("other", self.keygen())
        t0 = time.time()
        clients = [subprocess.Popen(
            [os.path.join(base.BUILD, "netdiskctl"), "info", "--key-file", other,
             "--identity", "victim", self.uri(srv.port, "golden")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(100)]
        for c in clients:
            c.wait(60)
        srv.wait_log("handshake failed")
        seconds = time.time() - t0
        text = srv.text()
        self.assertIsNone(re.search(r"\[127\.0\.0\.1:\d+ victim", text), text[-2000:])
        self.assertIn("claimed identity 'victim'", text)
        # at most LOG_LIMIT_BURST (10) a second, not one per failure
        failures = text.count("handshake failed")
        self.assertLessEqual(failures, 10 * (int(seconds) + 2), "each failure wrote a line")
        self.assertLess(failures, 100)
        # the suppressed ones are counted once the burst is over
        time.sleep(1.2)
        self.ctl("info", self.uri(srv.port), key=other, check=False)
        srv.wait_log("suppressed")

    def test_key_file_errors_never_show_a_key(self):
        k1, k2 = self.keygen(), self.keygen()
        disk = self.image("disk.img", MiB)
        for text in ("%s %s" % (k1, k2), "%s\n%s" % (k1, k2), "%sx" % k1,
                     "%s %s %s" % (k1, k2, k1)):
            path = self.write_key("bad.keys", text)
            r = subprocess.run([os.path.join(base.BUILD, "netdiskd"), "--file", disk,
                                "--key-file", path], capture_output=True, text=True,
                               timeout=10)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("bad.keys:", r.stderr)
            for k in (k1, k2):
                self.assertNotIn(k[:16], r.stderr)
            self.assertIsNone(re.search(r"[0-9a-f]{16}", r.stderr), r.stderr)

    def test_key_file_is_opened_once_without_following_links(self):
        disk = self.image("disk.img", MiB)
        link = os.path.join(self.tmp, "link.keys")
        os.symlink(self.key, link)
        netdiskd = os.path.join(base.BUILD, "netdiskd")
        r = subprocess.run([netdiskd, "--file", disk, "--key-file", link],
                           capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("symbolic link", r.stderr)
        if os.geteuid() == 0:
            os.chown(self.key, 65534, 65534)
            r = subprocess.run([netdiskd, "--file", disk, "--key-file", self.key],
                               capture_output=True, text=True, timeout=10)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("owned by uid 65534", r.stderr)
            os.chown(self.key, 0, 0)

    def test_overlay_files_are_not_followed(self):
        srv = self.cow_server()
        target = self.image("target.img", MiB)
        before = base.sha(target)
        os.mkdir(os.path.join(self.overlays, "golden"))
        os.symlink(target, os.path.join(self.overlays, "golden", "alice.img"))
        r = self.req(srv.port, "write:0:4096", "flush", identity="alice", key=self.alice_key,
                     export="golden")
        self.assertNotEqual(r.stdout, "ok\nok\n")
        self.assertEqual(base.sha(target), before)

    def test_too_many_listen_addresses_are_refused(self):
        conf = os.path.join(self.tmp, "many.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n" % self.key)
            for i in range(16):
                f.write("listen = 127.0.0.1:%d\n" % (40000 + i))
            f.write("[export default]\npath = %s\n" % self.image("disk.img", MiB))
        r = subprocess.run([os.path.join(base.BUILD, "netdiskd"), "--config", conf,
                            "--listen", "127.0.0.1:41000"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("at most 16 listen addresses", r.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args, rest = ap.parse_known_args()
    base.BUILD = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
