#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
# netdisk-generator: remote-fs.target wants each netdisktab disk but the
# noauto ones; a broken table is an error naming the line, and links nothing.
#   generator.sh GENERATOR
set -eu
gen=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "generator: $*" >&2; exit 1; }
printf '# disks\nroot netdisk://a@169.254.1.1/golden\nspare netdisk://h noauto\ndata netdisk://h/d connections=2\n' > "$t/tab"
mkdir "$t/normal"
NETDISK_TAB=$t/tab "$gen" "$t/normal" "$t/early" "$t/late" || fail "exit $?"
links=$(cd "$t/normal/remote-fs.target.wants" && ls)
[ "$links" = "$(printf 'netdisk@data.service\nnetdisk@root.service')" ] || fail "links: $links"
target=$(readlink "$t/normal/remote-fs.target.wants/netdisk@root.service")
case $target in /*/netdisk@.service) ;; *) fail "link target $target" ;; esac
# a second run (daemon-reload) is fine
NETDISK_TAB=$t/tab "$gen" "$t/normal" "$t/early" "$t/late" || fail "second run"
printf 'root netdisk://h\nroot netdisk://g\n' > "$t/bad"
mkdir "$t/n2"
NETDISK_TAB=$t/bad "$gen" "$t/n2" "$t/e2" "$t/l2" 2> "$t/err" && fail "a broken table passed"
grep -q "bad:2: disk 'root' is already on line 1" "$t/err" || fail "message: $(cat "$t/err")"
[ -z "$(ls "$t/n2")" ] || fail "a broken table linked units"
NETDISK_TAB=$t/none "$gen" "$t/n3" || fail "a missing table is an empty one"
echo "generator: links the table's disks, refuses a broken table"
