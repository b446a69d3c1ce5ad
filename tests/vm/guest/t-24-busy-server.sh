# Admission (docs/protocol.md): a server at its connection limits answers
# BUSY, and the module waits its turn. The limit is one connection per
# identity. While another client of the same identity holds it, attach
# waits, saying so; once that client leaves, the disk attaches with the one
# connection it got, not waiting for its second. Then, a disk of two
# connections: after a restart under the limit of one, the second
# reconnects only once a reload makes room.
. /test/lib.sh
if [ "$(grep -c ^processor /proc/cpuinfo)" -lt 2 ]; then
	echo "skipped: two connections need two CPUs"
	exit 0
fi
setup_exports
conf() {	# conf N: the exports with max-connections-per-identity N
	sed "1a max-connections-per-identity = $1" /srv/netdiskd.conf > /srv/t24.conf
}
busy_told() { grep -c "told busy before the handshake: identity" /srv/t24.log; }
start24() {
	/usr/sbin/netdiskd --config /srv/t24.conf --listen 127.0.0.1:26547 >> /srv/t24.log 2>&1 &
	echo $! > /srv/t24.pid
	wait_listen
}
reload24() { conf "$1"; kill -HUP "$(cat /srv/t24.pid)"; sleep 0.5; }
established() { dmesg | grep -c 're-established'; }

conf 1
: > /srv/t24.log
start24
check insmod /test/netdisk.ko
# the hog: a download into a pipe nobody reads holds its one connection
/usr/sbin/netdiskctl copy -K /srv/key netdisk://127.0.0.1:26547/ - | sleep 600 &
hog=$!
i=0
while ! grep -q "connected to export" /srv/t24.log; do
	i=$((i + 1))
	[ $i -gt 100 ] && die "the hog did not connect"
	sleep 0.1
done
attach connections=2 &
apid=$!
sleep 3
kill -0 $apid 2>/dev/null || die "attach ended although the server had no room for it"
dmesg | grep -q "netdisk0 (127.0.0.1): server busy, retrying" || die "the kernel log does not say it retries"
[ "$(busy_told)" -ge 2 ] || die "the server told busy $(busy_told) times, not at least 2"
grep -q "rejected the key\|wrong key" /srv/t24.log && die "a busy answer was logged as a key failure"
kill $hog
wait $apid || die "attach failed once the server had room"
wait_dev netdisk0
dmesg | grep -q "attaching with 1 of 2 connections" || die "the kernel log does not say it attached with fewer"
[ "$(attr netdisk0 connections)" = 1 ] || die "$(attr netdisk0 connections) connections, not 1"
$DD if=/dev/urandom of=/srv/t24.data bs=1M count=4 2>/dev/null
check $DD if=/srv/t24.data of=/dev/netdisk0 conv=nocreat bs=1M oflag=direct conv=fsync 2>/dev/null
[ "$(sha_of /dev/netdisk0 0 4 direct)" = "$(sha_of /srv/t24.data 0 4)" ] || die "data after a busy attach"
check detach netdisk0
echo "attach: waited while told busy, attached with the connection it got"

reload24 2
check attach connections=2
wait_dev netdisk0
[ "$(attr netdisk0 connections)" = 2 ] || die "$(attr netdisk0 connections) connections, not 2"
# a restart under the limit of one: one connection comes back, the other is told busy
conf 1
kill -KILL "$(cat /srv/t24.pid)"
sleep 0.5
before=$(busy_told)
back=$(established)
start24
i=0
while [ "$(busy_told)" -le "$before" ]; do
	i=$((i + 1))
	[ $i -gt 150 ] && die "no reconnect was told busy"
	sleep 0.1
done
[ "$(established)" -lt $((back + 2)) ] ||
	die "both connections came back although the server had room for one"
reload24 2
i=0
while [ "$(established)" -lt $((back + 2)) ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && die "the connection told busy did not reconnect after the reload"
	sleep 0.1
done
[ "$(attr netdisk0 state)" = connected ] || die "not connected again"
check $DD if=/srv/t24.data of=/dev/netdisk0 conv=nocreat bs=1M seek=8 oflag=direct conv=fsync 2>/dev/null
[ "$(sha_of /dev/netdisk0 8 4 direct)" = "$(sha_of /srv/t24.data 0 4)" ] || die "data after the reconnect"
echo "reconnect: told busy after a restart, reconnected once there was room"
check detach netdisk0
check rmmod netdisk
kill "$(cat /srv/t24.pid)"
