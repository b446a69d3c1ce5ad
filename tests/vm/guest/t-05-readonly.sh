# A read-only export attached at runtime is a read-only disk.
. /test/lib.sh
start_server
insmod /test/netdisk.ko || die "plain insmod"
check attach export=ro connections=1
wait_dev netdisk0
[ "$(attr netdisk0 export)" = ro ] || die "export attribute"
[ "$(/usr/bin/blockdev --getro /dev/netdisk0)" = 1 ] || die "not read-only"
before=$(sha_of /srv/ro.img 0 16)
$DD if=/dev/zero of=/dev/netdisk0 conv=nocreat bs=4k count=1 oflag=direct 2>/dev/null && die "write succeeded"
[ "$(sha_of /dev/netdisk0 0 16 direct)" = "$before" ] || die "read differs"
[ "$(sha_of /srv/ro.img 0 16)" = "$before" ] || die "image changed"
# a second disk on the same module, over IPv6, then detach both ways
printf 'key-file = /srv/key\n[export ro]\npath = /srv/ro.img\nread-only = yes\n' > /srv/v6.conf
/usr/sbin/netdiskd --config /srv/v6.conf --listen '[::1]:26548' >> /srv/netdiskd6.log 2>&1 &
v6=$!
i=0
until grep -q ':67B4 ' /proc/net/tcp6; do
	i=$((i + 1)); [ $i -gt 100 ] && die "no IPv6 listener: $(cat /srv/netdiskd6.log; ip -6 addr)"; sleep 0.1
done
attach address=::1 port=26548 || die "attach over IPv6"
wait_dev netdisk1
[ "$(attr netdisk1 host)" = ::1 ] || die "IPv6 host attribute"
[ "$(sha_of /dev/netdisk1 0 16 direct)" = "$before" ] || die "IPv6 read"
check detach netdisk0
check detach /dev/netdisk1
kill $v6
[ ! -e /sys/block/netdisk0 ] && [ ! -e /sys/block/netdisk1 ] || die "detach"
check rmmod netdisk
stop_server
