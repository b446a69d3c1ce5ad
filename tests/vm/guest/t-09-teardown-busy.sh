# rmmod and detach with I/O in flight never hang; mounted-then-unmounted is fine.
. /test/lib.sh
start_server
check load
wait_dev netdisk0
/usr/bin/mkfs.ext4 -q -F /dev/netdisk0 || die mkfs
check mount -t ext4 /dev/netdisk0 /mnt
rmmod netdisk 2>/dev/null && die "rmmod succeeded with a mounted disk"
check umount /mnt
# I/O in flight: rmmod is refused while the disk is open
( while :; do $DD if=/dev/netdisk0 of=/dev/null bs=1M count=64 iflag=direct 2>/dev/null || exit 0; done ) &
reader=$!
sleep 1
rmmod netdisk 2>/dev/null && die "rmmod succeeded with the disk open"
# detach while reading: the reader gets errors, detach returns
check detach netdisk0
wait $reader
[ ! -e /sys/block/netdisk0 ] || die "disk left after detach"
check rmmod netdisk
stop_server
