#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""Loopback integration tests: a real netdiskd driven by netdiskctl, the ndreq
test client and raw sockets, with a tampering proxy in between where needed."""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BUILD = None
HELLO_C2S = 292 + 32        # ClientHello + ClientFinished
MiB = 1 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha(path, length=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = length
        while left is None or left > 0:
            b = f.read(MiB if left is None else min(MiB, left))
            if not b:
                break
            h.update(b)
            if left is not None:
                left -= len(b)
    return h.hexdigest()


def closed_without_reply(sock, timeout=5):
    """True when the peer closes (FIN or RST) without sending a byte."""
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def traced_env():
    """The environment for a program run under strace: LeakSanitizer does
    not work under ptrace."""
    asan = ":".join(o for o in (os.environ.get("ASAN_OPTIONS"), "detect_leaks=0") if o)
    return dict(os.environ, ASAN_OPTIONS=asan)


def pattern(off, length):
    """The data ndreq writes: 64-bit words of (offset * golden ratio)."""
    out = bytearray()
    for i in range(0, length, 8):
        out += struct.pack("<Q", ((off + i) * 0x9E3779B97F4A7C15) & (2**64 - 1))
    return bytes(out[:length])


class Server:
    def __init__(self, tmp, args, port=None, listen=None, env=None, wrap=None):
        self.port = port or free_port()
        self.log_path = os.path.join(tmp, "netdiskd-%d.log" % self.port)
        listen = listen or "127.0.0.1:%d" % self.port
        cmd = (wrap or []) + [os.path.join(BUILD, "netdiskd"), "--listen", listen] + args
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))
        deadline = time.time() + 10
        while "listening on" not in self.text():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("netdiskd did not start:\n" + self.text())
            time.sleep(0.02)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, needle, timeout=10):
        deadline = time.time() + timeout
        while needle not in self.text():
            if time.time() > deadline:
                raise AssertionError("%r not in netdiskd log:\n%s" % (needle, self.text()))
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self.log.close()
        return rc


class Proxy:
    """Forwards TCP connections; tamper(direction, data, position) may
    rewrite each chunk, or return None to cut the stream there."""

    def __init__(self, target_port, tamper):
        self.tamper = tamper
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def pump(self, src, dst, direction):
        pos = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                out = self.tamper(direction, data, pos)
                pos += len(data)
                if out is None:
                    break
                dst.sendall(out)
        except OSError:
            pass
        for s in (src, dst):       # drop the whole connection, both ways
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def run(self):
        while True:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            for args in ((server, client, "s2c"), (client, server, "c2s")):
                threading.Thread(target=self.pump, args=args, daemon=True).start()

    def close(self):
        self.lsock.close()


class Harness(unittest.TestCase):
    """Temporary files, keys, servers and clients for one test."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="netdisk-test-")
        self.key = self.write_key("key", self.keygen())
        self.servers = []

    def tearDown(self):
        reports = []
        for s in self.servers:
            if s.proc.poll() is None:
                s.stop(signal.SIGKILL)
            text = s.text()
            if "Sanitizer" in text:
                reports.append(text[text.index("Sanitizer") - 20:][:3000])
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(reports, [], "a sanitizer reported in netdiskd")

    # helpers -----------------------------------------------------------
    def keygen(self):
        out = subprocess.run([os.path.join(BUILD, "netdiskctl"), "keygen"],
                             check=True, capture_output=True, text=True).stdout
        self.assertRegex(out, r"^[0-9a-f]{64}\n$")
        return out.strip()

    def write_key(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        os.chmod(path, 0o600)
        return path

    def image(self, name, size, random_bytes=0):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            if random_bytes:
                f.write(os.urandom(random_bytes))
            f.truncate(size)
        return path

    def server(self, *args, **kw):
        s = Server(self.tmp, list(args), **kw)
        self.servers.append(s)
        return s

    def behind_proxy(self, *args):
        """A server reached through a Proxy that it answers to (server-port)
        and that passes everything on until the test sets proxy.tamper."""
        proxy = Proxy(0, lambda direction, data, pos: data)
        srv = self.server(*args, "--server-port", str(proxy.port))
        proxy.target = srv.port
        return srv, proxy

    def ctl(self, *args, key=None, identity="tester", check=True):
        cmd = [os.path.join(BUILD, "netdiskctl"), args[0]]
        # only the commands that connect take a key and an identity
        if args[0] in ("info", "copy", "attach"):
            cmd += ["--key-file", key or self.key, "--identity", identity]
        cmd += list(args[1:])
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if check and r.returncode:
            self.fail("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))
        return r

    def req(self, port, *ops, identity="tester", key=None, export=""):
        cmd = [os.path.join(BUILD, "ndreq"), key or self.key, identity,
               "netdisk://127.0.0.1:%d/%s" % (port, export)] + list(ops)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def reload_keys(self, srv, lines, n):
        """Writes lines to the keys file and waits for the server's nth reload."""
        self.write_key("keys", lines)
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while srv.text().count("reloaded") < n:
            self.assertLess(time.time(), deadline, srv.text())
            time.sleep(0.02)

    def uri(self, port, export=""):
        return "netdisk://127.0.0.1:%d/%s" % (port, export)

    def cow_server(self, base_size=16 * MiB):
        self.alice_key = self.write_key("alice.key", self.keygen())
        self.bob_key = self.write_key("bob.key", self.keygen())
        keys = self.write_key("keys", "alice %s\nbob %s" % (
            open(self.alice_key).read().strip(), open(self.bob_key).read().strip()))
        self.base = self.image("base.img", base_size, 4 * MiB)
        self.overlays = os.path.join(self.tmp, "overlays")
        os.mkdir(self.overlays)
        conf = os.path.join(self.tmp, "cow.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n[export golden]\npath = %s\ncopy-on-write = %s\n"
                    % (keys, self.base, self.overlays))
        return self.server("--config", conf)


class NetdiskdTest(Harness):
    def test_copy_roundtrip_random_data(self):
        disk = self.image("disk.img", 64 * MiB)
        src = self.image("src.bin", 40 * MiB + 12345, 40 * MiB + 12345)
        srv = self.server("--file", disk, "--key-file", self.key)
        info = self.ctl("info", self.uri(srv.port)).stdout
        self.assertIn("size: %d\n" % (64 * MiB), info)
        self.assertIn("read-only: no", info)
        self.ctl("copy", src, self.uri(srv.port))
        self.assertEqual(sha(disk, os.path.getsize(src)), sha(src))
        out = os.path.join(self.tmp, "out.bin")
        self.ctl("copy", "--connections", "3", self.uri(srv.port), out)
        self.assertEqual(os.path.getsize(out), 64 * MiB)
        self.assertEqual(sha(out), sha(disk))
        self.assertEqual(srv.stop(), 0)

    def test_key_rotation_every_few_records(self):
        disk = self.image("disk.img", 16 * MiB)
        src = self.image("src.bin", 16 * MiB, 16 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key, "--rekey-records", "2")
        self.ctl("copy", "--rekey-records", "3", src, self.uri(srv.port))
        out = os.path.join(self.tmp, "out.bin")
        self.ctl("copy", "--rekey-records", "1", self.uri(srv.port), out)
        self.assertEqual(sha(out), sha(src))

    def test_wrong_key_is_refused_on_both_sides(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        other = self.write_key("other", self.keygen())
        r = self.ctl("info", self.uri(srv.port), key=other, check=False)
        self.assertEqual(r.returncode, 4)
        self.assertIn("wrong key", r.stderr)
        srv.wait_log("handshake failed: wrong key")
        self.assertEqual(self.req(srv.port, "read:0:512").stdout, "ok\n")

    def test_identity_keys_and_access_lists(self):
        alice, bob = self.keygen(), self.keygen()
        keys = self.write_key("keys", "alice %s\nbob %s" % (alice, bob))
        ak = self.write_key("alice.key", alice)
        bk = self.write_key("bob.key", bob)
        conf = os.path.join(self.tmp, "netdiskd.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n[export shared]\npath = %s\nallow = alice bob\n"
                    "allow-write = alice\n[export private]\npath = %s\nallow = alice\n"
                    % (keys, self.image("a.img", MiB), self.image("b.img", MiB)))
        srv = self.server("--config", conf)
        self.assertEqual(self.req(srv.port, "write:0:4096", identity="alice", key=ak,
                                  export="shared").stdout, "ok\n")
        r = self.req(srv.port, "write:0:4096", "read:0:4096", identity="bob", key=bk,
                     export="shared")
        self.assertEqual(r.stdout, "export is read-only\nok\n")
        r = self.req(srv.port, "read:0:512", identity="bob", key=bk, export="private")
        self.assertIn("identity not allowed on this export", r.stderr)
        r = self.req(srv.port, "read:0:512", identity="carol", key=bk, export="shared")
        self.assertIn("wrong key or unknown identity", r.stderr)
        srv.wait_log("unknown identity")
        r = self.req(srv.port, "read:0:512", identity="alice", key=ak, export="nope")
        self.assertIn("no such export", r.stderr)
        # bob presenting alice's name with his own key gets nowhere
        r = self.req(srv.port, "read:0:512", identity="alice", key=bk, export="shared")
        self.assertEqual(r.returncode, 1)

    def test_request_errors_are_statuses(self):
        disk = self.image("disk.img", 4 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        r = self.req(srv.port, "read:%d:512" % (4 * MiB), "read:%d:1024" % (4 * MiB - 512),
                     "read:18446744073709551615:512", "raw:9:0:0:512", "raw:0:1:0:512",
                     "raw:0:2:0:512", "raw:2:0:0:512", "read:0:0",
                     "raw:0:0:0:%d" % (MiB + 1), "write:%d:512" % (4 * MiB),
                     "read:0:%d" % MiB, "flush")
        self.assertEqual(r.stdout.split("\n"), [
            "beyond the end of the export", "beyond the end of the export",
            "beyond the end of the export", "not supported by the export",
            "invalid request", "invalid request", "invalid request", "invalid request",
            "invalid request", "beyond the end of the export", "ok", "ok", ""])
        self.assertEqual(srv.stop(), 0)

    def test_write_zeroes_with_no_hole_keeps_the_range_allocated(self):
        # tmpfs punches holes but has no ZERO_RANGE: the fallback decides
        if not os.path.isdir("/dev/shm"):
            self.skipTest("no /dev/shm")
        shm = tempfile.mkdtemp(dir="/dev/shm")
        self.addCleanup(shutil.rmtree, shm)
        disk = os.path.join(shm, "disk.img")
        with open(disk, "wb") as f:
            f.write(os.urandom(4 * MiB))
        srv = self.server("--file", disk, "--key-file", self.key)
        before = os.stat(disk).st_blocks
        NO_HOLE = 2
        r = self.req(srv.port, "raw:4:%d:0:%d" % (NO_HOLE, 2 * MiB), "read:0:512")
        self.assertEqual(r.stdout, "ok\nok\n", r.stderr)
        self.assertEqual(os.stat(disk).st_blocks, before, "NO_HOLE freed space")
        with open(disk, "rb") as f:
            self.assertEqual(f.read(2 * MiB), bytes(2 * MiB))
        # without it the server may punch a hole
        self.assertEqual(self.req(srv.port, "zero:%d:%d" % (2 * MiB, 2 * MiB)).stdout, "ok\n")
        self.assertLess(os.stat(disk).st_blocks, before)
        # NO_HOLE belongs to WRITE_ZEROES only
        for t in (1, 3):
            r = self.req(srv.port, "raw:%d:%d:0:4096" % (t, NO_HOLE))
            self.assertEqual(r.stdout, "invalid request\n", (t, r.stderr))
        self.assertEqual(srv.stop(), 0)

    def test_trim_and_write_zeroes_reach_the_file(self):
        disk = self.image("disk.img", 4 * MiB, 4 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        r = self.req(srv.port, "zero:4096:8192", "trim:%d:%d" % (MiB, MiB), "flush")
        self.assertEqual(r.stdout, "ok\nok\nok\n")
        with open(disk, "rb") as f:
            data = f.read()
        self.assertEqual(data[4096:12288], bytes(8192))
        self.assertNotEqual(data[0:4096], bytes(4096))
        self.assertEqual(data[MiB:2 * MiB], bytes(MiB))     # punched on tmp fs
        self.assertNotEqual(data[12288:16384], bytes(4096))

    def test_read_only_export(self):
        disk = self.image("disk.img", 4 * MiB, 4 * MiB)
        before = sha(disk)
        srv = self.server("--file", disk, "--read-only", "--key-file", self.key)
        self.assertIn("read-only: yes", self.ctl("info", self.uri(srv.port)).stdout)
        r = self.ctl("copy", self.image("s", MiB, MiB), self.uri(srv.port), check=False)
        self.assertEqual(r.returncode, 5)
        self.assertIn("read-only", r.stderr)
        r = self.req(srv.port, "write:0:512", "zero:0:512", "trim:0:512", "read:0:512")
        self.assertEqual(r.stdout, "export is read-only\n" * 3 + "ok\n")
        self.assertEqual(sha(disk), before)

    def test_garbage_and_half_handshakes_do_not_disturb_others(self):
        disk = self.image("disk.img", 4 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key, "--handshake-timeout", "1")
        garbage = socket.create_connection(("127.0.0.1", srv.port))
        garbage.sendall(os.urandom(4096))
        self.assertTrue(closed_without_reply(garbage))
        slow = socket.create_connection(("127.0.0.1", srv.port))
        slow.sendall(b"NDSK\x00\x01")                  # a hello cut short
        silent = socket.create_connection(("127.0.0.1", srv.port))
        # a good client meanwhile
        self.assertEqual(self.req(srv.port, "write:0:4096", "read:0:4096").stdout, "ok\nok\n")
        t0 = time.time()
        self.assertTrue(closed_without_reply(slow))
        self.assertLess(time.time() - t0, 4)
        srv.wait_log("handshake timed out")
        self.assertTrue(closed_without_reply(silent))
        srv.wait_log("not a netdisk client")
        r = self.req(srv.port, "oversize")
        self.assertEqual(r.returncode, 1)
        srv.wait_log("oversized record")
        for s in (garbage, slow, silent):
            s.close()
        self.assertEqual(srv.stop(), 0)

    def tampered_upload(self, tamper):
        disk = self.image("disk.img", 8 * MiB)
        src = self.image("src.bin", 4 * MiB, 4 * MiB)
        srv, proxy = self.behind_proxy("--file", disk, "--key-file", self.key)
        proxy.tamper = tamper
        r = self.ctl("copy", "--connections", "1", src,
                     self.uri(proxy.port), check=False)
        proxy.close()
        self.assertEqual(r.returncode, 7, r.stderr)
        return srv, disk, r

    def test_bit_flip_client_to_server_drops_connection_and_data(self):
        def flip(direction, data, pos):
            target = HELLO_C2S + 8 + 1000       # inside the first WRITE's data
            if direction == "c2s" and pos <= target < pos + len(data):
                data = bytearray(data)
                data[target - pos] ^= 0x01
            return bytes(data)
        srv, disk, _ = self.tampered_upload(flip)
        srv.wait_log("record failed authentication")
        with open(disk, "rb") as f:
            self.assertEqual(f.read(MiB), bytes(MiB))   # nothing of it written

    def test_bit_flip_server_to_client_is_detected(self):
        disk = self.image("disk.img", 4 * MiB, 4 * MiB)
        srv, proxy = self.behind_proxy("--file", disk, "--key-file", self.key)

        def flip(direction, data, pos):
            target = 72 + 56 + 8 + 20000            # inside the first READ reply
            if direction == "s2c" and pos <= target < pos + len(data):
                data = bytearray(data)
                data[target - pos] ^= 0x80
            return bytes(data)
        proxy.tamper = flip
        out = os.path.join(self.tmp, "out.bin")
        r = self.ctl("copy", "--connections", "1", self.uri(proxy.port), out, check=False)
        proxy.close()
        self.assertEqual(r.returncode, 7)
        self.assertIn("record failed authentication", r.stderr)
        # the forged chunk never landed: the download left no file at all
        self.assertFalse(os.path.exists(out))
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(".out.bin")], [])

    def test_replayed_record_is_refused(self):
        state = {"held": b"", "done": False}

        def replay(direction, data, pos):
            if direction != "c2s" or state["done"] or pos + len(data) <= HELLO_C2S:
                return data
            cut = max(0, HELLO_C2S - pos)
            state["held"] += data[cut:]
            held = state["held"]
            if len(held) < 8:
                return data[:cut]
            end = 8 + struct.unpack(">I", held[:4])[0] + 16
            if len(held) < end:
                return data[:cut]       # hold bytes until the record is whole
            state["done"] = True
            return data[:cut] + held[:end] + held[:end] + held[end:]
        srv, disk, _ = self.tampered_upload(replay)
        self.assertTrue(state["done"])
        srv.wait_log("record failed authentication")

    def test_truncated_record_is_not_used(self):
        def cut(direction, data, pos):
            limit = HELLO_C2S + 8 + 5000
            if direction == "c2s" and pos + len(data) > limit:
                return data[:limit - pos] if pos < limit else None
            return data
        srv, disk, _ = self.tampered_upload(cut)
        srv.wait_log("connection closed inside a record")
        with open(disk, "rb") as f:
            self.assertEqual(f.read(MiB), bytes(MiB))

    def test_record_buffers_are_reused_by_later_connections(self):
        # Every worker takes a 1 MiB record buffer (record-buf.c); buffers
        # are kept between connections, so a second copy of the same size,
        # on new connections, maps none. Counted as the mmap calls of that
        # size that strace sees: page faults, as counted before, vary with
        # load and with the sanitizers' own mappings.
        if subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True).returncode:
            self.skipTest("strace cannot trace here")
        record_buf_size = MiB + 32 + 8 + 16	# ND_MAX_RECORD + ND_RECORD_OVERHEAD
        disk = self.image("disk.img", 64 * MiB)
        src = self.image("src.bin", 32 * MiB, 32 * MiB)
        trace = os.path.join(self.tmp, "mmaps")
        asan = ":".join(o for o in (os.environ.get("ASAN_OPTIONS"), "detect_leaks=0") if o)
        srv = self.server("--file", disk, "--key-file", self.key, env={"ASAN_OPTIONS": asan},
                          wrap=["strace", "-f", "-qq", "-ttt", "-e", "trace=mmap", "-o", trace])
        between = 0.0
        for i in range(2):
            self.ctl("copy", "--connections", "4", src, self.uri(srv.port))
            # the workers give their buffers back before the server logs
            # the end of a connection: the copy's 4 (the first is its probe)
            deadline = time.time() + 30
            while srv.text().count("disconnected after") < 4 * (i + 1):
                self.assertLess(time.time(), deadline, srv.text())
                time.sleep(0.02)
            if not i:
                between = time.time()
        self.assertEqual(sha(disk, 32 * MiB), sha(src))
        with open("/proc/%d/task/%d/children" % (srv.proc.pid, srv.proc.pid)) as f:
            os.kill(int(f.read().split()[0]), signal.SIGTERM)
        srv.stop()
        counts = [0, 0]
        with open(trace) as f:
            for line in f:
                if "mmap(NULL, %d," % record_buf_size in line:
                    counts[float(line.split()[1]) > between] += 1
        # A copy is 4 connections, its probe the first of them. So each copy
        # needs at most 4 connections of 4 workers at once, and 5 if the
        # server still holds buffers of the first copy's: with buffers kept,
        # both copies together map no more than that, without, 16 or more each.
        self.assertGreaterEqual(counts[0], 8, "buffers mapped by the first copy: %s" % counts)
        self.assertLessEqual(sum(counts), 20, "buffers mapped per copy: %s" % counts)

    def test_concurrent_clients_on_several_exports(self):
        conf = os.path.join(self.tmp, "netdiskd.conf")
        srcs = []
        with open(conf, "w") as f:
            f.write("key-file = %s\n" % self.key)
            for i in range(3):
                f.write("[export e%d]\npath = %s\n" % (i, self.image("e%d.img" % i, 24 * MiB)))
                srcs.append(self.image("s%d" % i, 24 * MiB, 24 * MiB))
        srv = self.server("--config", conf)
        procs = [subprocess.Popen([os.path.join(BUILD, "netdiskctl"), "copy", "--key-file",
                                   self.key, srcs[i], self.uri(srv.port, "e%d" % i)],
                                  stderr=subprocess.PIPE) for i in range(3)]
        for p in procs:
            self.assertEqual(p.wait(120), 0, p.stderr.read())
        for i in range(3):
            self.assertEqual(sha(os.path.join(self.tmp, "e%d.img" % i)), sha(srcs[i]))

    def test_client_killed_with_replies_in_flight(self):
        """The receiver and the senders of one connection fail at once."""
        disk = self.image("disk.img", 64 * MiB, MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        out = os.path.join(self.tmp, "out.img")
        for _ in range(3):
            if os.path.exists(out):
                os.unlink(out)
            p = subprocess.Popen([os.path.join(BUILD, "netdiskctl"), "copy", "--key-file",
                                  self.key, "--identity", "tester", self.uri(srv.port), out],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.time() + 30
            want = srv.text().count("connected to export") + 4
            while time.time() < deadline and p.poll() is None and srv.text().count(
                    "connected to export") < want:
                time.sleep(0.01)
            p.kill()
            p.wait()
        srv.wait_log("dropping connection")
        self.assertEqual(self.req(srv.port, "read:0:4096").stdout, "ok\n")
        self.assertEqual(srv.stop(), 0)

    def test_failed_download_leaves_the_target_alone(self):
        disk = self.image("disk.img", 16 * MiB, 16 * MiB)
        srv, proxy = self.behind_proxy("--file", disk, "--key-file", self.key)
        out = os.path.join(self.tmp, "backup.img")
        with open(out, "wb") as f:
            f.write(b"previous backup" * 1000)
        before = sha(out)

        def cut(direction, data, pos):     # the server's stream ends at 6 MiB
            return None if direction == "s2c" and pos > 6 * MiB else data
        proxy.tamper = cut
        r = self.ctl("copy", "--connections", "1", self.uri(proxy.port), out, check=False)
        proxy.close()
        self.assertEqual(r.returncode, 7)
        self.assertIn("the target is unchanged", r.stderr)
        self.assertEqual(sha(out), before)
        self.assertEqual(sorted(os.listdir(self.tmp)), sorted(
            n for n in os.listdir(self.tmp) if not n.startswith(".backup.img.")))
        # an interrupted first download leaves no full-size file behind
        fresh = os.path.join(self.tmp, "fresh.img")
        p = subprocess.Popen([os.path.join(BUILD, "netdiskctl"), "copy", "--key-file",
                              self.key, "--identity", "tester", self.uri(srv.port), fresh],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        srv.wait_log("connected to export")
        p.kill()
        p.wait()
        self.assertFalse(os.path.exists(fresh))
        # and a whole one replaces the target
        self.ctl("copy", self.uri(srv.port), out)
        self.assertEqual(sha(out), sha(disk))

    def test_command_line_conventions(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        ctl = os.path.join(BUILD, "netdiskctl")
        r = subprocess.run([ctl, "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^netdiskctl \d+\.\d+\.\d+ \(protocol 4\)\n$")
        # options before the command, and the identity in the URI
        r = subprocess.run([ctl, "--key-file", self.key, "info",
                            "netdisk://tester@127.0.0.1:%d" % srv.port],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1048576", r.stdout)
        srv.wait_log("as 'tester'")
        r = subprocess.run([ctl, "info", "--key-file", self.key, "--identity", "other",
                            "netdisk://tester@127.0.0.1:%d" % srv.port],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--identity says 'other'", r.stderr)
        for uri, why in (("nbd://h", "not a netdisk:// URI"), ("netdisk://h:99999", "port"),
                         ("netdisk://[::1/x", "closing ']'"), ("netdisk://h/a/b", "export name")):
            r = subprocess.run([ctl, "info", "--key-file", self.key, uri],
                               capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(why, r.stderr)
        # 4294967297 once wrapped to 1 on its way to an unsigned int
        for n in ("0", "65", "4294967297", "18446744073709551617", "-1", "4x", ""):
            r = subprocess.run([ctl, "copy", "--key-file", self.key, "--connections", n,
                                disk, self.uri(srv.port)], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1, "--connections %r: %s" % (n, r.stderr))
            self.assertIn("--connections takes 1..64", r.stderr)

    def test_copy_through_pipes(self):
        disk = self.image("disk.img", 8 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        ctl = [os.path.join(BUILD, "netdiskctl"), "copy", "--key-file", self.key,
               "--identity", "tester"]
        # '-' is standard input: a length that is no multiple of a request
        data = os.urandom(3 * MiB + 4321) + bytes(MiB) + os.urandom(777)
        r = subprocess.run(ctl + ["-", self.uri(srv.port)], input=data,
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "-")))
        with open(disk, "rb") as f:
            self.assertEqual(f.read(len(data)), data)
        # and standard output: the whole export, in order
        r = subprocess.run(ctl + [self.uri(srv.port), "-"], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout), 8 * MiB)
        self.assertEqual(r.stdout[:len(data)], data)
        self.assertEqual(r.stdout, open(disk, "rb").read())
        # more input than the export holds is an error, not silently cut
        r = subprocess.run(ctl + ["-", self.uri(srv.port)], input=bytes(8 * MiB + 1),
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 7)
        self.assertIn(b"longer than the export", r.stderr)

    def test_info_json(self):
        disk = self.image("disk.img", 3 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key, "--read-only")
        r = self.ctl("info", "--json", self.uri(srv.port))
        info = json.loads(r.stdout)
        self.assertEqual(info["uri"], self.uri(srv.port))
        self.assertEqual(info["size"], 3 * MiB)
        self.assertEqual(info["block_size"], 512)
        self.assertEqual(info["max_request"], MiB)
        self.assertIs(info["read_only"], True)
        self.assertIsInstance(info["features"], list)
        self.assertNotIn("write-zeroes", info["features"])
        self.assertIn("flush", info["features"])

    def test_write_verifier_changes_with_the_boot_and_the_file_only(self):
        disk = self.image("disk.img", MiB)
        other = self.image("other.img", MiB)

        uuids = {}

        def verifier(*args):
            srv = self.server("--file", disk, "--key-file", self.key, *args)
            info = json.loads(self.ctl("info", "--json", self.uri(srv.port)).stdout)
            v = info["verifier"]
            uuids[v] = info["uuid"]
            self.assertRegex(v, "^[0-9a-f]{16}$")
            srv.stop(signal.SIGKILL)
            return v

        first = verifier()
        # as docs/protocol.md derives it
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot_hex = f.read().strip().replace("-", "").lower()
        st = os.stat(disk)
        spec = hashlib.sha256(b"netdisk4 verifier\0" + boot_hex.encode() + b"\0" + b"default\0" +
                              bytes.fromhex(uuids[first].replace("-", "")) +
                              struct.pack(">Q", st.st_ino)).hexdigest()[:16]
        self.assertEqual(first, spec)
        # netdiskd's own death loses no acknowledged write: same verifier
        self.assertEqual(verifier(), first)
        # the kernel's boot id, or systemd's %b of it (no dashes): one boot
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
        self.assertEqual(verifier("--boot-id", boot.replace("-", "").upper()), first)
        self.assertEqual(verifier("--boot-id", "boot-a"), verifier("--boot-id", "boot-a"))
        # another boot of the host may have lost them
        self.assertNotEqual(verifier("--boot-id", "boot-b"), first)
        self.assertNotEqual(verifier("--boot-id", "boot-b"), verifier("--boot-id", "boot-a"))
        # and so may a file put in the export's place
        os.rename(other, disk)
        self.assertNotEqual(verifier(), first)
        for bad in ("", "x" * 64):
            r = subprocess.run([os.path.join(BUILD, "netdiskd"), "--file", disk,
                                "--boot-id", bad], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertIn("--boot-id takes 1..63 characters", r.stderr)

    def test_a_clean_stop_keeps_the_verifier_across_a_reboot(self):
        """With a state directory (the unit's StateDirectory=), a netdiskd
        that stopped cleanly, every export synced, gives the same verifiers
        after the host boots again: clients that waited through a server
        reboot are told nothing was lost, because nothing was. A netdiskd
        killed in one boot keeps them in that boot, and changes them after
        the next: its page cache is gone."""
        disk = self.image("disk.img", MiB)
        state = os.path.join(self.tmp, "state")
        os.mkdir(state)

        def start(boot):
            return self.server("--file", disk, "--key-file", self.key, "--boot-id", boot,
                               env={"STATE_DIRECTORY": state})

        def verifier(srv):
            return json.loads(self.ctl("info", "--json", self.uri(srv.port)).stdout)["verifier"]

        srv = start("boot-a")
        first = verifier(srv)
        self.assertEqual(self.req(srv.port, "write:0:4096").returncode, 0)
        self.assertEqual(srv.stop(), 0)             # SIGTERM: synced, clean
        srv = start("boot-b")                      # a reboot after a clean stop
        self.assertEqual(verifier(srv), first)
        self.assertEqual(self.req(srv.port, "write:0:4096").returncode, 0)
        srv.stop(signal.SIGKILL)                   # killed: not clean
        srv = start("boot-b")                      # the same boot: the page cache holds it
        self.assertEqual(verifier(srv), first)
        srv.stop(signal.SIGKILL)
        srv = start("boot-c")                      # a reboot after a kill: lost
        changed = verifier(srv)
        self.assertNotEqual(changed, first)
        self.assertEqual(srv.stop(), 0)
        srv = start("boot-d")
        self.assertEqual(verifier(srv), changed)
        srv.stop(signal.SIGKILL)
        # without a state directory the verifier is the boot's, as before
        plain = self.server("--file", disk, "--key-file", self.key, "--boot-id", "boot-d")
        self.assertNotEqual(verifier(plain), changed)
        plain.stop()
        # a state that cannot be written: the run serves, warned, under a
        # fresh epoch that no later start keeps
        srv = start("boot-d")
        self.assertEqual(verifier(srv), changed)
        self.assertEqual(srv.stop(), 0)            # clean: the next start would keep it
        os.rename(state, state + ".gone")
        with open(state, "w") as f:               # not a directory: nothing can go in
            f.write("")
        srv = start("boot-e")
        srv.wait_log("cannot keep the write verifier's epoch")
        stuck = verifier(srv)
        self.assertNotEqual(stuck, changed)
        srv.stop(signal.SIGKILL)
        os.unlink(state)
        os.rename(state + ".gone", state)
        srv = start("boot-f")                      # the file still says clean: not stuck's
        self.assertNotEqual(verifier(srv), stuck)
        srv.stop()

    def test_options_that_do_not_apply_are_refused(self):
        ctl = os.path.join(BUILD, "netdiskctl")
        for args, opt in ((["overlay", "reset", "e", "i", "--json"], "--json"),
                          (["overlay", "list", "--progress"], "--progress"),
                          (["info", "-c", "x.conf", "netdisk://h/e"], "--config"),
                          (["copy", "--cache-mb", "4", "a", "netdisk://h/e"], "--cache-mb"),
                          (["copy", "--dead-timeout", "0", "a", "netdisk://h/e"],
                           "--dead-timeout"),
                          (["info", "--timeout", "5", "netdisk://h/e"], "--timeout"),
                          (["keygen", "--identity", "x"], "--identity"),
                          (["detach", "-j", "2", "netdisk0"], "--connections"),
                          (["info", "--table", "t", "netdisk://h/e"], "--table"),
                          (["list", "--progress"], "--progress")):
            r = subprocess.run([ctl] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("%s does not apply to %s" % (opt, args[0]), r.stderr)
        # and the attach timeouts out of range, before the module is asked
        for args, msg in ((["--timeout", "0"], "--timeout takes 1..86400 seconds"),
                          (["--timeout", "86401"], "--timeout takes 1..86400 seconds"),
                          (["--dead-timeout", "-1"], "--dead-timeout takes 0..31536000"),
                          (["--dead-timeout", "31536001"], "--dead-timeout takes 0..31536000")):
            r = subprocess.run([ctl, "attach"] + args + ["netdisk://127.0.0.1/e"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(msg, r.stderr)

    def test_localhost_reaches_a_local_server_by_default(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        r = self.ctl("info", "netdisk://localhost:%d" % srv.port)
        self.assertIn("size: %d" % MiB, r.stdout)
        # other names still need server-name
        r = self.ctl("info", "--server-name", "elsewhere", self.uri(srv.port), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("does not answer to the name 'elsewhere'", r.stderr)

    def test_check_prints_what_would_be_served_and_changes_nothing(self):
        disk = self.image("disk.img", 2 * MiB)
        conf = os.path.join(self.tmp, "check.conf")
        port = free_port()
        with open(conf, "w") as f:
            f.write("key-file = %s\nlisten = 127.0.0.1:%d\n[export d]\npath = %s\n"
                    % (self.key, port, disk))
        nd = os.path.join(BUILD, "netdiskd")

        def check(path):
            return subprocess.run([nd, "--config", path, "--check"], capture_output=True,
                                  text=True, timeout=30)
        r = check(conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("export 'd': %s, %d bytes, read-write" % (disk, 2 * MiB), r.stdout)
        self.assertIn("listen 127.0.0.1:%d" % port, r.stdout)
        self.assertIn("configuration OK", r.stdout)
        # beside a netdiskd that serves the export, and holds its lock
        srv = self.server("--config", conf, port=port)
        srv.wait_log("listening")
        self.assertEqual(check(conf).returncode, 0)
        srv.stop()
        # a missing file, and a syntax error: 1, with the reason
        with open(conf, "a") as f:
            f.write("[export gone]\npath = %s/none.img\n" % self.tmp)
        r = check(conf)
        self.assertEqual(r.returncode, 1)
        self.assertIn("export 'gone': cannot open", r.stderr)
        self.assertIn("configuration has errors", r.stdout)
        with open(conf, "w") as f:
            f.write("[export d\n")
        r = check(conf)
        self.assertEqual(r.returncode, 1)
        self.assertIn("check.conf:1:", r.stderr)
        with open(disk, "rb") as f:
            self.assertEqual(f.read(), bytes(2 * MiB))

    def test_bash_completion_offers_what_each_command_takes(self):
        top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        script = os.path.join(top, "netdiskctl", "netdiskctl.bash-completion")
        ctl = os.path.join(BUILD, "netdiskctl")

        def complete(*words):
            words = ["netdiskctl"] + list(words)
            r = subprocess.run(["bash", "-c", 'source "$0"; COMP_WORDS=("${@}"); '
                                'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _netdiskctl; '
                                'printf "%s\\n" "${COMPREPLY[@]}"', script] + words,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout.split()
        self.assertEqual(complete("at"), ["attach"])
        self.assertEqual(complete("overlay", "r"), ["reset"])
        self.assertEqual(sorted(complete("overlay", "list", "--")), ["--config", "--json"])
        self.assertEqual(sorted(complete("overlay", "merge", "--p")), ["--progress"])
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[export golden]\npath = /x\ncopy-on-write = /y\n"
                    "[export plain]\npath = /z\n")
        self.assertEqual(complete("overlay", "-c", conf, "reset", ""), ["golden"])
        # nothing here may reach a network: a loopback port nothing serves
        uri = "netdisk://127.0.0.1:1/e"
        for cmd, args in (("info", [uri]), ("copy", ["a", uri]), ("attach", [uri]),
                          ("detach", ["x"]), ("list", [])):
            offered = complete(cmd, "--")
            self.assertTrue(offered, cmd)
            for opt in offered:
                value = [] if opt in ("--json", "--list", "--progress") else ["1"]
                r = subprocess.run([ctl, cmd, opt] + value + args, capture_output=True,
                                   text=True, timeout=30,
                                   env=dict(os.environ, NETDISK_KEY_FILE="/nonexistent"))
                self.assertNotIn("does not apply", r.stderr,
                                 "completion offers %s for %s" % (opt, cmd))
        r = subprocess.run(["bash", "-n", os.path.join(top, "netdiskd", "netdiskd.bash-completion")])
        self.assertEqual(r.returncode, 0)

    def test_exit_statuses_say_what_failed(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key, "--export-name", "d")
        wrong = self.write_key("wrong.key", self.keygen())

        def status(*args, key=None):
            return self.ctl(*args, key=key, check=False).returncode
        self.assertEqual(status("info", "netdisk://127.0.0.1:99999/d"), 2)	# usage
        self.assertEqual(status("info", "netdisk://127.0.0.1:%d/d" % free_port()), 3)
        self.assertEqual(status("info", self.uri(srv.port, "d"), key=wrong), 4)
        self.assertEqual(status("info", self.uri(srv.port, "nothing")), 5)
        self.assertEqual(status("copy", self.uri(srv.port, "d"),
                                os.path.join(self.tmp, "no", "such", "dir", "out")), 7)
        self.assertEqual(status("info", self.uri(srv.port, "d")), 0)

    def test_help_shows_no_test_options(self):
        r = subprocess.run([os.path.join(BUILD, "netdiskd"), "--help"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("--test-", r.stdout)
        self.assertNotIn("(testing)", r.stdout)
        self.assertNotIn("--rekey-records", r.stdout)

    def test_protocol_version_is_the_same_everywhere(self):
        top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

        def read(path):
            with open(os.path.join(top, path)) as f:
                return f.read()
        version = re.search(r"#define ND_VERSION\s+(\d+)", read("include/netdisk/wire.h")).group(1)
        self.assertIn("# netdisk wire protocol, version %s\n" % version, read("docs/protocol.md"))
        self.assertIn("protocol v%s " % version, read("debian/changelog"))
        r = subprocess.run([os.path.join(BUILD, "netdiskctl"), "--version"],
                           capture_output=True, text=True)
        self.assertIn("(protocol %s)" % version, r.stdout)
        for path in ("README.md", "CMakeLists.txt", "debian/changelog", "docs/protocol.md"):
            for other in re.findall(r"protocol v(\d+)", read(path), re.I):
                self.assertEqual(other, version, "%s names protocol v%s" % (path, other))

    def test_flush_from_a_reader_syncs_nothing(self):
        if subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True).returncode:
            self.skipTest("strace cannot trace here")
        disk = self.image("disk.img", MiB)
        trace = os.path.join(self.tmp, "trace")
        # LeakSanitizer cannot run under ptrace
        asan = ":".join(o for o in (os.environ.get("ASAN_OPTIONS"), "detect_leaks=0") if o)
        srv = self.server("--file", disk, "--key-file", self.key, "--read-only",
                          env={"ASAN_OPTIONS": asan}, wrap=["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync,sync_file_range",
                                "-o", trace])
        self.assertEqual(self.req(srv.port, "flush", "flush").stdout, "ok\nok\n")
        self.assertEqual(self.req(srv.port, "write:0:4096").stdout, "export is read-only\n")
        # strace does not pass SIGTERM on: stop netdiskd itself
        with open("/proc/%d/task/%d/children" % (srv.proc.pid, srv.proc.pid)) as f:
            os.kill(int(f.read().split()[0]), signal.SIGTERM)
        srv.stop()
        with open(trace) as f:
            syncs = [line for line in f if "sync" in line]
        self.assertEqual(syncs, [], "a read-only client made netdiskd sync the export")

    def test_one_bad_netdisktab_line_breaks_no_other_disk(self):
        tab = os.path.join(self.tmp, "netdisktab")
        with open(tab, "w") as f:
            f.write("data netdisk://127.0.0.1/d\nroot netdisk://h:99999\nbroken\n")
        ctl = os.path.join(BUILD, "netdiskctl")
        # data is not attached (no module here): detaching it is done
        r = subprocess.run([ctl, "detach", "--table", tab, "data"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("netdisktab:2: ", r.stderr)
        self.assertIn("netdisktab:3: expected NAME URI", r.stderr)
        # $NETDISK_TAB stands for --table, as netdisk-generator reads it
        r = subprocess.run([ctl, "detach", "data"], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, NETDISK_TAB=tab))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("netdisktab:3: expected NAME URI", r.stderr)
        # the disk on the bad line gets that line's reason
        r = subprocess.run([ctl, "detach", "--table", tab, "root"], capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("netdisktab:2: 'netdisk://h:99999': the port must be", r.stderr)

    def test_listen_ports_above_65535_are_refused(self):
        disk = self.image("disk.img", MiB)
        conf = os.path.join(self.tmp, "ports.conf")
        for args in (["--listen", "127.0.0.1:99998"], ["--listen", "[::1]:70000"],
                     ["--listen", "127.0.0.1:+80"], ["--listen", "127.0.0.1:0"],
                     ["--config", conf]):
            with open(conf, "w") as f:
                f.write("key-file = %s\nlisten = 127.0.0.1:99999\n[export default]\n"
                        "path = %s\n" % (self.key, disk))
            cmd = [os.path.join(BUILD, "netdiskd")] + args
            if args[0] == "--listen":
                cmd += ["--file", disk, "--key-file", self.key]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1, "%s: %s" % (args, r.stderr))
            self.assertIn("port must be 1..65535", r.stderr, args)
            self.assertNotIn("listening on", r.stderr, args)

    def test_sigterm_answers_accepted_requests(self):
        disk = self.image("disk.img", 256 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        p = subprocess.Popen([os.path.join(BUILD, "ndreq"), self.key, "t",
                              self.uri(srv.port), "writes:256"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = p.stdout.readline()
        self.assertTrue(first.startswith("acked"), first)
        srv.proc.send_signal(signal.SIGTERM)
        out, err = p.communicate(60)
        self.assertEqual(srv.stop(), 0)
        self.assertIn("stopped", srv.text())
        acked = [int(line.split()[1]) for line in (first + out).splitlines()]
        self.assertGreater(len(acked), 0)
        with open(disk, "rb") as f:
            for off in acked:
                f.seek(off)
                self.assertEqual(f.read(MiB), pattern(off, MiB), "acked write %d lost" % off)
        if len(acked) < 256:
            self.assertRegex(err, "connection closed|Connection reset|Broken pipe")

    def test_full_disk_is_reported_and_server_survives(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small tmpfs")
        mnt = os.path.join(self.tmp, "small")
        os.mkdir(mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], check=True)
        try:
            disk = os.path.join(mnt, "disk.img")
            with open(disk, "wb") as f:
                f.truncate(16 * MiB)
            srv = self.server("--file", disk, "--key-file", self.key)
            src = self.image("src.bin", 8 * MiB, 8 * MiB)
            r = self.ctl("copy", src, self.uri(srv.port), check=False)
            self.assertEqual(r.returncode, 7)
            self.assertIn("no space left on the server", r.stderr)
            self.assertEqual(self.req(srv.port, "read:0:4096").stdout, "ok\n")
            self.assertEqual(srv.stop(), 0)
        finally:
            subprocess.run(["umount", mnt])

    def test_ipv6_listen(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        disk = self.image("disk.img", MiB)
        port = free_port()
        try:
            srv = self.server("--file", disk, "--key-file", self.key, port=port,
                              listen="[::1]:%d" % port)
        except RuntimeError as e:
            if "Cannot assign" in str(e) or "not available" in str(e):
                self.skipTest("::1 not configured")
            raise
        r = self.ctl("info", "netdisk://[::1]:%d" % srv.port)
        self.assertIn("size: %d" % MiB, r.stdout)

    def test_sighup_reloads_exports_and_keys(self):
        alice = self.write_key("alice.key", self.keygen())
        bob = self.write_key("bob.key", self.keygen())
        keys = os.path.join(self.tmp, "keys")
        a = self.image("a.img", MiB, MiB)
        b = self.image("b.img", 2 * MiB)
        conf = os.path.join(self.tmp, "netdiskd.conf")

        def configure(key_lines, exports):
            self.write_key("keys", "\n".join(key_lines))
            with open(conf, "w") as f:
                f.write("key-file = %s\n" % keys)
                for name, path, extra in exports:
                    f.write("[export %s]\npath = %s\n%s" % (name, path, extra))

        def reload(n):
            srv.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while srv.text().count("reload") < n:
                self.assertLess(time.time(), deadline, srv.text())
                time.sleep(0.02)

        with open(alice) as f:
            alice_line = "alice " + f.read().strip()
        with open(bob) as f:
            bob_line = "bob " + f.read().strip()
        configure([alice_line], [("a", a, "")])
        srv = self.server("--config", conf)
        # a connection that lives across every reload below
        p = subprocess.Popen([os.path.join(BUILD, "ndreq"), alice, "alice",
                              self.uri(srv.port, "a"), "read:0:4096", "sleep:3",
                              "write:0:4096", "read:0:4096"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        srv.wait_log("connected to export 'a'")
        self.assertNotEqual(self.ctl("info", self.uri(srv.port, "b"), key=bob,
                                     identity="bob", check=False).returncode, 0)
        # a new key and a new export, without a restart
        configure([alice_line, bob_line], [("a", a, ""), ("b", b, "allow = bob\n")])
        reload(1)
        self.assertIn("reloaded", srv.text())
        r = self.ctl("info", self.uri(srv.port, "b"), key=bob, identity="bob")
        self.assertIn("size: %d" % (2 * MiB), r.stdout)
        # a removed export takes no new clients; its open ones go on
        configure([alice_line, bob_line], [("b", b, "allow = bob\n")])
        reload(2)
        r = self.ctl("info", self.uri(srv.port, "a"), key=alice, identity="alice", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no such export", r.stderr)
        # a broken configuration keeps the running one, and says why
        with open(conf, "w") as f:
            f.write("[export b\n")
        reload(3)
        self.assertIn("reload failed", srv.text())
        self.assertIn("keeping the running configuration", srv.text())
        # a syntax error changed no export: the log line must not say one did
        self.assertNotIn("export whose name, file or mode changed", srv.text())
        self.ctl("info", self.uri(srv.port, "b"), key=bob, identity="bob")
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out.split(), ["ok", "ok", "ok"])
        self.assertEqual(srv.stop(), 0)

    def test_each_export_has_a_uuid_kept_with_it(self):
        """INFO carries the export's UUID, the disk's stable name
        (/dev/disk/by-id/netdisk-UUID): derived from the export's name and
        its file's own UUID, which the file keeps in user.netdisk.uuid from
        its first open. The same after a restart and after the file moved;
        another export of the same file, or the export under a new name, is
        another disk. uuid= sets it. A copy-on-write export is a disk of its
        own for each identity."""
        import uuid as uuidlib
        a = self.image("a.img", MiB)
        b = self.image("b.img", MiB)
        given = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
        srv = self.cow_server()
        conf = os.path.join(self.tmp, "cow.conf")
        keys = os.path.join(self.tmp, "keys")
        with open(conf, "a") as f:
            # two exports of one file, as a read-only one and a copy-on-write one
            f.write("[export a]\npath = %s\n[export b]\npath = %s\nuuid = %s\n"
                    "[export golden-ro]\npath = %s\nread-only = yes\n"
                    % (a, b, given.upper(), self.base))
        srv.stop()

        def uuid_of(port, export, key=None, identity="alice"):
            key = key or self.alice_key
            r = self.ctl("info", "--json", self.uri(port, export), key=key, identity=identity)
            u = json.loads(r.stdout)["uuid"]
            self.assertEqual(str(uuidlib.UUID(u)), u)
            return u

        def uuids(port):
            return (uuid_of(port, "a"), uuid_of(port, "b"), uuid_of(port, "golden-ro"),
                    uuid_of(port, "golden", self.alice_key, "alice"),
                    uuid_of(port, "golden", self.bob_key, "bob"))

        def start(path):
            return self.server("--config", path)

        srv = start(conf)
        first = uuids(srv.port)
        self.assertEqual(first[1], given)
        self.assertEqual(len(set(first)), 5, first)
        self.assertIn("uuid: %s" % first[0], self.ctl("info", self.uri(srv.port, "a"),
                                                    key=self.alice_key,
                                                    identity="alice").stdout)
        try:
            kept = str(uuidlib.UUID(os.getxattr(a, "user.netdisk.uuid").decode()))
        except OSError:
            kept = None     # a file system without user xattrs: derived
        if kept is not None:
            self.assertEqual(str(uuidlib.uuid5(uuidlib.UUID(kept), "a")), first[0])
        srv.stop()
        srv = start(conf)
        self.assertEqual(uuids(srv.port), first)
        srv.stop()
        if kept is not None:
            # the UUID goes with the file; a new export name is a new disk
            moved = os.path.join(self.tmp, "moved.img")
            os.rename(a, moved)
            with open(conf) as f:
                text = f.read().replace("path = %s\n" % a, "path = %s\n" % moved)
            with open(conf, "w") as f:
                f.write(text)
            srv = start(conf)
            self.assertEqual(uuid_of(srv.port, "a"), first[0])
            srv.stop()
            with open(conf, "w") as f:
                f.write(text.replace("[export a]", "[export renamed]"))
            srv = start(conf)
            self.assertNotIn(uuid_of(srv.port, "renamed"), first)
            srv.stop()
            a = moved
        # bad and clashing uuid= lines are refused at the start
        for bad, why, check in (("uuid = 1234", "is not a UUID", True),
                                ("uuid = " + given, "has the UUID of export 'b'", True),
                                ("uuid = " + first[0], "has the UUID of export 'a'", False)):
            bad_conf = os.path.join(self.tmp, "bad.conf")
            with open(bad_conf, "w") as f:
                f.write("key-file = %s\n[export a]\npath = %s\n[export b]\npath = %s\n"
                        "uuid = %s\n[export c]\npath = %s\n%s\n"
                        % (keys, a, b, given, self.image("c.img", MiB), bad))
            args = ["--check"] if check else ["--listen", "127.0.0.1:%d" % free_port()]
            r = subprocess.run([os.path.join(BUILD, "netdiskd"), "--config", bad_conf] + args,
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn(why, r.stderr)

    def test_an_identity_rolls_over_to_a_new_key_without_an_outage(self):
        """During a rotation an identity has two keys in the server's keys
        file: clients holding either connect, a connection made with the old
        key outlives a reload that keeps it, and once the reload drops the
        old key only the new one opens the export."""
        disk = self.image("disk.img", MiB)
        old, new = self.keygen(), self.keygen()
        old_file = self.write_key("old.key", old)
        new_file = self.write_key("new.key", new)
        keys = self.write_key("keys", "alice " + old)
        srv = self.server("--file", disk, "--key-file", keys)

        def reload(lines, n):
            self.reload_keys(srv, lines, n)

        def info(key_file):
            return self.ctl("info", self.uri(srv.port), key=key_file, identity="alice",
                            check=False)

        # a connection made with the old key, alive across both reloads
        p = subprocess.Popen([os.path.join(BUILD, "ndreq"), old_file, "alice",
                              self.uri(srv.port), "read:0:4096", "sleep:3",
                              "write:0:4096", "read:0:4096"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        srv.wait_log("connected to export")
        reload("alice %s\nalice %s  # the new one" % (old, new), 1)
        for k in (old_file, new_file):
            r = info(k)
            self.assertEqual(r.returncode, 0, r.stderr)
        r = info(self.write_key("other.key", self.keygen()))
        self.assertEqual(r.returncode, 4, r.stderr)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out.split(), ["ok", "ok", "ok"])
        # the old key is dropped: a third key for one identity is refused
        reload("alice %s" % new, 2)
        self.assertEqual(info(new_file).returncode, 0)
        self.assertEqual(info(old_file).returncode, 4)
        self.write_key("keys", "alice %s\nalice %s\nalice %s" % (old, new, self.keygen()))
        srv.proc.send_signal(signal.SIGHUP)
        srv.wait_log("identity 'alice' has a third key")
        self.assertEqual(info(new_file).returncode, 0)
        self.assertEqual(srv.stop(), 0)

    def test_a_reload_during_the_handshake_applies_when_it_completes(self):
        """A connection accepted before a SIGHUP finishes its handshake under
        the configuration current then: a key the reload removed, or
        changed, no longer opens an export."""
        if subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True).returncode:
            self.skipTest("strace cannot trace here")
        disk = self.image("disk.img", MiB)
        alice = self.keygen()
        keys = self.write_key("keys", "alice " + alice)
        client_key = self.write_key("alice.key", alice)
        srv = self.server("--file", disk, "--key-file", keys, "--handshake-timeout", "30")

        def held_info():
            # the third sendto is ClientFinished (after getaddrinfo's netlink
            # query and the ClientHello): hold it 5 s
            return subprocess.Popen(
                ["strace", "-qq", "-o", "/dev/null", "-e", "trace=sendto",
                 "-e", "inject=sendto:delay_enter=5000000:when=3",
                 os.path.join(BUILD, "netdiskctl"), "info", "--key-file", client_key,
                 "--identity", "alice", self.uri(srv.port)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=traced_env())

        def reload(lines, n):
            self.reload_keys(srv, lines, n)

        for n, lines in ((1, "bob " + self.keygen()), (3, "alice " + self.keygen())):
            if n > 1:
                reload("alice " + alice, n - 1)
            p = held_info()
            time.sleep(1)           # its hello is in; its ClientFinished is held
            reload(lines, n)        # alice's key removed, then changed
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 5, "reload %d: %s%s" % (n, out, err))
            self.assertNotIn("size:", out)
        self.assertEqual(srv.text().count("a reload removed or changed the key"), 2)
        # a reload that keeps the key lets such a connection through
        reload("alice " + alice, 4)
        p = held_info()
        time.sleep(1)
        reload("alice %s\nbob %s" % (alice, self.keygen()), 5)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)

    def test_open_failure_under_the_unit_names_the_directive(self):
        # INVOCATION_ID says systemd started us: the unit's sandbox is the likely cause
        for env, hint in (({"INVOCATION_ID": "0" * 32}, "DeviceAllow="), ({}, None)):
            r = subprocess.run([os.path.join(BUILD, "netdiskd"), "--file", "/dev/netdisk-none",
                                "--key-file", self.key, "--listen",
                                "127.0.0.1:%d" % free_port()], capture_output=True, text=True,
                               env=dict({k: v for k, v in os.environ.items()
                                         if k != "INVOCATION_ID"}, **env), timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot open /dev/netdisk-none: No such file or directory", r.stderr)
            if hint:
                self.assertIn(hint, r.stderr)
                self.assertIn("systemctl edit netdiskd", r.stderr)
                # and the example drop-in that the packages ship (install.sh
                # checks that it is installed there)
                m = re.search(r"(/\S+/examples/block-device\.conf)", r.stderr)
                self.assertTrue(m, r.stderr)
                self.assertRegex(m.group(1), r"^/usr(/local)?/share/doc/netdisk-server/")
            else:
                self.assertNotIn("netdiskd.service", r.stderr)
        # a long path does not cut the hint off
        path = "/dev/" + "d" * 200 + "/" + "e" * 250
        r = subprocess.run([os.path.join(BUILD, "netdiskd"), "--file", path,
                            "--key-file", self.key, "--listen", "127.0.0.1:%d" % free_port()],
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, INVOCATION_ID="0" * 32))
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"cannot open %s: .*examples/block-device\.conf\n" % path)

    def test_info_list_shows_the_exports_an_identity_may_use(self):
        alice = self.write_key("alice.key", self.keygen())
        with open(alice) as f:
            keys = self.write_key("keys", "%s\nalice %s" % (open(self.key).read().strip(),
                                                          f.read().strip()))
        conf = os.path.join(self.tmp, "netdiskd.conf")
        overlays = os.path.join(self.tmp, "overlays")
        os.mkdir(overlays)
        with open(conf, "w") as f:
            f.write("key-file = %s\n" % keys)
            f.write("[export pub]\npath = %s\nread-only = yes\n" % self.image("p", MiB))
            f.write("[export team]\npath = %s\nallow = alice\nallow-write = alice\n"
                    % self.image("t", 2 * MiB))
            f.write("[export golden]\npath = %s\ncopy-on-write = %s\n"
                    % (self.image("g", 3 * MiB), overlays))
        srv = self.server("--config", conf)
        r = self.ctl("info", "--list", "--json", self.uri(srv.port), key=alice,
                     identity="alice")
        self.assertEqual(json.loads(r.stdout), [
            {"name": "pub", "size": MiB, "read_only": True},
            {"name": "team", "size": 2 * MiB, "read_only": False},
            {"name": "golden", "size": 3 * MiB, "read_only": False}])
        # the default key proves no identity: no access list, no overlay
        r = self.ctl("info", "--list", self.uri(srv.port), identity="bob")
        self.assertEqual([l.split() for l in r.stdout.splitlines()],
                         [["EXPORT", "SIZE", "MODE"], ["pub", "1048576", "read-only"]])
        r = self.ctl("info", "--list", self.uri(srv.port, "pub"), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("leave the export out", r.stderr)
        # nothing was opened for the listing: no overlay appeared
        self.assertEqual(os.listdir(overlays), [])
        srv.wait_log("listed 3 of 3 export(s)")
        srv.wait_log("listed 1 of 3 export(s)")

    def test_keys_from_a_systemd_credential(self):
        disk = self.image("disk.img", MiB)
        creds = os.path.join(self.tmp, "creds")
        os.mkdir(creds)
        shutil.copy(self.key, os.path.join(creds, "netdiskd.keys"))
        os.chmod(os.path.join(creds, "netdiskd.keys"), 0o400)
        # no --key-file: the unit's LoadCredential= copy is used
        run = os.path.join(self.tmp, "run")
        os.mkdir(run)
        srv = self.server("--file", disk, env={"CREDENTIALS_DIRECTORY": creds,
                                               "RUNTIME_DIRECTORY": run})
        self.assertIn("size: %d" % MiB, self.ctl("info", self.uri(srv.port)).stdout)
        # the unit's reload leaves a newer copy in the runtime directory:
        # that one counts from then on (systemd before 259 keeps the old
        # credential)
        new = self.write_key("new.key", self.keygen())
        shutil.copy(new, os.path.join(run, "netdiskd.keys"))
        srv.proc.send_signal(signal.SIGHUP)
        srv.wait_log("reloaded")
        self.assertIn("size: %d" % MiB, self.ctl("info", self.uri(srv.port), key=new).stdout)
        self.assertEqual(self.ctl("info", self.uri(srv.port), check=False).returncode, 4)
        srv.stop()
        # the unit's empty stand-in for a missing file, or no credential at all:
        # say what to do
        def stand_in(p):
            with open(p, "w") as f:
                f.write("missing")
        for make in (stand_in, os.unlink):
            make(os.path.join(creds, "netdiskd.keys"))
            r = subprocess.run([os.path.join(BUILD, "netdiskd"), "--file", disk, "--listen",
                                "127.0.0.1:%d" % free_port()], capture_output=True, text=True,
                               env=dict(os.environ, CREDENTIALS_DIRECTORY=creds), timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn("/etc/netdisk/netdiskd.keys is missing (the unit loads it as "
                          "credential netdiskd.keys)", r.stderr)
            self.assertIn("netdiskctl keygen", r.stderr)

    def test_socket_activation(self):
        activate = shutil.which("systemd-socket-activate")
        if not activate:
            self.skipTest("systemd-socket-activate not installed")
        disk = self.image("disk.img", MiB)
        port = free_port()
        log = open(os.path.join(self.tmp, "act.log"), "w")
        # systemd-socket-activate passes on only the environment it is told to
        env = [a for v in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")
               if v in os.environ for a in ("-E", v)]
        p = subprocess.Popen([activate, "-l", "127.0.0.1:%d" % port] + env +
                             [os.path.join(BUILD, "netdiskd"), "--file", disk,
                              "--key-file", self.key], stdout=log, stderr=subprocess.STDOUT)
        try:
            time.sleep(0.3)
            r = self.ctl("info", self.uri(port))
            self.assertIn("size: %d" % MiB, r.stdout)
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(20), 0)
            log.close()
        with open(log.name) as f:
            self.assertIn("using 1 listen socket(s) from systemd", f.read())

    def test_bad_configuration_is_refused_clearly(self):
        netdiskd = os.path.join(BUILD, "netdiskd")
        disk = self.image("disk.img", MiB)
        loose = os.path.join(self.tmp, "loose.key")
        with open(loose, "w") as f:
            f.write(self.keygen() + "\n")
        os.chmod(loose, 0o644)
        cases = [
            (["--file", disk, "--key-file", loose], "chmod 600"),
            (["--file", disk, "--key-file", os.path.join(self.tmp, "none")], "netdiskctl keygen"),
            (["--file", os.path.join(self.tmp, "missing.img"), "--key-file", self.key],
             "No such file"),
            (["--file", disk, "--key", "abc"], "64 hex digits"),
            (["--file", disk, "--key-file", self.key, "--port", "70000"], "--port"),
            (["--file", disk, "--key-file", self.key, "--listen", "[::1"], "bad listen"),
            (["--config", os.path.join(self.tmp, "nope.conf")], "nope.conf"),
        ]
        for args, needle in cases:
            r = subprocess.run([netdiskd] + args, capture_output=True, text=True, timeout=10)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(needle, r.stderr, args)
        # two writers on one image would corrupt it
        self.server("--file", disk, "--key-file", self.key)
        r = subprocess.run([netdiskd, "--file", disk, "--key-file", self.key, "--listen",
                            "127.0.0.1:%d" % free_port()], capture_output=True, text=True,
                           timeout=10)
        self.assertIn("in use by another process", r.stderr)

    # copy-on-write ------------------------------------------------------
    def download(self, port, key, identity, name):
        out = os.path.join(self.tmp, name)
        self.ctl("copy", self.uri(port, "golden"), out, key=key, identity=identity)
        with open(out, "rb") as f:
            return f.read()

    def test_copy_on_write_gives_each_identity_its_own_disk(self):
        srv = self.cow_server()
        base_sum = sha(self.base)
        with open(self.base, "rb") as f:
            base = f.read()
        a_src = self.image("a.bin", 3 * MiB, 3 * MiB)
        b_src = self.image("b.bin", 3 * MiB, 3 * MiB)
        self.ctl("copy", a_src, self.uri(srv.port, "golden"), key=self.alice_key, identity="alice")
        self.ctl("copy", b_src, self.uri(srv.port, "golden"), key=self.bob_key, identity="bob")
        # partial blocks, one over the overlay and one over the base; zeroes
        r = self.req(srv.port, "write:5000:512", "write:6000000:100", "zero:7000000:10000",
                     "trim:8388608:65536", "flush", identity="alice", key=self.alice_key,
                     export="golden")
        self.assertEqual(r.stdout, "ok\n" * 5, r.stderr)
        a = self.download(srv.port, self.alice_key, "alice", "a.out")
        b = self.download(srv.port, self.bob_key, "bob", "b.out")
        with open(a_src, "rb") as f:
            a_data = f.read()
        with open(b_src, "rb") as f:
            b_data = f.read()
        want_a = bytearray(base)
        want_a[:3 * MiB] = a_data
        want_a[5000:5512] = pattern(5000, 512)
        want_a[6000000:6000100] = pattern(6000000, 100)
        want_a[7000000:7010000] = bytes(10000)
        want_a[8388608:8388608 + 65536] = bytes(65536)
        self.assertEqual(a, bytes(want_a))
        self.assertEqual(b, b_data + base[3 * MiB:])
        self.assertEqual(sha(self.base), base_sum)          # the base never changes

        # the overlays outlive the server
        self.assertEqual(srv.stop(), 0)
        srv = self.cow_server_again()
        self.assertEqual(self.download(srv.port, self.alice_key, "alice", "a2.out"), a)
        self.assertEqual(srv.stop(), 0)

        conf = os.path.join(self.tmp, "cow.conf")
        ov = self.ctl("overlay", "list", "-c", conf).stdout
        self.assertRegex(ov, r"alice +\d+ idle")
        self.assertRegex(ov, r"bob +%d idle" % (3 * MiB))
        merged = os.path.join(self.tmp, "alice-merged.img")
        self.ctl("overlay", "merge", "-c", conf, "golden", "alice", merged)
        self.assertEqual(sha(merged), hashlib.sha256(a).hexdigest())
        self.ctl("overlay", "reset", "-c", conf, "golden", "bob")
        self.assertNotIn("bob", self.ctl("overlay", "list", "-c", conf).stdout)
        srv = self.cow_server_again()
        self.assertEqual(self.download(srv.port, self.bob_key, "bob", "b2.out"), base)
        self.assertEqual(sha(self.base), base_sum)

    def cow_server_again(self):
        conf = os.path.join(self.tmp, "cow.conf")
        return self.server("--config", conf)

    def test_copy_on_write_survives_sigkill(self):
        srv = self.cow_server(base_size=96 * MiB)
        with open(self.base, "rb") as f:
            base = f.read()
        p = subprocess.Popen([os.path.join(BUILD, "ndreq"), self.alice_key, "alice",
                              self.uri(srv.port, "golden"), "write:0:65536", "flush",
                              "writes:96"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = [p.stdout.readline(), p.stdout.readline(), p.stdout.readline()]
        self.assertEqual(first[:2], ["ok\n", "ok\n"])       # the flushed write
        srv.stop(signal.SIGKILL)
        out, _ = p.communicate(60)
        acked = [int(line.split()[1]) for line in (first[2] + out).splitlines()
                 if line.startswith("acked")]
        srv = self.cow_server_again()
        data = self.download(srv.port, self.alice_key, "alice", "after-kill.out")
        self.assertEqual(data[:65536], pattern(0, 65536))  # flushed, and rewritten alike
        # writes acknowledged after the last FLUSH may be lost, as in a disk's
        # volatile cache; but every block is either the new data or the base
        self.assertTrue(acked)
        for blk in range(0, len(data), 4096):
            got = data[blk:blk + 4096]
            if got != base[blk:blk + 4096]:
                self.assertEqual(got, pattern(blk, 4096), "torn block at %d" % blk)

    def test_copy_on_write_refuses_bad_identities(self):
        srv = self.cow_server()
        for bad in ("../etc", "a/b", ".hidden", "x" * 70):
            s = socket.create_connection(("127.0.0.1", srv.port))
            hello = struct.pack(">IHH", 0x4E44534B, 4, 0) + os.urandom(64)
            ident = bad.encode()[:63].ljust(64, b"\0") if len(bad) < 64 else bad.encode()[:64]
            s.sendall(hello + ident + b"golden".ljust(64, b"\0") +
                      b"127.0.0.1".ljust(64, b"\0") + struct.pack(">HHQ", srv.port, 0, 0) +
                      bytes(16))
            self.assertTrue(closed_without_reply(s))
            s.close()
        self.assertEqual(os.listdir(self.overlays), [])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "etc.map")))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args, rest = ap.parse_known_args()
    BUILD = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
