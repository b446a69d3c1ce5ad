#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""nbdkit-netdisk-plugin: a netdisk export served by nbdkit on a private Unix
socket (nbdkit -U -) to Debian's own NBD tools: qemu-img, qemu-io, nbdcopy
and nbdinfo, against a real netdiskd on loopback."""

import argparse
import json
import os
import re
import subprocess
import sys
import unittest

import test_netdiskd as base
from test_netdiskd import MiB

PLUGIN = None


class NbdkitTest(base.Harness):
    def nbdkit(self, port, run, export="", key=None, check=True, verbose=False, extra=()):
        """Runs `run` (a shell command, $uri the NBD URI) under the plugin."""
        cmd = (["nbdkit", "-U", "-"] + (["-v"] if verbose else []) +
               [PLUGIN, "uri=" + self.uri(port, export), "key-file=" + (key or self.key),
                "identity=tester"] + list(extra) + ["--run", run])
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=self.tmp)
        if check and r.returncode:
            self.fail("%s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                 r.stderr[-3000:]))
        return r

    def test_qemu_img_convert_to_qcow2_and_back_is_byte_identical(self):
        src = self.image("src.img", 48 * MiB + 4096, 7 * MiB)
        with open(src, "r+b") as f:       # data after a hole, and at the end
            f.seek(30 * MiB)
            f.write(os.urandom(3 * MiB))
            f.seek(48 * MiB)
            f.write(os.urandom(4096))
        dst = self.image("dst.img", 48 * MiB + 4096, 48 * MiB + 4096)   # all noise
        conf = os.path.join(self.tmp, "d.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n[export src]\npath = %s\nread-only = yes\n"
                    "[export dst]\npath = %s\n" % (self.key, src, dst))
        srv = self.server("--config", conf)
        qcow = os.path.join(self.tmp, "out.qcow2")
        self.nbdkit(srv.port, "qemu-img convert -f raw -O qcow2 \"$uri\" " + qcow, "src")
        info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", qcow],
                                         capture_output=True, text=True, check=True).stdout)
        self.assertEqual(info["virtual-size"], 48 * MiB + 4096)
        self.assertLess(info["actual-size"], 20 * MiB)    # the holes stayed holes
        self.nbdkit(srv.port, "qemu-img convert -n -f qcow2 -O raw %s \"$uri\"" % qcow, "dst")
        self.assertEqual(base.sha(dst), base.sha(src))

    def test_nbdcopy_through_the_plugin_both_ways_on_several_connections(self):
        disk = self.image("disk.img", 40 * MiB, 40 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        out = os.path.join(self.tmp, "out.raw")
        self.nbdkit(srv.port, "nbdcopy --connections=4 --threads=4 \"$uri\" " + out)
        self.assertEqual(base.sha(out), base.sha(disk))
        up = self.image("up.raw", 40 * MiB, 40 * MiB)
        self.nbdkit(srv.port, "nbdcopy --connections=4 --threads=4 --flush %s \"$uri\"" % up)
        self.assertEqual(base.sha(disk), base.sha(up))
        # nbdcopy used multi-conn: several netdisk connections at once
        self.assertGreaterEqual(srv.text().count("connected to export"), 4 * 2)

    def test_nbdinfo_shows_the_size_and_the_flags(self):
        disk = self.image("disk.img", 40 * MiB + 512)
        ro = self.image("ro.img", MiB)
        conf = os.path.join(self.tmp, "d.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n[export disk]\npath = %s\n[export ro]\npath = %s\n"
                    "read-only = yes\n" % (self.key, disk, ro))
        srv = self.server("--config", conf)
        rw = json.loads(self.nbdkit(srv.port, "nbdinfo --json \"$uri\"", "disk").stdout)
        e = rw["exports"][0]
        self.assertEqual(e["export-size"], 40 * MiB + 512)
        for flag in ("can_flush", "can_fua", "can_trim", "can_zero", "can_multi_conn"):
            self.assertTrue(e[flag], flag)
        self.assertFalse(e["is_read_only"])
        r = json.loads(self.nbdkit(srv.port, "nbdinfo --json \"$uri\"", "ro").stdout)
        self.assertTrue(r["exports"][0]["is_read_only"])
        self.assertEqual(r["exports"][0]["export-size"], MiB)

    def test_flush_fua_trim_and_zero_pass_through(self):
        disk = self.image("disk.img", 8 * MiB, 8 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        # writeback, so that FUA is only where -f asks for it
        io = ("qemu-io -f raw -t writeback -c 'write -P 0xab -f 0 1M' -c 'write -z 1M 1M' "
              "-c 'discard 2M 1M' -c 'write -z -f 3M 64k' -c 'write -P 0xcd 4M 4k' "
              "-c flush \"$uri\"")
        r = self.nbdkit(srv.port, io, verbose=True)
        log = r.stderr
        self.assertRegex(log, r"netdisk: pwrite count=1048576 offset=0 fua=1")
        self.assertRegex(log, r"netdisk: zero count=1048576 offset=1048576 may_trim=\d fua=0")
        self.assertRegex(log, r"netdisk: trim count=1048576 offset=2097152 fua=0")
        self.assertRegex(log, r"netdisk: zero count=65536 offset=3145728 may_trim=\d fua=1")
        self.assertRegex(log, r"netdisk: pwrite count=4096 offset=4194304 fua=0")
        self.assertRegex(log, r"netdisk: flush")
        with open(disk, "rb") as f:
            self.assertEqual(f.read(MiB), b"\xab" * MiB)
            self.assertEqual(f.read(2 * MiB), bytes(2 * MiB))
            self.assertEqual(f.read(65536), bytes(65536))

    def test_a_wrong_key_gives_a_clear_nbdkit_error(self):
        disk = self.image("disk.img", MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        wrong = self.write_key("wrong", self.keygen())
        r = self.nbdkit(srv.port, "nbdinfo \"$uri\"", key=wrong, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"nbdkit: netdisk\[\d+\]: error: .*server rejected the "
                         r"key for identity 'tester'")
        # and a server that is not there, and a parameter that does not exist
        r = self.nbdkit(base.free_port(), "nbdinfo \"$uri\"", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"netdisk\[\d+\]: error: .*127\.0\.0\.1")
        r = self.nbdkit(srv.port, "true", check=False, extra=["bogus=1"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown parameter 'bogus'", r.stderr)

    def test_help_names_the_parameters(self):
        r = subprocess.run(["nbdkit", PLUGIN, "--help"], capture_output=True, text=True)
        for p in ("uri=", "key-file=", "identity=", "server-name=", "timeout="):
            self.assertIn(p, r.stdout)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--plugin", required=True)
    args, rest = ap.parse_known_args()
    base.BUILD = os.path.abspath(args.build_dir)
    PLUGIN = os.path.abspath(args.plugin)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
