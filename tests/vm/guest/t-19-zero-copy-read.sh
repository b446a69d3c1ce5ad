# Read replies are opened from TCP's own buffers straight into the bio
# pages: a 32 MiB direct read copies (almost) none of its data, and no
# request makes the driver allocate. Replies that arrive in thousands of
# small pieces are copied first, and read right too.
. /test/lib.sh
setup_exports
$DD if=/dev/urandom of=/srv/disk.img bs=1M count=32 conv=notrunc 2>/dev/null
# the module dials ndtamper on 26548 (docs/protocol.md, "Server names")
NETDISKD_ARGS="--server-port 26548" start_server
want=$(sha_of /srv/disk.img 0 32)
check load
wait_dev netdisk0
[ "$(sha_of /dev/netdisk0 0 32 direct)" = "$want" ] || die "the disk does not read what the server holds"
read_bytes=$(attr netdisk0 bytes_read)
copied=$(attr netdisk0 rx_copied_bytes)
echo "zero-copy read: $copied of $read_bytes bytes read were copied"
[ "$read_bytes" -ge $((32 << 20)) ] || die "only $read_bytes bytes read"
[ $((copied * 100)) -le "$read_bytes" ] || die "$copied of $read_bytes bytes read were copied"

# and the driver allocates nothing per request: no slab allocation made from
# the module while 16 MiB are written and read back
tr=/sys/kernel/tracing
mount -t tracefs tracefs $tr 2>/dev/null
echo 8192 > $tr/buffer_size_kb
for e in $tr/events/kmem/kmalloc* $tr/events/kmem/kmem_cache_alloc*; do echo 1 > "$e/enable"; done
requests=$(($(attr netdisk0 reads) + $(attr netdisk0 writes)))
$DD if=/srv/disk.img of=/dev/netdisk0 conv=nocreat bs=1M count=16 seek=64 oflag=direct 2>/dev/null || die "write"
[ "$(sha_of /dev/netdisk0 64 16 direct)" = "$(sha_of /srv/disk.img 0 16)" ] || die "read back"
echo 0 > $tr/tracing_on
requests=$(($(attr netdisk0 reads) + $(attr netdisk0 writes) - requests))
allocs=$(grep -c '\[netdisk\]' $tr/trace)
seen=$(grep -c 'call_site=' $tr/trace)
echo "allocations by the driver: $allocs for $requests requests ($seen by the whole kernel)"
[ "$seen" -gt 0 ] || die "the trace saw no allocation at all"
[ "$requests" -ge 32 ] || die "only $requests requests"
[ "$allocs" = 0 ] || { grep '\[netdisk\]' $tr/trace | head; die "the driver allocated $allocs times"; }
check rmmod netdisk

# the server's bytes in writes of 64 bytes each, through a relay
/usr/bin/ndtamper 26548 26547 -1 64 2> /tmp/tamper.log &
relay=$!
sleep 0.5
check load port=26548 connections=1
wait_dev netdisk0
# TCP may merge the pieces back into few pages (tcp_try_coalesce) and
# spare a reply the copy: read more until one took it, every byte checked
for off in 0 4 8 12; do
	[ "$(sha_of /dev/netdisk0 $off 4 direct)" = "$(sha_of /srv/disk.img $off 4)" ] ||
		die "a reply in small pieces did not read what the server holds"
	copied=$(attr netdisk0 rx_copied_bytes)
	[ "$copied" -gt 0 ] && break
done
echo "small pieces: $copied of $(attr netdisk0 bytes_read) bytes read were copied"
[ "$copied" -gt 0 ] || die "no reply in small pieces took the copy path in 16 MiB"
[ "$(attr netdisk0 reconnects)" = 0 ] || die "the connection dropped"
check rmmod netdisk
kill $relay
stop_server
