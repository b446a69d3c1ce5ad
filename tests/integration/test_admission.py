#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""Admission (docs/protocol.md, "Admission"): a server at its connection
limits answers BUSY before any key is used, or FULL after the handshake, and
clients wait their turn; a boot storm of hundreds of clients all finish."""

import argparse
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

import test_netdiskd as base
from test_netdiskd import MiB

CTL_BUSY = "server busy, retrying"


def wait_until(cond, what, timeout=20):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def raw_hello(port, identity):
    """Sends a v4 ClientHello; returns the 72-byte ServerHello, or b"" if none."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    # a BUSY answer comes before mac1 is looked at: this one is random
    s.sendall(struct.pack(">IHH", 0x4E44534B, 4, 0) + os.urandom(64) +
              identity.encode().ljust(64, b"\0") + bytes(64) +
              b"127.0.0.1".ljust(64, b"\0") + struct.pack(">HHQ", port, 0, 0) +
              os.urandom(16))
    got = b""
    while len(got) < 72:
        chunk = s.recv(72 - len(got))
        if not chunk:
            break
        got += chunk
    s.close()
    return got


class AdmissionTest(base.Harness):
    def keys(self, names):
        """One client key file and the server's keys file for these identities."""
        lines = "\n".join("%s %s" % (n, secrets.token_hex(32)) for n in names)
        return self.write_key("keys", lines)

    def hog(self, port, keys, identity):
        """A client that holds one connection: a download into a pipe nobody reads."""
        p = subprocess.Popen([os.path.join(base.BUILD, "netdiskctl"), "copy", "--key-file",
                              keys, "--identity", identity, self.uri(port), "-"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (p.kill(), p.wait()))
        return p

    def storm_client(self, port, keys, name):
        """One client of a storm: a download of 'golden' with 4 connections,
        as identity name, into a file of its own. Returns (file, process)."""
        out = os.path.join(self.tmp, name + ".img")
        return out, subprocess.Popen(
            [os.path.join(base.BUILD, "netdiskctl"), "copy", "--connections", "4",
             "--key-file", keys, "--identity", name, self.uri(port, "golden"), out],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def held(self, srv, n):
        """Waits until n connections were admitted (probe and worker count)."""
        wait_until(lambda: srv.text().count("connected to export") >= n,
                   "%d admitted connections" % n)

    def test_busy_is_told_before_any_key_and_a_client_waits_its_turn(self):
        disk = self.image("disk.img", 16 * MiB, MiB)
        keys = self.keys(["hog", "tester"])
        srv = self.server("--file", disk, "--key-file", keys, "--max-connections", "1")
        hog = self.hog(srv.port, keys, "hog")
        self.held(srv, 1)               # the connection it keeps
        sh = raw_hello(srv.port, "tester")
        self.assertEqual(len(sh), 72, "a full ServerHello, not a closed connection")
        magic, version, status, retry = struct.unpack(">IHHI", sh[:12])
        self.assertEqual((magic, version, status), (0x4E44534B, 4, 3))
        self.assertTrue(1 <= retry <= 60000, retry)
        self.assertEqual(sh[12:], bytes(60))
        # a wrong key meets BUSY too: no key was used, so none is reported
        wrong = self.write_key("wrong", "tester " + secrets.token_hex(32))
        p = subprocess.Popen([os.path.join(base.BUILD, "netdiskctl"), "info", "--key-file",
                              wrong, "--identity", "tester", self.uri(srv.port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        w = subprocess.Popen([os.path.join(base.BUILD, "netdiskctl"), "info", "--key-file",
                              keys, "--identity", "tester", self.uri(srv.port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)
        self.assertIsNone(w.poll(), "the client waits while the server is busy")
        hog.kill()
        hog.wait()
        out, err = w.communicate(timeout=60)
        self.assertEqual(w.returncode, 0, err)
        self.assertIn(CTL_BUSY, err)
        self.assertIn("16777216", out)
        out, err = p.communicate(timeout=60)
        self.assertIn(CTL_BUSY, err)
        self.assertIn("rejected the key", err)      # once there was room
        self.assertEqual(p.returncode, 4, err)
        self.assertIn("told busy before the handshake: at max-connections (1)", srv.text())

    def test_one_identity_cannot_take_every_place(self):
        disk = self.image("disk.img", 16 * MiB, MiB)
        keys = self.keys(["alice", "bob"])
        conf = os.path.join(self.tmp, "d.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\nmax-connections-per-identity = 2\n"
                    "[export disk]\npath = %s\n" % (keys, disk))
        srv = self.server("--config", conf)
        self.hog(srv.port, keys, "alice")
        self.hog(srv.port, keys, "alice")
        wait_until(lambda: srv.text().count("connected to export") >= 2, "alice's two")
        wait_until(lambda: len(raw_hello(srv.port, "alice")) == 72 and
                   struct.unpack(">H", raw_hello(srv.port, "alice")[6:8])[0] == 3,
                   "alice's third told busy")
        r = self.ctl("info", self.uri(srv.port, "disk"), key=keys, identity="bob")
        self.assertNotIn(CTL_BUSY, r.stderr)
        self.assertIn("identity 'alice' is at max-connections-per-identity (2)", srv.text())
        with open(conf, "w") as f:
            f.write("key-file = %s\nmax-connections-per-identity = 0\n"
                    "[export disk]\npath = %s\n" % (keys, disk))
        r = subprocess.run([os.path.join(base.BUILD, "netdiskd"), "--check", "--config", conf],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("max-connections-per-identity must be 1..65536", r.stderr)

    def test_a_place_taken_during_the_handshake_is_full_not_a_key_error(self):
        """The client passes the admission check, is held before ClientFinished
        while another client takes the last place, and gets INFO FULL."""
        if subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True).returncode:
            self.skipTest("strace cannot trace here")
        disk = self.image("disk.img", 16 * MiB, MiB)
        keys = self.keys(["hog", "tester"])
        srv = self.server("--file", disk, "--key-file", keys, "--max-connections", "1",
                          "--handshake-timeout", "30")
        # the third sendto is ClientFinished (after getaddrinfo's netlink query
        # and the ClientHello): hold it 5 s
        w = subprocess.Popen(["strace", "-qq", "-o", "/dev/null", "-e", "trace=sendto,write",
                              "-e", "inject=sendto:delay_enter=5000000:when=3",
                              os.path.join(base.BUILD, "netdiskctl"), "info", "--key-file",
                              keys, "--identity", "tester", self.uri(srv.port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=base.traced_env())
        time.sleep(1)
        hog = self.hog(srv.port, keys, "hog")
        self.held(srv, 1)
        wait_until(lambda: "told FULL after the handshake" in srv.text(), "FULL", 30)
        hog.kill()
        hog.wait()
        out, err = w.communicate(timeout=60)
        self.assertEqual(w.returncode, 0, err)
        self.assertIn(CTL_BUSY, err)
        self.assertNotIn("key", err)

    def test_a_boot_storm_of_200_clients_all_finish_intact(self):
        """200 clients with identities of their own and 4 connections each
        download one copy-on-write export at once from a netdiskd with its
        default limits (256 connections)."""
        n = int(os.environ.get("NETDISK_STORM_CLIENTS", "200"))
        names = ["c%d" % i for i in range(n)]
        keys = self.keys(names)
        basef = self.image("base.img", 8 * MiB, 8 * MiB)
        want = base.sha(basef)
        overlays = os.path.join(self.tmp, "overlays")
        os.mkdir(overlays)
        conf = os.path.join(self.tmp, "cow.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n[export golden]\npath = %s\ncopy-on-write = %s\n"
                    % (keys, basef, overlays))
        srv = self.server("--config", conf)
        t0 = time.time()
        procs = []
        for name in names:
            procs.append(self.storm_client(srv.port, keys, name))
        failed, busy = [], 0
        for out, p in procs:
            _, err = p.communicate(timeout=600)
            busy += CTL_BUSY in err
            if p.returncode:
                failed.append(err.strip())
                continue
            if base.sha(out) != want:
                failed.append("%s: wrong data" % out)
            os.unlink(out)
        print("\nstorm: %d clients x 4 connections, %d failed, %d told busy, %.1f s"
              % (n, len(failed), busy, time.time() - t0), file=sys.stderr)
        odd = [l for l in srv.text().splitlines()
               if "connected" not in l and "told busy" not in l and "suppressed" not in l]
        self.assertEqual(len(failed), 0, "\n".join(sorted(set(failed)) + odd[:20]))
        self.assertNotIn("rejected the key", srv.text())

    def test_reloads_and_sigterm_during_a_storm(self):
        """SIGHUP twice while 64 clients connect, then SIGTERM while the rest
        still run: every client that finishes has the right data, none is
        told its key is wrong, and netdiskd exits cleanly."""
        names = ["s%d" % i for i in range(64)]
        keys = self.keys(names)
        basef = self.image("base.img", 16 * MiB, 16 * MiB)
        want = base.sha(basef)
        conf = os.path.join(self.tmp, "d.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\nmax-connections = 64\n[export golden]\npath = %s\n"
                    "read-only = yes\n" % (keys, basef))
        srv = self.server("--config", conf)
        procs = []
        for name in names:
            procs.append(self.storm_client(srv.port, keys, name))
            if name in ("s16", "s40"):
                srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: srv.text().count("reloaded") >= 2, "two reloads")
        wait_until(lambda: srv.text().count("connected to export") >= 32, "half connected", 60)
        self.assertEqual(srv.stop(signal.SIGTERM, timeout=120), 0, srv.text()[-2000:])
        finished = 0
        for out, p in procs:
            _, err = p.communicate(timeout=300)
            self.assertNotIn("rejected the key", err)
            if p.returncode == 0:
                finished += 1
                self.assertEqual(base.sha(out), want, out)
        print("\nstorm with reloads and SIGTERM: %d of %d finished" % (finished, len(procs)),
              file=sys.stderr)
        self.assertNotIn("rejected the key", srv.text())


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args, rest = ap.parse_known_args()
    base.BUILD = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
