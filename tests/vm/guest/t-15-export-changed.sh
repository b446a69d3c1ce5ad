# The export changes while the disk reconnects: I/O fails within
# dead_timeout instead of parking in D state until detach.
. /test/lib.sh
start_server
check insmod /test/netdisk.ko address=127.0.0.1 key="$(key)" dead_timeout=10
wait_dev netdisk0
# writes in flight on the connection when it dies: they go back in the queue
kill -STOP "$(cat /srv/netdiskd.pid)"
$DD if=/dev/zero of=/dev/netdisk0 conv=nocreat bs=64k count=16 oflag=direct 2>/tmp/err &
writer=$!
sleep 1
stop_server KILL
$DD if=/dev/zero of=/srv/disk.img bs=1M count=0 seek=600 2>/dev/null
start_server
wait_gone $writer 30 "I/O hangs after the export changed"
wait $writer && die "writes to the changed export succeeded"
echo "the writer failed after $waited s: $(cat /tmp/err)"
dmesg | grep -q "export changed under us" || die "no log line for the changed export"
check rmmod netdisk
stop_server
$DD if=/dev/zero of=/srv/disk.img bs=1M count=0 seek=512 2>/dev/null
