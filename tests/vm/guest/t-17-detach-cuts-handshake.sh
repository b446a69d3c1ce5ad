# Detach while a reconnect's handshake waits on a server that accepted the
# connection but never answers: detach cuts the handshake short instead of
# waiting out its 10 s deadline.
. /test/lib.sh
start_server
dmesg_before=$(dmesg | wc -l)
check load timeout=2 dead_timeout=60 connections=1
wait_dev netdisk0
pid=$(cat /srv/netdiskd.pid)
kill -STOP "$pid"
# the stopped server cannot answer: the request's timeout forces a reconnect,
# whose connect the kernel completes from the listen backlog
$DD if=/dev/netdisk0 of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null &
i=0
until dmesg | tail -n +$((dmesg_before + 1)) | grep -q "lost.*reconnecting"; do
	i=$((i + 1)); [ $i -gt 100 ] && die "no reconnect began"; sleep 0.1
done
sleep 0.5
detach netdisk0 &
wait_gone $! 5 "detach waited for the handshake's deadline"
echo "detach took about $waited s during a handshake"
[ ! -e /sys/block/netdisk0 ] || die "netdisk0 is still there"
kill -CONT "$pid"
check rmmod netdisk
stop_server
