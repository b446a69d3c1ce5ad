# fio random writes at queue depth 32 over both queues, verified by crc32c,
# with both sides rotating their keys every few records.
. /test/lib.sh
NETDISKD_ARGS="--rekey-records 5" start_server
check load rekey_records=7
wait_dev netdisk0
/usr/bin/fio --name=verify --filename=/dev/netdisk0 --ioengine=libaio --direct=1 \
	--rw=randwrite --bs=4k --bsrange=4k-256k --iodepth=32 --numjobs=2 \
	--size=48m --offset_increment=64m --verify=crc32c --verify_fatal=1 \
	--group_reporting --minimal > /tmp/fio.out 2>&1 || { cat /tmp/fio.out; die "fio verify"; }
[ "$(attr netdisk0 errors)" = 0 ] || die "errors counted"
[ "$(attr netdisk0 reconnects)" = 0 ] || die "connections dropped"
check rmmod netdisk
stop_server
