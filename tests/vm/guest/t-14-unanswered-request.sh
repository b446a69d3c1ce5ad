# A request the server never answers fails after its retry budget (three
# timeouts) instead of cycling through reconnects forever; other I/O goes on.
. /test/lib.sh
NETDISKD_ARGS="--test-unanswered-offset=1048576" start_server
check insmod /test/netdisk.ko address=127.0.0.1 key="$(key)" timeout=2 dead_timeout=60
wait_dev netdisk0
$DD if=/dev/netdisk0 of=/dev/null bs=4096 count=1 skip=256 iflag=direct 2>/tmp/err &
writer=$!
wait_gone $writer 60 "the unanswered read was never failed"
wait $writer && die "the unanswered read succeeded"
echo "the unanswered read failed after $waited s: $(cat /tmp/err)"
dmesg | grep -q "unanswered after 3 timeouts" || die "no log line for the failed request"
check $DD if=/dev/netdisk0 of=/dev/null bs=4096 count=1 skip=0 iflag=direct 2>/dev/null
check rmmod netdisk
stop_server
