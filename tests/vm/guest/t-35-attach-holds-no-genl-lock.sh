# An attach whose handshake waits on a server that accepted the connection
# but does not answer (SIGSTOP) holds no generic netlink lock meanwhile:
# loading a module that registers a genl family (psample) and listing the
# disks both return at once, and netdiskctl attach still returns the
# outcome. Before, the attach ran inside the genl handler, under genetlink's
# cb_lock, for as long as its handshakes took, and both waited behind it.
# And a netdiskctl killed while its attach waits leaves no disk behind.
. /test/lib.sh
[ -f /test/ko/psample.ko ] || die "no psample.ko in the guest"
start_server
since=$(log_mark)
check insmod /test/netdisk.ko
pid=$(cat /srv/netdiskd.pid)
kill -STOP "$pid"
attach connections=1 > /tmp/attach.out 2>&1 &
attacher=$!
sleep 1
insmod /test/ko/psample.ko &
wait_gone $! 3 "loading a genl family waited behind an attach"
/usr/sbin/netdiskctl list > /dev/null &
wait_gone $! 3 "netdiskctl list waited behind an attach"
kill -CONT "$pid"
wait $attacher || die "the attach failed once the server answered: $(cat /tmp/attach.out)"
[ -b /dev/netdisk0 ] || die "netdisk0 is not there when attach returns"
check rmmod psample

kill -STOP "$pid"
/usr/sbin/netdiskctl attach -K /tmp/attach.key -j 1 netdisk://127.0.0.1:26547/ro > /dev/null 2>&1 &
ctl=$!
sleep 1
kill -KILL $ctl
kill -CONT "$pid"
wait_log "$since" "is gone: detaching" 20
sleep 1
[ ! -e /sys/block/netdisk1 ] || die "the attach of a killed netdiskctl left netdisk1"
check detach netdisk0
check rmmod netdisk
stop_server
