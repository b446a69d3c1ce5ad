#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""libnetdisk.so.0 through its public API (ndlib), against a real netdiskd on
loopback; and the library's exported symbols against debian's symbols file."""

import argparse
import errno
import os
import re
import signal
import subprocess
import sys
import unittest

import test_netdiskd as base
from test_netdiskd import MiB, pattern

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class LibTest(base.Harness):
    def lib(self, port, *ops, export="", key=None, identity="tester", check=True):
        cmd = [os.path.join(base.BUILD, "ndlib"), key or self.key, identity,
               self.uri(port, export)] + [str(o) for o in ops]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and r.returncode:
            self.fail("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))
        return r

    def test_writes_and_reads_of_any_size_cross_requests_and_reach_the_file(self):
        disk = self.image("disk.img", 16 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        # 3 MiB + 17 at an odd offset: four requests of at most 1 MiB
        off, n = 4097, 3 * MiB + 17
        out = self.lib(srv.port, "info", "write", off, n, "fua", "check", off, n,
                       "write", 9 * MiB, 5, "flush").stdout
        self.assertRegex(out, r"size 16777216 block 512 max 1048576 ro 0 flush 1 fua 1 "
                         r"trim 1 zero 1 verifier [0-9a-f]{16}")
        with open(disk, "rb") as f:
            f.seek(off)
            self.assertEqual(f.read(n), pattern(off, n))
            f.seek(9 * MiB)
            self.assertEqual(f.read(5), pattern(9 * MiB, 5))
        dumped = os.path.join(self.tmp, "dump")
        self.lib(srv.port, "dump", off, n, dumped)
        with open(dumped, "rb") as f:
            self.assertEqual(f.read(), pattern(off, n))

    def test_zero_and_trim_read_back_as_zeroes(self):
        disk = self.image("disk.img", 8 * MiB, 8 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        self.lib(srv.port, "zero", MiB + 3, 2 * MiB, "fua", "trim", 5 * MiB, MiB, "fua")
        with open(disk, "rb") as f:
            f.seek(MiB + 3)
            self.assertEqual(f.read(2 * MiB), bytes(2 * MiB))
            f.seek(5 * MiB)
            self.assertEqual(f.read(MiB), bytes(MiB))

    def test_errors_come_with_their_errno_and_a_message(self):
        disk = self.image("disk.img", 4 * MiB)
        ro = self.image("ro.img", MiB)
        conf = os.path.join(self.tmp, "d.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n[export disk]\npath = %s\n[export ro]\npath = %s\n"
                    "read-only = yes\n" % (self.key, disk, ro))
        srv = self.server("--config", conf)
        out = self.lib(srv.port, "expect-errno", errno.EINVAL, "write", 4 * MiB - 1, 2,
                       "expect-errno", errno.EINVAL, "check", 2**63, 1,
                       export="disk").stdout
        self.assertIn("beyond the export's end", out)
        out = self.lib(srv.port, "expect-errno", errno.EROFS, "write", 0, 4096,
                       "check", 0, 0, export="ro").stdout
        self.assertIn("read-only", out)
        out = self.lib(srv.port, "expect-errno", errno.ENOENT, "info", export="nope").stdout
        self.assertIn("nope", out)
        wrong = self.write_key("wrong", self.keygen())
        out = self.lib(srv.port, "expect-errno", errno.EACCES, "info", export="disk",
                       key=wrong).stdout
        self.assertIn("rejected the key", out)
        out = self.lib(base.free_port(), "expect-errno", errno.ECONNREFUSED, "info").stdout
        self.assertIn("127.0.0.1", out)
        # a key file others may read is refused, as netdiskctl refuses it
        os.chmod(self.key, 0o644)
        r = self.lib(srv.port, "info", export="disk", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("errno %d" % errno.EINVAL, r.stderr)

    def test_a_server_gone_mid_call_fails_the_call_and_kills_the_handle(self):
        disk = self.image("disk.img", 64 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        proc = subprocess.Popen([os.path.join(base.BUILD, "ndlib"), self.key, "tester",
                                 self.uri(srv.port), "info", "expect-errno", str(errno.ECONNRESET),
                                 "threads", "1", str(64 * MiB),
                                 "expect-errno", str(errno.ECONNRESET), "flush"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        srv.wait_log("connected", timeout=30)
        srv.stop(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        # the threads' call fails with the connection; the flush after it, on
        # the dead handle, fails at once with ECONNRESET
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertRegex(out, r"threads: errno %d: connection lost: " % errno.ECONNRESET)
        self.assertIn("flush: errno %d: the connection is gone" % errno.ECONNRESET, out)

    def test_threads_share_one_handle(self):
        disk = self.image("disk.img", 16 * MiB)
        srv = self.server("--file", disk, "--key-file", self.key)
        self.lib(srv.port, "threads", 8, MiB + 4096)
        with open(disk, "rb") as f:
            self.assertEqual(f.read(8 * (MiB + 4096)), pattern(0, 8 * (MiB + 4096)))

    def test_list_gives_the_exports_the_identity_may_use(self):
        a = self.image("a.img", MiB)
        b = self.image("b.img", 2 * MiB)
        conf = os.path.join(self.tmp, "d.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n[export a]\npath = %s\nread-only = yes\n"
                    "[export b]\npath = %s\nallow = someone-else\n" % (self.key, a, b))
        srv = self.server("--config", conf)
        out = self.lib(srv.port, "list").stdout
        self.assertIn("export a 1048576 ro\n", out)
        self.assertNotIn("export b", out)

    def test_the_library_exports_what_its_symbols_file_lists_and_nothing_else(self):
        so = os.path.join(base.BUILD, "libnetdisk.so.0")
        self.assertTrue(os.path.exists(so))
        dyn = subprocess.run(["readelf", "-d", so], capture_output=True, text=True).stdout
        self.assertIn("Library soname: [libnetdisk.so.0]", dyn)
        nm = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True,
                            text=True, check=True).stdout
        # nm writes NAME@@VERSION for a default version, NETDISK_0 for the node
        exported = sorted(re.sub("@@", "@", line.split()[-1]) for line in nm.splitlines())
        exported = [s if "@" in s else s + "@" + s for s in exported]
        with open(os.path.join(SRC, "debian", "libnetdisk0.symbols")) as f:
            listed = sorted(m.group(1) for m in
                            (re.match(r"^ (\S+) ", line) for line in f) if m)
        self.assertEqual(exported, listed)
        with open(os.path.join(SRC, "include", "libnetdisk.h")) as f:
            declared = set(re.findall(r"\b(netdisk_[a-z_]+)\(", f.read()))
        self.assertEqual(declared, {s.split("@")[0] for s in exported} - {"NETDISK_0"})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args, rest = ap.parse_known_args()
    base.BUILD = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
