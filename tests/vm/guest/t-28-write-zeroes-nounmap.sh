# WRITE_ZEROES with REQ_NOUNMAP (BLKZEROOUT, blkdiscard -z) keeps the range
# allocated on the server, as nbd's NO_HOLE does; without it (discard, or a
# file system's zeroing that allows unmapping) the server may punch holes.
# The image is on tmpfs, which punches holes but cannot ZERO_RANGE.
. /test/lib.sh
setup_exports
mkdir -p /srv/t28
mount -t tmpfs -o size=64m tmpfs /srv/t28 || die "tmpfs"
$DD if=/dev/urandom of=/srv/t28/disk.img bs=1M count=16 2>/dev/null
cp /srv/netdiskd.conf /srv/netdiskd.conf.saved
printf '[export t28]\npath = /srv/t28/disk.img\n' >> /srv/netdiskd.conf
start_server
check insmod /test/netdisk.ko
check attach export=t28 connections=1
wait_dev netdisk0
kib() { /usr/bin/du -k /srv/t28/disk.img | cut -f1; }
before=$(kib)
/usr/bin/blkdiscard -z -o 0 -l $((8 << 20)) /dev/netdisk0 || die "blkdiscard -z"
after=$(kib)
echo "write zeroes, no unmap: $before KiB allocated before, $after after"
[ "$after" -ge "$before" ] || die "8 MiB zeroed with NOUNMAP freed $((before - after)) KiB on the server"
[ "$(sha_of /dev/netdisk0 0 8 direct)" = "$(sha_of /dev/zero 0 8)" ] || die "the range does not read as zeroes"
# a discard may free the space
/usr/bin/blkdiscard -o $((8 << 20)) -l $((8 << 20)) /dev/netdisk0 || die "blkdiscard"
[ "$(kib)" -lt "$after" ] || die "a discard freed nothing ($(kib) KiB)"
check detach netdisk0
check rmmod netdisk
stop_server
umount /srv/t28
# the suites after this one share the config: the export goes with its image
mv /srv/netdiskd.conf.saved /srv/netdiskd.conf
