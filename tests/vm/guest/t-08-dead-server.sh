# Server gone past the dead timeout: I/O fails with EIO, detach still works.
. /test/lib.sh
start_server
check load
wait_dev netdisk0
echo 4 > /sys/module/netdisk/parameters/dead_timeout
stop_server KILL
t0=$(date +%s)
$DD if=/dev/netdisk0 of=/dev/null bs=4k count=1 skip=999 iflag=direct 2>/tmp/dd.err &&
	die "read succeeded with no server"
t1=$(date +%s)
[ $((t1 - t0)) -le 30 ] || die "I/O took $((t1 - t0)) s to fail"
grep -q "Input/output error" /tmp/dd.err || die "not EIO: $(cat /tmp/dd.err)"
dmesg | grep -q "server unreachable" || die "no log line for the dead server"
[ "$(attr netdisk0 state)" = failed ] || die "state is $(attr netdisk0 state)"
check detach netdisk0
check rmmod netdisk
