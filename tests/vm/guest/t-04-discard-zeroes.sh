# DISCARD and WRITE_ZEROES reach the server file.
. /test/lib.sh
start_server
check load
wait_dev netdisk0
check $DD if=/dev/urandom of=/dev/netdisk0 conv=nocreat bs=1M count=8 seek=100 oflag=direct 2>/dev/null
zero=$($DD if=/dev/zero bs=1M count=4 2>/dev/null | $SHA | cut -d' ' -f1)
[ "$(sha_of /srv/disk.img 100 4)" != "$zero" ] || die "data not written"
check /usr/bin/blkdiscard -o $((100 << 20)) -l $((4 << 20)) /dev/netdisk0
[ "$(sha_of /srv/disk.img 100 4)" = "$zero" ] || die "discard not visible on the server"
check /usr/bin/blkdiscard -z -o $((104 << 20)) -l $((4 << 20)) /dev/netdisk0
[ "$(sha_of /srv/disk.img 104 4)" = "$zero" ] || die "write zeroes not visible on the server"
[ "$(sha_of /dev/netdisk0 100 8 direct)" = "$($DD if=/dev/zero bs=1M count=8 2>/dev/null | $SHA | cut -d' ' -f1)" ] ||
	die "device does not read zeroes"
[ "$(attr netdisk0 discards)" -gt 0 ] || die "discard counter"
[ "$(attr netdisk0 write_zeroes)" -gt 0 ] || die "write_zeroes counter"
check rmmod netdisk
stop_server
