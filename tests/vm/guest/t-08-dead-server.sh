# Server gone past the dead timeout: I/O fails with EIO, detach still works.
. /test/lib.sh
start_server
check load
wait_dev netdisk0
echo 4 > /sys/module/netdisk/parameters/dead_timeout
# I/O in flight when the server dies, and I/O issued after
( $DD if=/dev/urandom of=/dev/netdisk0 conv=nocreat bs=64k count=4000 oflag=direct 2>/tmp/inflight.err;
  echo $? > /tmp/inflight.rc ) &
writer=$!
sleep 1
stop_server KILL
t0=$(date +%s)
$DD if=/dev/netdisk0 of=/dev/null bs=4k count=1 skip=999 iflag=direct 2>/tmp/dd.err &&
	die "read succeeded with no server"
t1=$(date +%s)
[ $((t1 - t0)) -le 30 ] || die "I/O took $((t1 - t0)) s to fail"
grep -q "Input/output error" /tmp/dd.err || die "not EIO: $(cat /tmp/dd.err)"
wait $writer
[ "$(cat /tmp/inflight.rc)" != 0 ] || die "in-flight writes succeeded with no server"
grep -q "Input/output error" /tmp/inflight.err || die "in-flight I/O: $(cat /tmp/inflight.err)"
t2=$(date +%s)
[ $((t2 - t0)) -le 40 ] || die "in-flight I/O took $((t2 - t0)) s to fail"
dmesg | grep -q "server unreachable" || die "no log line for the dead server"
[ "$(attr netdisk0 state)" = failed ] || die "state is $(attr netdisk0 state)"
check detach netdisk0
check rmmod netdisk
