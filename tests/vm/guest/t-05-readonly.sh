# A read-only export attached at runtime is a read-only disk.
. /test/lib.sh
start_server
insmod /test/netdisk.ko || die "plain insmod"
check attach export=ro connections=1
wait_dev netdisk0
[ "$(attr netdisk0 export)" = ro ] || die "export attribute"
[ "$(/usr/bin/blockdev --getro /dev/netdisk0)" = 1 ] || die "not read-only"
before=$(sha_of /srv/ro.img 0 16)
$DD if=/dev/zero of=/dev/netdisk0 bs=4k count=1 oflag=direct 2>/dev/null && die "write succeeded"
[ "$(sha_of /dev/netdisk0 0 16 direct)" = "$before" ] || die "read differs"
[ "$(sha_of /srv/ro.img 0 16)" = "$before" ] || die "image changed"
# a second disk on the same module, then detach both ways
check attach
wait_dev netdisk1
check detach netdisk0
check detach 1
[ ! -e /sys/block/netdisk0 ] && [ ! -e /sys/block/netdisk1 ] || die "detach"
check rmmod netdisk
stop_server
