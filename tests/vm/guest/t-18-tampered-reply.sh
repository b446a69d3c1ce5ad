# A bit flipped in the data of a READ reply, which the module opens straight
# into the request's pages: the record fails authentication, the connection
# is dropped, the request is sent again on the next one, and the data that
# reaches the reader is the server's.
. /test/lib.sh
setup_exports
$DD if=/dev/urandom of=/srv/disk.img bs=1M count=1 conv=notrunc 2>/dev/null
# the module dials ndtamper on 26548 (docs/protocol.md, "Server names")
NETDISKD_ARGS="--server-port 26548" start_server
# ServerHello 72 + ServerFinished 32 + INFO record 56 = 160 bytes, then the
# first reply (the partition scan's read): 8 + 16 bytes of headers, then data
/usr/bin/ndtamper 26548 26547 284 2> /tmp/tamper.log &
tamper=$!
sleep 0.5
dmesg_before=$(dmesg | wc -l)
check load port=26548 connections=1
wait_dev netdisk0
[ "$(sha_of /dev/netdisk0 0 1 direct)" = "$(sha_of /srv/disk.img 0 1)" ] ||
	die "the disk does not read what the server holds"
grep -q flipped /tmp/tamper.log || die "the relay flipped nothing"
dmesg | tail -n +$((dmesg_before + 1)) | grep -q "failed authentication" ||
	die "the tampered record was not refused"
[ "$(attr netdisk0 reconnects)" = 1 ] || die "expected 1 reconnect, got $(attr netdisk0 reconnects)"
[ "$(attr netdisk0 errors)" = 0 ] || die "errors counted"
check rmmod netdisk
kill $tamper
stop_server
