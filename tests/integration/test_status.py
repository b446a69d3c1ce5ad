#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""What an administrator sees: netdiskctl status over netdiskd's admin
socket (--admin-socket), as a table and as JSON, and the same counters in
the metrics file (--metrics-file) for node_exporter's textfile collector."""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
import unittest

import test_netdiskd as base
from test_admission import raw_hello, wait_until
from test_netdiskd import MiB


def read(path):
    with open(path) as f:
        return f.read()


class StatusTest(base.Harness):
    def status_server(self, *extra, listen=None, port=None):
        self.sock = os.path.join(self.tmp, "admin.sock")
        self.metrics = os.path.join(self.tmp, "netdiskd.prom")
        self.disk = self.image("disk.img", 16 * MiB, MiB)
        self.keys = self.write_key("keys", "alice %s\nbob %s\n007 %s" % (
            secrets.token_hex(32), secrets.token_hex(32), secrets.token_hex(32)))
        return self.server("--file", self.disk, "--export-name", "golden", "--key-file",
                           self.keys, "--admin-socket", self.sock, "--metrics-file",
                           self.metrics, *extra, listen=listen, port=port)

    def status(self, *args, check=True):
        r = subprocess.run([os.path.join(base.BUILD, "netdiskctl"), "status", "--socket",
                            self.sock] + list(args), capture_output=True, text=True,
                           timeout=30)
        if check:
            self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def hog(self, port, identity):
        """A client that holds one connection: a download into a pipe nobody reads."""
        p = subprocess.Popen([os.path.join(base.BUILD, "netdiskctl"), "copy", "--key-file",
                              self.keys, "--identity", identity, "--connections", "1",
                              self.uri(port, "golden"), "-"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (p.kill(), p.wait(), p.stdout.close()))
        return p

    def metric(self, name):
        with open(self.metrics) as f:
            text = f.read()
        m = re.search(r"^%s (\d+)$" % name, text, re.M)
        self.assertIsNotNone(m, "%s not in the metrics file:\n%s" % (name, text))
        return int(m.group(1))

    def test_status_lists_each_connection_with_its_identity_and_export(self):
        srv = self.status_server()
        hog = self.hog(srv.port, "alice")
        wait_until(lambda: json.loads(self.status("--json").stdout)["server"]["connections"],
                   "the connection in the status")
        st = json.loads(self.status("--json").stdout)
        self.assertEqual(len(st["connections"]), 1, st)
        c = st["connections"][0]
        self.assertEqual((c["state"], c["identity"], c["export"], c["address"]),
                         ("serving", "alice", "golden", "127.0.0.1"), c)
        # the download's first requests were read; the pipe nobody reads
        # holds the rest of them in flight
        self.assertGreaterEqual(c["requests"], 1, c)
        self.assertGreaterEqual(c["bytes_read"], 1, c)
        self.assertGreaterEqual(c["requests"], c["in_flight"], c)
        for key in ("uptime", "connections", "handshakes", "admitted", "busy", "requests",
                    "bytes_read", "bytes_written", "record_buffer_bytes"):
            self.assertIsInstance(st["server"][key], int, key)
        # the connection's four workers each hold a record buffer
        self.assertGreaterEqual(st["server"]["record_buffer_bytes"], 4 * MiB, st)
        self.assertGreaterEqual(st["server"]["admitted"], 1, st)
        table = self.status().stdout
        self.assertIn("1 connection(s) serving", table)
        self.assertRegex(table, r"\n127\.0\.0\.1 +serving +alice +golden ")
        # once the client is gone, its requests stay in the server's totals
        requests = c["requests"]
        hog.kill()
        hog.wait()
        wait_until(lambda: not json.loads(self.status("--json").stdout)["server"]["connections"],
                   "the connection gone from the status")
        st = json.loads(self.status("--json").stdout)
        self.assertEqual(st["connections"], [])
        self.assertGreaterEqual(st["server"]["requests"], requests, st)

    def test_json_keeps_names_strings_whatever_they_look_like(self):
        srv = self.status_server()
        self.hog(srv.port, "007")
        wait_until(lambda: json.loads(self.status("--json").stdout)["connections"],
                   "the connection in the status")
        c = json.loads(self.status("--json").stdout)["connections"][0]
        self.assertEqual(c["identity"], "007", c)

    def test_an_ipv4_client_of_a_dual_stack_socket_is_named_by_its_ipv4_address(self):
        # as on the packaged netdiskd.socket (BindIPv6Only=both)
        activate = shutil.which("systemd-socket-activate")
        if not activate:
            self.skipTest("systemd-socket-activate not installed")
        self.status_server()    # the keys and the disk
        port = base.free_port()
        sock = os.path.join(self.tmp, "act.sock")
        log = open(os.path.join(self.tmp, "act.log"), "w")
        env = [a for v in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")
               if v in os.environ for a in ("-E", v)]
        p = subprocess.Popen([activate, "-l", "[::]:%d" % port] + env +
                             [os.path.join(base.BUILD, "netdiskd"), "--file",
                              self.image("act.img", MiB), "--export-name", "golden",
                              "--key-file", self.keys, "--admin-socket", sock],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: "Listening on" in read(log.name), "the listen socket")
            self.hog(port, "alice")
            self.sock = sock
            wait_until(lambda: os.path.exists(sock) and
                       json.loads(self.status("--json").stdout)["connections"],
                       "the connection in the status")
            c = json.loads(self.status("--json").stdout)["connections"][0]
            self.assertEqual(c["address"], "127.0.0.1", c)
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(30)
            log.close()
            self.assertEqual(rc, 0, read(log.name))

    def test_busy_answers_are_counted_in_the_status_and_the_metrics(self):
        srv = self.status_server("--max-connections", "1")
        self.hog(srv.port, "alice")
        wait_until(lambda: srv.text().count("connected to export") >= 1, "the hog admitted")
        sh = raw_hello(srv.port, "bob")
        self.assertEqual(len(sh), 72, "a full ServerHello, not a closed connection")
        self.assertEqual(struct.unpack(">IHH", sh[:8]), (0x4E44534B, 4, 3), "status BUSY")
        wait_until(lambda: json.loads(self.status("--json").stdout)["server"]["busy"] >= 1,
                   "the BUSY answer counted")
        # the metrics file follows within its 10 s period, and again at the stop
        wait_until(lambda: self.metric("netdiskd_busy_total") >= 1, "busy in the metrics",
                   timeout=15)
        self.assertGreaterEqual(self.metric("netdiskd_admitted_total"), 1)
        self.assertEqual(oct(stat.S_IMODE(os.stat(self.metrics).st_mode)), "0o644")
        with open(self.metrics) as f:
            for line in f:
                self.assertRegex(line, r"^(# (HELP|TYPE) netdiskd_\w+ .+|netdiskd_\w+ \d+)\n$")
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(self.metric("netdiskd_connections"), 0)
        self.assertFalse(os.path.exists(self.sock), "the admin socket is removed at the stop")
        self.assertFalse(os.path.exists(self.metrics + ".tmp"))

    def test_the_admin_socket_is_for_its_owner_and_group_only(self):
        srv = self.status_server()
        self.assertEqual(oct(stat.S_IMODE(os.stat(self.sock).st_mode)), "0o660")
        if os.geteuid() != 0:
            self.skipTest("needs root to try as another user")
        os.chmod(self.tmp, 0o755)
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            os.path.join(base.BUILD, "netdiskctl"), "status", "--socket",
                            self.sock], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("root or the netdiskd group only", r.stderr)
        self.assertEqual(srv.proc.poll(), None)

    def test_clear_errors_without_a_server_and_for_bad_paths(self):
        self.sock = os.path.join(self.tmp, "none.sock")
        r = self.status(check=False)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("cannot reach netdiskd at %s" % self.sock, r.stderr)
        # a file in the way of the socket is not removed, and the disks
        # are served without the admin socket
        way = os.path.join(self.tmp, "in-the-way")
        with open(way, "w") as f:
            f.write("data\n")
        disk = self.image("d.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key, "--admin-socket", way)
        srv.wait_log("a file that is not a socket is in the way")
        srv.wait_log("serving without the admin socket")
        self.assertEqual(self.ctl("info", self.uri(srv.port)).returncode, 0)
        with open(way) as f:
            self.assertEqual(f.read(), "data\n")
        # nor is a live netdiskd's socket taken over by a second one
        live = self.status_server()
        other = self.server("--file", self.image("other.img", MiB), "--key-file", self.key,
                            "--admin-socket", self.sock)
        other.wait_log("another netdiskd answers there")
        self.status()
        self.assertEqual(other.stop(), 0)
        self.assertTrue(os.path.exists(self.sock), "the second netdiskd removed the first's socket")
        self.status()
        self.assertEqual(live.proc.poll(), None)
        p = subprocess.run([os.path.join(base.BUILD, "netdiskd"), "--file", disk,
                            "--key-file", self.key, "--admin-socket", "relative.sock"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--admin-socket takes an absolute path", p.stderr)

    def test_status_survives_many_readers_at_once(self):
        srv = self.status_server()
        self.hog(srv.port, "alice")
        readers = [subprocess.Popen([os.path.join(base.BUILD, "netdiskctl"), "status",
                                     "--json", "--socket", self.sock],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(20)]
        ok = 0
        for r in readers:
            out, err = r.communicate(timeout=30)
            # beyond the four answers at once a reader may find its answer
            # cut; it says so, and the rest are whole
            if r.returncode == 0:
                json.loads(out)
                ok += 1
            else:
                self.assertIn("answer was cut off", err)
        self.assertGreaterEqual(ok, 4)
        # the accept loop kept going
        self.assertEqual(self.ctl("info", self.uri(srv.port, "golden"), key=self.keys,
                                  identity="bob").returncode, 0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args, rest = ap.parse_known_args()
    base.BUILD = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
