# ext4 on netdisk: mkfs, a tree of files, fsck clean, remount and verify.
. /test/lib.sh
start_server
check load
wait_dev netdisk0
check /usr/bin/mkfs.ext4 -q -F /dev/netdisk0
mkdir -p /mnt/nd
check mount -t ext4 /dev/netdisk0 /mnt/nd
i=0
while [ $i -lt 40 ]; do
	mkdir -p /mnt/nd/d$((i % 5))
	$DD if=/dev/urandom of=/mnt/nd/d$((i % 5))/f$i bs=4k count=$((i * 7 % 300 + 1)) 2>/dev/null
	i=$((i + 1))
done
(cd /mnt/nd && $SHA d*/f* > /tmp/sums)
check umount /mnt/nd
check /usr/bin/e2fsck -fn /dev/netdisk0
check mount -t ext4 /dev/netdisk0 /mnt/nd
(cd /mnt/nd && $SHA -c --quiet /tmp/sums) || die "files differ after remount"
check umount /mnt/nd
check rmmod netdisk
stop_server
