# Writers that take a handled signal every millisecond, against a server
# that stalls now and then, over small socket buffers so that sends wait
# for room: no connection is dropped, and every byte verifies.
. /test/lib.sh
saved_wmem=$(cat /proc/sys/net/ipv4/tcp_wmem)
saved_rmem=$(cat /proc/sys/net/ipv4/tcp_rmem)
echo "4096 16384 32768" > /proc/sys/net/ipv4/tcp_wmem
echo "4096 16384 32768" > /proc/sys/net/ipv4/tcp_rmem
start_server
dmesg_before=$(dmesg | wc -l)
check load connections=2
wait_dev netdisk0
pid=$(cat /srv/netdiskd.pid)
touch /tmp/stall
: > /tmp/stalls
( while [ -f /tmp/stall ]; do
	kill -STOP "$pid"; sleep 0.3; kill -CONT "$pid"; sleep 0.2
	echo >> /tmp/stalls
done ) &
staller=$!
# 64 MiB: the server is stopped 60% of the time, so this takes about a
# hundred stalls (256 MiB took over 3 minutes of CI on each kernel)
/usr/bin/ndsigwriter /dev/netdisk0 64 || { rm -f /tmp/stall; die "signalled writers"; }
rm -f /tmp/stall
wait $staller
kill -CONT "$pid"
stalls=$(wc -l < /tmp/stalls)
echo "the server stalled $stalls times under the signalled writers"
[ "$stalls" -ge 20 ] || die "only $stalls stalls: the writers did not meet a stalling server"
reconnects=$(attr netdisk0 reconnects)
echo "reconnects during the signalled writes: $reconnects"
[ "$reconnects" = 0 ] || die "signals dropped $reconnects connection(s)"
dmesg | tail -n +$((dmesg_before + 1)) | grep -q "connection .* lost" &&
	die "a connection was lost"
check rmmod netdisk
stop_server
echo "$saved_wmem" > /proc/sys/net/ipv4/tcp_wmem
echo "$saved_rmem" > /proc/sys/net/ipv4/tcp_rmem
