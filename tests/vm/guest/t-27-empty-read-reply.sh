# A READ reply that says OK but carries no data fails the read: the reader
# never gets the pages' old contents as if the server had sent them.
. /test/lib.sh
setup_exports
$DD if=/dev/urandom of=/srv/disk.img bs=1M count=4 conv=notrunc 2>/dev/null
NETDISKD_ARGS="--test-empty-read-offset 1048576" start_server
check insmod /test/netdisk.ko
check attach connections=1
wait_dev netdisk0
$DD if=/dev/netdisk0 of=/tmp/empty bs=4k skip=256 count=1 iflag=direct 2>/tmp/err &&
	die "a read answered OK with no data succeeded"
grep -q "Input/output error" /tmp/err || die "the read failed with: $(cat /tmp/err)"
dmesg | grep -q "read reply carries no data for a request of 4096" || die "no log line"
# other reads still read what the server holds, after the reconnect
[ "$(sha_of /dev/netdisk0 2 2 direct)" = "$(sha_of /srv/disk.img 2 2)" ] ||
	die "the disk no longer reads what the server holds"
check detach netdisk0
check rmmod netdisk
stop_server
