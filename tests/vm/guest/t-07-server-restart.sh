# netdiskd killed with SIGKILL and restarted mid-fio: fio completes, verified.
. /test/lib.sh
start_server
check load
wait_dev netdisk0
/usr/bin/fio --name=restart --filename=/dev/netdisk0 --ioengine=libaio --direct=1 \
	--rw=randwrite --bs=16k --iodepth=32 --size=96m --verify=crc32c \
	--verify_fatal=1 --minimal > /tmp/fio.out 2>&1 &
fio=$!
sleep 4
stop_server KILL
sleep 2
start_server
wait $fio || { cat /tmp/fio.out; die "fio failed across the restart"; }
[ "$(attr netdisk0 reconnects)" -ge 1 ] || die "no reconnect counted"
[ "$(attr netdisk0 state)" = connected ] || die "not connected again"
dmesg | grep -q "re-established" || die "no reconnect log line"
check rmmod netdisk
stop_server
