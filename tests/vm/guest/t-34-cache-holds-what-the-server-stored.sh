# O_DIRECT writes from a buffer that another process keeps rewriting, with
# the cache on: every read afterwards, from the server or from the cache,
# equals the server's file. Before, the cache copied the bio's pages again
# when the reply came, after they had changed, and kept bytes the server
# never stored (hundreds of KiB of 8 MiB here).
. /test/lib.sh
start_server
check insmod /test/netdisk.ko
check attach cache_mb=16 connections=1
wait_dev netdisk0
check /usr/bin/ndunstablewriter /dev/netdisk0 8
want=$(sha_of /srv/disk.img 0 8)
for pass in 1 2; do
	[ "$(sha_of /dev/netdisk0 0 8 direct)" = "$want" ] ||
		die "read $pass differs from the server's file ($(attr netdisk0 cache_hits) cache hits)"
done
[ "$(attr netdisk0 cache_hits)" -gt 0 ] || die "the second read did not come from the cache"
check detach netdisk0
check rmmod netdisk
stop_server
