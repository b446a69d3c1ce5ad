# The write verifier. Writes acknowledged and not yet flushed, then netdiskd
# restarted as after a reboot of its host (another --boot-id): every FLUSH
# fails with EIO until the disk is detached, the kernel log names the loss,
# lost_writes counts it, and ext4 on such a disk goes read-only. A restart
# that keeps the verifier, or a new verifier with every acknowledged write
# flushed, is silent.
. /test/lib.sh
setup_exports
$DD if=/dev/zero of=/srv/v23.img bs=1M count=0 seek=64 2>/dev/null
/usr/bin/mkfs.ext4 -q -F /srv/v23.img || die "mkfs"
cat >> /srv/netdiskd.conf <<CONF
[export v23]
path = /srv/v23.img
CONF
restart_as() {	# restart_as BOOT_ID: netdiskd killed, back as if its host rebooted
	stop_server KILL
	NETDISKD_ARGS="--boot-id $1" start_server
}
flush_dev() {	# one written block and an fsync, on the raw disk
	$DD if=/dev/urandom of=/dev/netdisk0 conv=nocreat bs=4k count=1 seek=$1 oflag=direct conv=fsync,notrunc 2>/dev/null
}
NETDISKD_ARGS="--boot-id boot-1" start_server
check insmod /test/netdisk.ko
check attach export=v23 connections=2
wait_dev netdisk0

# a restart of netdiskd alone keeps its verifier: nothing lost, nothing said
$DD if=/dev/urandom of=/dev/netdisk0 conv=nocreat bs=64k count=4 seek=100 oflag=direct 2>/dev/null || die "write"
restart_as boot-1
flush_dev 2000 || die "a flush failed after a restart that lost nothing"

# a new verifier with every write flushed: silent too
restart_as boot-2
flush_dev 2001 || die "a flush failed although every write had been flushed"
[ "$(attr netdisk0 lost_writes)" = 0 ] || die "lost_writes counted a loss that did not happen"

# acknowledged, not flushed, then the host "reboots": the next flush fails
$DD if=/dev/urandom of=/dev/netdisk0 conv=nocreat bs=64k count=4 seek=200 oflag=direct 2>/dev/null || die "write"
restart_as boot-3
if flush_dev 2002; then die "a flush succeeded although the server lost acknowledged writes"; fi
dmesg | grep -q "server lost acknowledged writes" || die "the kernel log does not name the loss"
[ "$(attr netdisk0 lost_writes)" = 1 ] || die "lost_writes is $(attr netdisk0 lost_writes), not 1"
# sticky: a later flush fails too, until the disk is attached afresh
if flush_dev 2003; then die "a flush after the loss succeeded before a detach"; fi
echo "raw disk: the loss failed every flush, counted once across 2 connections"
check detach netdisk0
check attach export=v23 connections=2
wait_dev netdisk0
flush_dev 2004 || die "a flush failed on a fresh attach"

# ext4: acknowledged data without a flush, then the loss
mkdir -p /mnt/v
check mount -t ext4 -o errors=remount-ro /dev/netdisk0 /mnt/v
$DD if=/dev/urandom of=/mnt/v/safe bs=64k count=4 conv=fsync 2>/dev/null || die "safe"
$DD if=/dev/urandom of=/mnt/v/lost bs=64k count=4 oflag=direct 2>/dev/null || die "lost"
restart_as boot-4
if $DD if=/dev/urandom of=/mnt/v/after bs=4k count=1 conv=fsync 2>/dev/null; then
	die "fsync on ext4 succeeded although the server lost acknowledged writes"
fi
dmesg | grep -q "Aborting journal on device netdisk0" || die "ext4 did not abort its journal"
# the next change meets the aborted journal and remounts read-only
if touch /mnt/v/probe 2>/dev/null; then die "ext4 took a change after the loss"; fi
# newer kernels (and 6.1's stable updates) shut the file system down
# instead of setting the mount read-only, so /proc/mounts may still say rw
dmesg | grep -Eq "EXT4-fs \(netdisk0\): (Remounting filesystem read-only|.*shut ?down)" ||
	die "ext4 did not say it went read-only"
if mkdir /mnt/v/d 2>/dev/null; then die "ext4 took a change after it went read-only"; fi
[ "$(attr netdisk0 lost_writes)" = 1 ] || die "lost_writes is $(attr netdisk0 lost_writes), not 1"
dmesg | grep -i "ext4.*netdisk0" | tail -n 3
check umount /mnt/v
check detach netdisk0
check rmmod netdisk
stop_server
