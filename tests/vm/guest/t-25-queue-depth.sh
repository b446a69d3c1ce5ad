# Requests in flight per connection are bounded by the queue depth, not by
# send buffers: at 20 ms RTT (netem on lo), one connection carries 4 KiB
# random reads at QD32 with far more than two in flight, and random writes of
# 4 KiB to 1 MiB at QD32 read back right while the send pages are reused.
. /test/lib.sh
start_server
check insmod /test/netdisk.ko
check attach connections=1
wait_dev netdisk0
[ "$(attr netdisk0 connections)" = 1 ] || die "attached with $(attr netdisk0 connections) connections"
/usr/bin/tc qdisc add dev lo root netem delay 10ms || die "netem"
rtt_ms=20
iops=$(/usr/bin/fio --name=qd --filename=/dev/netdisk0 --ioengine=libaio --direct=1 \
	--rw=randread --bs=4k --iodepth=32 --size=64m --time_based --runtime=4 \
	--minimal 2>/dev/null | awk -F';' '{ printf "%d\n", $8 }')
echo "queue depth: 4 KiB random reads, QD32, one connection, ${rtt_ms} ms RTT: $iops IOPS"
# two requests in flight allow at most 2 per round trip
cap=$((2 * 1000 / rtt_ms))
[ "${iops:-0}" -gt $((3 * cap)) ] || die "$iops IOPS at ${rtt_ms} ms RTT: no more than 3x what 2 requests in flight allow ($cap)"
/usr/bin/fio --name=verify --filename=/dev/netdisk0 --ioengine=libaio --direct=1 \
	--rw=randwrite --bsrange=4k-1m --iodepth=32 --size=16m --verify=crc32c \
	--verify_fatal=1 --minimal > /tmp/fio.out 2>&1 || { cat /tmp/fio.out; die "fio verify"; }
/usr/bin/tc qdisc del dev lo root
line=$(attr netdisk0 queues)
echo "queue depth: $line"
peak=$(echo "$line" | sed -n 's/.* peak_inflight=\([0-9]*\).*/\1/p')
[ "${peak:-0}" -ge 16 ] || die "at most ${peak:-?} requests were in flight on the connection"
[ "$(attr netdisk0 errors)" = 0 ] || die "errors counted"
[ "$(attr netdisk0 reconnects)" = 0 ] || die "connections dropped"
check detach netdisk0
check rmmod netdisk
stop_server
