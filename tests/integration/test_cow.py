#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""Copy-on-write exports against a real netdiskd: overlays keyed by export
and base, created only by writers, memory that does not grow with the
export, and reset that cannot race a connecting server."""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
import unittest

import test_netdiskd as base
from test_netdiskd import MiB, pattern

GiB = 1 << 30
TiB = 1 << 40


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


class CowTest(base.Harness):
    def keys_for(self, names):
        lines, paths = [], {}
        for n in names:
            k = self.keygen()
            lines.append("%s %s" % (n, k))
            paths[n] = self.write_key(n + ".key", k)
        return self.write_key("keys", "\n".join(lines)), paths

    def conf(self, text, name="cow.conf"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def golden(self, names, size, random_bytes):
        """A copy-on-write export 'golden' for names, each with its own key."""
        keys, k = self.keys_for(names)
        base_img = self.image("base.img", size, random_bytes)
        ovl = os.path.join(self.tmp, "overlays")
        os.mkdir(ovl)
        conf = self.conf("key-file = %s\n[export golden]\npath = %s\ncopy-on-write = %s\n"
                         % (keys, base_img, ovl))
        return k, base_img, ovl, conf

    def ctl_overlay(self, *args, check=True):
        r = subprocess.run([os.path.join(base.BUILD, "netdiskctl"), "overlay"] + list(args),
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode:
            self.fail("overlay %s failed: %s" % (" ".join(args), r.stderr))
        return r

    def test_reset_during_connect_keeps_flushed_data(self):
        k, base_img, ovl, conf = self.golden(["alice"], 8 * MiB, MiB)
        srv = self.server("--config", conf)
        self.assertEqual(self.req(srv.port, "write:0:4096", "flush", identity="alice",
                                  key=k["alice"], export="golden").stdout, "ok\nok\n")
        srv.stop()
        # the server pauses between opening the overlay and locking it
        os.environ["NETDISKD_TEST_OVERLAY_PAUSE_MS"] = "2000"
        try:
            srv = self.server("--config", conf)
        finally:
            del os.environ["NETDISKD_TEST_OVERLAY_PAUSE_MS"]
        p = subprocess.Popen([os.path.join(base.BUILD, "ndreq"), k["alice"], "alice",
                              self.uri(srv.port, "golden"), "write:65536:4096", "flush"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        srv.wait_log("pausing before the overlay lock")
        self.ctl_overlay("reset", "-c", conf, "golden", "alice")
        out, err = p.communicate(60)
        self.assertEqual(out, "ok\nok\n", err)
        srv.stop()
        srv = self.server("--config", conf)
        r = self.req(srv.port, "read:65536:4096", identity="alice", key=k["alice"],
                     export="golden")
        self.assertEqual(r.stdout, "ok\n")
        data = self.download_from(srv.port, k["alice"], "alice", "golden")
        self.assertEqual(data[65536:65536 + 4096], pattern(65536, 4096),
                         "a flushed write vanished")
        with open(base_img, "rb") as f:
            self.assertEqual(data[:4096], f.read(4096), "the reset did not take")

    def download_from(self, port, key, identity, export):
        out = os.path.join(self.tmp, "dl-%s-%s.img" % (identity, export))
        if os.path.exists(out):
            os.unlink(out)
        self.ctl("copy", self.uri(port, export), out, key=key, identity=identity)
        with open(out, "rb") as f:
            return f.read()

    def map_bits(self, ovl, identity):
        """The bits in identity's map file as the file holds them now."""
        for root, _, files in os.walk(ovl):
            if identity + ".map" in files:
                with open(os.path.join(root, identity + ".map"), "rb") as f:
                    data = f.read()
                return data[4096:] if data.startswith(b"NDOVMAP2") else data
        return b""

    def test_map_bits_reach_the_file_only_after_their_data_is_synced(self):
        k, base_img, ovl, conf = self.golden(["alice"], 16 * MiB, MiB)
        srv = self.server("--config", conf)
        # a write without FLUSH: its bit may live in memory only, since the
        # map file can reach the disk before the data does
        p = subprocess.Popen([os.path.join(base.BUILD, "ndreq"), k["alice"], "alice",
                              self.uri(srv.port, "golden"), "write:0:4096", "sleep:5"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline(), "ok\n")
        self.assertEqual(self.map_bits(ovl, "alice").strip(b"\0"), b"",
                         "a map bit is in the file before its data was synced")
        p.kill()
        p.wait()
        # FLUSH and FUA put it there, after the data
        self.assertEqual(self.req(srv.port, "write:8192:4096", "flush", identity="alice",
                                  key=k["alice"], export="golden").stdout, "ok\nok\n")
        self.assertEqual(self.map_bits(ovl, "alice")[:1], b"\x05")
        self.assertEqual(self.req(srv.port, "fua:16384:4096", identity="alice",
                                  key=k["alice"], export="golden").stdout, "ok\n")
        self.assertEqual(self.map_bits(ovl, "alice")[:1], b"\x15")

    def acked_writes_survive_sigkill(self, conf, export, key, identity, count=48):
        """count pipelined 1 MiB writes, no FLUSH, netdiskd killed with
        SIGKILL in the middle of them; after a restart every acknowledged
        write reads back. Returns how many were acknowledged."""
        srv = self.server("--config", conf)
        p = subprocess.Popen([os.path.join(base.BUILD, "ndreq"), key, identity,
                              self.uri(srv.port, export), "writes:%d" % count],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        acked = []
        while len(acked) < count // 2:
            line = p.stdout.readline()
            self.assertTrue(line.startswith("acked"), line + p.stderr.read())
            acked.append(int(line.split()[1]))
        srv.stop(signal.SIGKILL)
        out, _ = p.communicate(60)
        acked += [int(line.split()[1]) for line in out.splitlines() if line.startswith("acked")]
        srv = self.server("--config", conf)
        data = self.download_from(srv.port, key, identity, export)
        for off in acked:
            self.assertEqual(data[off:off + MiB], pattern(off, MiB),
                             "acknowledged write at %d lost when netdiskd was killed" % off)
        # a partial block and zeroes, also without FLUSH
        # a partial block, zeroes, and a block of a larger write changed
        # again, also without FLUSH
        o = 110 * MiB
        self.assertEqual(self.req(srv.port, "write:%d:1000" % (100 * MiB + 100),
                                  "zero:%d:8192" % (101 * MiB), "write:%d:65536" % o,
                                  "zero:%d:4096" % (o + 8192), "zero:%d:40960" % (120 * MiB),
                                  "write:%d:4096" % (120 * MiB + 4096), identity=identity,
                                  key=key, export=export).stdout, "ok\n" * 6)
        srv.stop(signal.SIGKILL)
        srv = self.server("--config", conf)
        data = self.download_from(srv.port, key, identity, export)
        self.assertEqual(data[100 * MiB + 100:100 * MiB + 1100], pattern(100 * MiB + 100, 1000))
        self.assertEqual(data[101 * MiB:101 * MiB + 8192], bytes(8192))
        self.assertEqual(data[o:o + 65536],
                         pattern(o, 8192) + bytes(4096) + pattern(o + 12288, 65536 - 12288))
        self.assertEqual(data[120 * MiB:120 * MiB + 40960],
                         bytes(4096) + pattern(120 * MiB + 4096, 4096) + bytes(32768))
        srv.stop()
        return len(acked)

    def test_acked_writes_survive_sigkill_on_copy_on_write(self):
        k, base_img, ovl, conf = self.golden(["alice"], 128 * MiB, 128 * MiB)
        n = self.acked_writes_survive_sigkill(conf, "golden", k["alice"], "alice")
        sys.stderr.write("copy-on-write: %d acknowledged writes survived SIGKILL\n" % n)
        # the base is never written
        with open(base_img, "rb") as f:
            self.assertNotEqual(f.read(MiB), pattern(0, MiB))

    def test_a_partial_block_write_killed_midway_keeps_the_blocks_acked_part(self):
        """Two partial writes to one block, the way ext4 with 1 KiB blocks
        writes: the first is acknowledged, the second reaches the image and
        netdiskd dies before acknowledging it. The first must survive."""
        if subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True).returncode:
            self.skipTest("strace cannot trace here")
        k, base_img, ovl, conf = self.golden(["alice"], 8 * MiB, 0)
        img = os.path.join(ovl, "golden", "alice.img")
        asan = ":".join(o for o in (os.environ.get("ASAN_OPTIONS"), "detect_leaks=0") if o)
        # each write to the overlay's image stops for 2 s once it is done
        srv = self.server("--config", conf, env={"ASAN_OPTIONS": asan},
                          wrap=["strace", "-f", "-qq", "-o", "/dev/null", "-P", img,
                                "-e", "trace=pwrite64",
                                "-e", "inject=pwrite64:delay_exit=2s"])
        p = subprocess.Popen([os.path.join(base.BUILD, "ndreq"), k["alice"], "alice",
                              self.uri(srv.port, "golden"), "write:3072:1024",
                              "write:0:3072"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline(), "ok\n", "the first write was not acknowledged")
        time.sleep(1)	# the second write is now in the image, not acknowledged
        with open("/proc/%d/task/%d/children" % (srv.proc.pid, srv.proc.pid)) as f:
            os.kill(int(f.read().split()[0]), signal.SIGKILL)
        srv.stop()
        out, _ = p.communicate(60)
        self.assertEqual(out, "", "the second write was acknowledged before the kill")
        srv = self.server("--config", conf)
        r = self.req(srv.port, "read:0:4096", identity="alice", key=k["alice"], export="golden")
        self.assertEqual(r.stdout, "ok\n")
        data = self.download_from(srv.port, k["alice"], "alice", "golden")
        self.assertEqual(data[3072:4096], pattern(3072, 1024),
                         "an acknowledged partial write was lost when netdiskd was killed")
        # the unacknowledged one is there whole or not at all
        self.assertIn(data[:3072], (bytes(3072), pattern(0, 3072)))

    def test_an_overlay_held_by_another_server_is_busy(self):
        k, base_img, ovl, conf = self.golden(["alice"], 8 * MiB, MiB)
        first = self.server("--config", conf)
        self.assertEqual(self.req(first.port, "write:0:4096", identity="alice",
                                  key=k["alice"], export="golden").stdout, "ok\n")
        # the first server keeps alice's overlay open while she is connected
        p = subprocess.Popen([os.path.join(base.BUILD, "ndreq"), k["alice"], "alice",
                              self.uri(first.port, "golden"), "sleep:10"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while first.text().count("connected to export 'golden'") < 2:
            self.assertLess(time.time(), deadline, first.text())
            time.sleep(0.02)
        second = self.server("--config", conf)
        r = subprocess.run([os.path.join(base.BUILD, "netdiskctl"), "info", "-K", k["alice"],
                            "-i", "alice", self.uri(second.port, "golden")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn("in use by another process on the server", r.stderr)
        self.assertIn("is in use by another process", second.text())
        p.kill()
        p.wait()

    def test_acked_writes_survive_sigkill_on_a_file(self):
        keys, k = self.keys_for(["alice"])
        img = self.image("plain.img", 128 * MiB)
        conf = self.conf("key-file = %s\n[export plain]\npath = %s\n" % (keys, img))
        self.acked_writes_survive_sigkill(conf, "plain", k["alice"], "alice")

    def test_two_exports_in_one_directory_keep_their_own_overlays(self):
        keys, k = self.keys_for(["alice"])
        a = self.image("a.img", 4 * MiB, 4 * MiB)
        b = self.image("b.img", 4 * MiB, 4 * MiB)
        ovl = os.path.join(self.tmp, "overlays")
        os.mkdir(ovl)
        conf = self.conf("key-file = %s\n[export one]\npath = %s\ncopy-on-write = %s\n"
                         "[export two]\npath = %s\ncopy-on-write = %s\n"
                         % (keys, a, ovl, b, ovl))
        srv = self.server("--config", conf)
        self.assertEqual(self.req(srv.port, "write:0:8192", "flush", identity="alice",
                                  key=k["alice"], export="one").stdout, "ok\nok\n")
        got = self.download_from(srv.port, k["alice"], "alice", "two")
        with open(b, "rb") as f:
            self.assertEqual(got, f.read(), "export two shows export one's overlay")

    def test_a_replaced_base_is_refused_by_name(self):
        k, base_img, ovl, conf = self.golden(["alice"], 4 * MiB, MiB)
        srv = self.server("--config", conf)
        self.assertEqual(self.req(srv.port, "write:0:4096", "flush", identity="alice",
                                  key=k["alice"], export="golden").stdout, "ok\nok\n")
        srv.stop()
        # another image of the same size in its place
        os.unlink(base_img)
        self.image("base.img", 4 * MiB, 2 * MiB)
        srv = self.server("--config", conf)
        r = self.req(srv.port, "read:0:4096", identity="alice", key=k["alice"],
                     export="golden")
        self.assertNotEqual(r.returncode, 0)
        srv.wait_log("was made from another base")
        self.assertIn(base_img, srv.text())

    def test_overlays_are_created_by_writers_only_and_memory_stays_flat(self):
        names = ["id%02d" % i for i in range(64)]
        keys, k = self.keys_for(names)
        base_img = os.path.join(self.tmp, "huge.img")
        with open(base_img, "wb") as f:
            f.truncate(TiB)
        ovl = os.path.join(self.tmp, "overlays")
        os.mkdir(ovl)
        conf = self.conf("key-file = %s\n[export golden]\npath = %s\ncopy-on-write = %s\n"
                         % (keys, base_img, ovl))
        srv = self.server("--config", conf)
        held = []
        for i, n in enumerate(names):
            ops = ["read:%d:4096" % (i * GiB)]
            if i % 2:       # half of them write, far apart
                ops += ["write:%d:4096" % (i * 16 * GiB), "write:%d:4096" % (TiB - 4096),
                        "flush"]
            held.append(subprocess.Popen(
                [os.path.join(base.BUILD, "ndreq"), k[n], n, self.uri(srv.port, "golden")]
                + ops + ["sleep:30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True))
        deadline = time.time() + 60
        while srv.text().count("connected to export") < 64 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        peak = rss_kib(srv.proc.pid)
        for p in held:
            p.kill()
            p.wait()
        sys.stderr.write("netdiskd peak RSS with 64 identities on a 1 TiB base: %d KiB\n"
                         % peak)
        if os.environ.get("NETDISK_BUILD_KIND", "release") == "release":
            self.assertLess(peak, 64 * 1024)
        writers = sorted(n for i, n in enumerate(names) if i % 2)
        files = sorted(os.listdir(os.path.join(ovl, "golden")))
        self.assertEqual(files, sorted([n + ext for n in writers
                                        for ext in (".img", ".map", ".jnl0", ".jnl1")]))


    # netdiskctl overlay, by export name -----------------------------------
    def overlay_site(self):
        """golden: copy-on-write on a sparse 32 MiB base (data in its first
        4 MiB); plain: not copy-on-write. alice has written."""
        k, base_img, ovl, conf = self.golden(["alice", "bob"], 32 * MiB, 4 * MiB)
        plain = self.image("plain.img", MiB)
        with open(conf, "a") as f:
            f.write("[export plain]\npath = %s\n" % plain)
        srv = self.server("--config", conf)
        self.assertEqual(self.req(srv.port, "write:%d:65536" % (20 * MiB), "flush",
                                  identity="alice", key=k["alice"], export="golden").stdout,
                         "ok\nok\n")
        srv.stop()
        return k, base_img, ovl, conf

    def test_overlay_commands_take_the_export_name_and_read_the_config(self):
        k, base_img, ovl, conf = self.overlay_site()
        out = self.ctl_overlay("list", "-c", conf).stdout
        self.assertRegex(out, r"golden +alice +\d+ idle")
        listed = json.loads(self.ctl_overlay("list", "-c", conf, "--json", "golden").stdout)
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["export"], "golden")
        self.assertEqual(listed[0]["identity"], "alice")
        self.assertEqual(listed[0]["state"], "idle")
        self.assertGreaterEqual(listed[0]["bytes"], 65536)
        for args, status, msg in ((["list", "nope"], 5, "has no export 'nope'"),
                                  (["reset", "plain", "alice"], 5, "is not copy-on-write"),
                                  (["reset", "golden", "bob"], 5, "no overlay for 'bob'"),
                                  (["reset", "golden", "bad/name"], 2, "invalid identity"),
                                  (["merge", "golden", "alice"], 2, "overlay takes")):
            r = self.ctl_overlay(*(args[:1] + ["-c", conf] + args[1:]), check=False)
            self.assertEqual(r.returncode, status, r.stderr)
            self.assertIn(msg, r.stderr)
        r = self.ctl_overlay("list", "-c", os.path.join(self.tmp, "none.conf"), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("none.conf", r.stderr)
        self.ctl_overlay("reset", "-c", conf, "golden", "alice")
        self.assertEqual(json.loads(self.ctl_overlay("list", "-c", conf, "--json").stdout), [])

    def test_merge_keeps_holes_shows_progress_and_refuses_to_overwrite(self):
        k, base_img, ovl, conf = self.overlay_site()
        out = os.path.join(self.tmp, "merged.img")
        r = self.ctl_overlay("merge", "--progress", "-c", conf, "golden", "alice", out)
        self.assertRegex(r.stderr, r"merging: 32 of 32 MiB \(100%\)\n$")
        with open(base_img, "rb") as f:
            want = bytearray(f.read())
        want[20 * MiB:20 * MiB + 65536] = pattern(20 * MiB, 65536)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), bytes(want))
        # the base's hole (4..32 MiB) stays a hole, but for alice's 64 KiB
        self.assertLess(os.stat(out).st_blocks * 512, 4 * MiB + 65536 + 256 * 1024)
        r = self.ctl_overlay("merge", "-c", conf, "golden", "alice", out, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("exists", r.stderr)

    def wait_for_writer(self, p, outdir, deadline):
        """The pid of the process under p that has a file in outdir open."""
        def descendants(pid):
            try:
                with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                return []
            return kids + [d for k in kids for d in descendants(k)]
        seen = set()
        while time.time() < deadline and p.poll() is None:
            for pid in descendants(p.pid):
                seen.add(pid)
                try:
                    for fd in os.listdir("/proc/%d/fd" % pid):
                        if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(outdir):
                            return pid
                except OSError:
                    pass
            time.sleep(0.01)
        p.kill()
        out, err = p.communicate(timeout=60)
        self.fail("the merge never opened its output (processes seen: %s, exit %s): %s"
                  % (sorted(seen), p.returncode, err.decode(errors="replace")[-2000:]))

    def test_a_merge_that_fails_leaves_no_output(self):
        k, base_img, ovl, conf = self.overlay_site()
        outdir = os.path.join(self.tmp, "out")
        os.mkdir(outdir)
        out = os.path.join(outdir, "merged.img")
        ctl = [os.path.join(base.BUILD, "netdiskctl"), "overlay", "merge", "-c", conf,
               "golden", "alice", out]
        # a file size limit of 2 MiB: the write fails (EFBIG) with SIGXFSZ
        # ignored, and the process dies by SIGXFSZ without
        for ignore in (True, False):
            def limit(ignore=ignore):
                resource.setrlimit(resource.RLIMIT_FSIZE, (2 * MiB, 2 * MiB))
                if ignore:
                    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            r = subprocess.run(ctl, capture_output=True, text=True, timeout=60,
                               preexec_fn=limit)
            if ignore:
                self.assertEqual(r.returncode, 7, r.stderr)
                self.assertIn("File too large", r.stderr)
            else:
                self.assertEqual(r.returncode, -signal.SIGXFSZ, r.stderr)
            self.assertEqual(os.listdir(outdir), [])
        # and a merge stopped by SIGTERM part way: strace slows its writes
        p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                              "inject=pwrite64:delay_exit=20000"] + ctl,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        merge = self.wait_for_writer(p, outdir, time.time() + 60)
        time.sleep(0.3)
        os.kill(merge, signal.SIGTERM)
        p.communicate(timeout=60)
        self.assertEqual(os.listdir(outdir), [])

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args, rest = ap.parse_known_args()
    base.BUILD = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
