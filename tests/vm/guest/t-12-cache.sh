# The read cache: hot reads stay local, data matches the server,
# memory stays within the bound, nothing survives a detach but the data.
. /test/lib.sh
start_server
check insmod /test/netdisk.ko
check attach cache_mb=8
wait_dev netdisk0
[ "$(attr netdisk0 cache_limit_bytes)" = $((8 << 20)) ] || die "cache limit"
$DD if=/dev/urandom of=/tmp/hot bs=1M count=4 2>/dev/null
check $DD if=/tmp/hot of=/dev/netdisk0 conv=nocreat bs=64k seek=160 oflag=direct 2>/dev/null
want=$(sha_of /tmp/hot 0 4)
[ "$(sha_of /srv/disk.img 10 4)" = "$want" ] || die "server file differs after writing through the cache"
# a write drops its range: the first read goes to the server, and fills
sha_of /dev/netdisk0 10 4 direct > /dev/null
reads=$(attr netdisk0 reads)
hits=$(attr netdisk0 cache_hits)
for i in 1 2 3; do
	[ "$(sha_of /dev/netdisk0 10 4 direct)" = "$want" ] || die "cached read differs"
done
[ "$(attr netdisk0 reads)" = "$reads" ] || die "hot reads went to the server"
[ "$(attr netdisk0 cache_hits)" -gt "$hits" ] || die "no cache hits"
# a read miss fills the cache: the second pass is all hits
sha_of /dev/netdisk0 100 2 direct > /dev/null
reads=$(attr netdisk0 reads)
sha_of /dev/netdisk0 100 2 direct > /dev/null
[ "$(attr netdisk0 reads)" = "$reads" ] || die "a read-filled page was not reused"
# discard and write-zeroes update what the cache returns
check /usr/bin/blkdiscard -f -z -o $((10 << 20)) -l $((1 << 20)) /dev/netdisk0
[ "$(sha_of /dev/netdisk0 10 1 direct)" = "$($DD if=/dev/zero bs=1M count=1 2>/dev/null | $SHA | cut -d' ' -f1)" ] ||
	die "stale data after write zeroes"
[ "$(sha_of /dev/netdisk0 0 64 direct)" = "$(sha_of /srv/disk.img 0 64)" ] || die "device and server differ"
check detach netdisk0
# re-attached without a cache the data is what was written
check attach
wait_dev netdisk0
[ "$(sha_of /dev/netdisk0 11 3 direct)" = "$(sha_of /tmp/hot 1 3)" ] || die "data after re-attach"
check detach netdisk0
# bounded: 2 MiB of cache, a 16 MiB working set
check attach cache_mb=2
wait_dev netdisk0
sha_of /dev/netdisk0 0 16 direct > /dev/null
sha_of /dev/netdisk0 0 16 direct > /dev/null
[ "$(attr netdisk0 cache_bytes)" -le $((2 << 20)) ] || die "cache holds $(attr netdisk0 cache_bytes) bytes"
[ "$(attr netdisk0 cache_evictions)" -gt 0 ] || die "no evictions"
check detach netdisk0
check rmmod netdisk
stop_server
