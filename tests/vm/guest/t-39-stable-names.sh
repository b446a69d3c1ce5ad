# Disks that differ only in identity or in port get links of their own,
# [IDENTITY@]HOST[_PORT][-EXPORT], the identity and port only where they
# are not the defaults; a disk attached by its netdisktab NAME also gets
# /dev/netdisk/by-name/NAME, and its partitions -partN. Before, all three
# below were /dev/netdisk/127.0.0.1-ro, and the NAME appeared nowhere.
. /test/lib.sh
start_server
# a second server on another port, for the read-only export alone: the
# first holds the writable image's lock
printf 'key-file = /srv/keys\n[export ro]\npath = /srv/ro.img\nread-only = yes\n' > /srv/t39.conf
/usr/sbin/netdiskd --config /srv/t39.conf --listen 127.0.0.1:26548 >> /srv/netdiskd2.log 2>&1 &
second=$!
check insmod /test/netdisk.ko
/usr/bin/systemd-udevd --daemon --resolve-names=never 2>/dev/null || die "udevd"
(umask 077; { echo "guest $(key)"; echo "lab-a $(cat /srv/lab-a.key)"; } > /tmp/t39.keys)
ctl() { /usr/sbin/netdiskctl -K /tmp/t39.keys -j 1 "$@"; }
i=0
until grep -q ":67B4 00000000:0000 0A" /proc/net/tcp; do	# 26548
	i=$((i + 1)); [ $i -gt 100 ] && die "the second netdiskd is not listening: $(cat /srv/netdiskd2.log)"
	sleep 0.1
done
[ "$(ctl attach netdisk://127.0.0.1/ro)" = netdisk0 ] || die "attach as guest"
[ "$(ctl attach netdisk://lab-a@127.0.0.1/ro)" = netdisk1 ] || die "attach as lab-a"
[ "$(ctl attach netdisk://127.0.0.1:26548/ro)" = netdisk2 ] || die "attach on port 26548"
printf 'scratch netdisk://127.0.0.1 key-file=/tmp/t39.keys,connections=1\n' > /tmp/t39.tab
[ "$(/usr/sbin/netdiskctl --table /tmp/t39.tab attach scratch)" = netdisk3 ] || die "attach by name"
echo 'label: dos
start=2048, size=8192, type=83' | /usr/bin/sfdisk -q /dev/netdisk3 || die "sfdisk"
/usr/bin/udevadm settle
for want in 127.0.0.1-ro:netdisk0 lab-a@127.0.0.1-ro:netdisk1 127.0.0.1_26548-ro:netdisk2 \
	    127.0.0.1:netdisk3 by-name/scratch:netdisk3 by-name/scratch-part1:netdisk3p1; do
	link=/dev/netdisk/${want%:*}
	[ "$(readlink -f "$link")" = "/dev/${want#*:}" ] ||
		die "$link is not /dev/${want#*:}: $(ls -lR /dev/netdisk)"
done
[ "$(attr netdisk3 name)" = scratch ] && [ -z "$(attr netdisk0 name)" ] || die "sysfs name"
for d in netdisk3 netdisk2 netdisk1 netdisk0; do check detach $d; done
check rmmod netdisk
kill $second
stop_server
