# netdiskctl attach of a netdisktab disk whose server is still down tries
# again, saying so, until the disk's attach-timeout: the server that comes
# up 3 s later gets the disk attached. A server that stays down past a 2 s
# attach-timeout fails the attach as unreachable (status 3), after retrying.
. /test/lib.sh
setup_exports
check insmod /test/netdisk.ko
(umask 077; { echo "guest $(key)"; } > /tmp/t38.keys)
cat > /tmp/t38.tab <<TAB
later  netdisk://127.0.0.1  key-file=/tmp/t38.keys,connections=1,attach-timeout=30
never  netdisk://127.0.0.1  key-file=/tmp/t38.keys,connections=1,attach-timeout=2
TAB
/usr/sbin/netdiskctl --table /tmp/t38.tab attach never 2> /tmp/never.err
status=$?
[ $status = 3 ] || die "attach with the server down: status $status, $(cat /tmp/never.err)"
grep -q "retrying in" /tmp/never.err || die "no retry was said: $(cat /tmp/never.err)"
/usr/sbin/netdiskctl --table /tmp/t38.tab attach later > /tmp/later.out 2> /tmp/later.err &
ctl=$!
sleep 3
start_server
wait_gone $ctl 40 "the attach did not end once the server was up"
wait $ctl || die "the attach failed once the server was up: $(cat /tmp/later.err)"
[ "$(cat /tmp/later.out)" = netdisk0 ] || die "attach printed $(cat /tmp/later.out)"
grep -q "attaching later: Connection refused, retrying in" /tmp/later.err ||
	die "no retry was said: $(cat /tmp/later.err)"
check detach netdisk0
check rmmod netdisk
stop_server
