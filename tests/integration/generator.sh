#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
# netdisk-generator: remote-fs.target wants each netdisktab disk but the
# noauto ones; a bad line is an error naming it, and the good lines still link.
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
# a bad line is reported and skipped; the good ones are still linked
printf 'root netdisk://h\nroot netdisk://g\nbroken\ndata netdisk://h:99999\nspare netdisk://h\n' > "$t/bad"
mkdir "$t/n2"
NETDISK_TAB=$t/bad "$gen" "$t/n2" "$t/e2" "$t/l2" 2> "$t/err" && fail "a table with bad lines passed"
grep -q "bad:2: disk 'root' is already on line 1 (line skipped)" "$t/err" || fail "message: $(cat "$t/err")"
grep -q "bad:3: expected NAME URI" "$t/err" || fail "message: $(cat "$t/err")"
grep -q "bad:4: .*port must be" "$t/err" || fail "message: $(cat "$t/err")"
links=$(cd "$t/n2/remote-fs.target.wants" && ls)
[ "$links" = "$(printf 'netdisk@root.service\nnetdisk@spare.service')" ] || fail "links beside bad lines: $links"
NETDISK_TAB=$t/none "$gen" "$t/n3" || fail "a missing table is an empty one"
echo "generator: links the table's disks, names and skips the bad lines"
