# Attach through module options, O_DIRECT round trip, sysfs, rmmod.
. /test/lib.sh
start_server
check load
wait_dev netdisk0
[ "$(attr netdisk0 host)" = 127.0.0.1 ] || die "host attribute"
[ "$(attr netdisk0 state)" = connected ] || die "state attribute"
[ "$(attr netdisk0 connections)" = 2 ] || die "connections attribute"
[ "$(cat /sys/block/netdisk0/size)" = $((512 * 2048)) ] || die "size"
[ ! -e /sys/module/netdisk/parameters/key ] || die "key readable in sysfs"

$DD if=/dev/urandom of=/tmp/rand bs=1M count=32 2>/dev/null
check $DD if=/tmp/rand of=/dev/netdisk0 conv=nocreat bs=1M seek=7 oflag=direct 2>/dev/null
want=$(sha_of /tmp/rand 0 32)
[ "$(sha_of /dev/netdisk0 7 32 direct)" = "$want" ] || die "O_DIRECT read back differs"
[ "$(sha_of /srv/disk.img 7 32)" = "$want" ] || die "server file differs"
# unaligned-in-memory, small requests
check $DD if=/tmp/rand of=/dev/netdisk0 conv=nocreat bs=4k count=100 seek=3 oflag=direct 2>/dev/null
[ "$($DD if=/dev/netdisk0 bs=4k skip=3 count=100 iflag=direct 2>/dev/null | $SHA)" = \
  "$($DD if=/tmp/rand bs=4k count=100 2>/dev/null | $SHA)" ] || die "4k round trip"
[ "$(attr netdisk0 writes)" -gt 0 ] || die "write counter"
check rmmod netdisk
[ ! -e /sys/block/netdisk0 ] || die "disk left after rmmod"
stop_server
