# A request is being queued to a connection (fault point 3 holds it for
# 1.5 s after the connection was seen live) while detach stops that
# connection, and the io_work it queues then waits 3 s before it runs
# (fault point 5): teardown quiesces before it stops the connection, so it
# waits for that io_work, and the request fails. Before, the connection was
# stopped first, and the io_work queued after ran on the freed device.
. /test/lib.sh
start_server
since=$(log_mark)
check load connections=1
wait_dev netdisk0
fault 3 1500
$DD if=/dev/netdisk0 of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null &
reader=$!
wait_log "$since" "fault point 3" 10
fault 5 3000
detach netdisk0 &
wait_gone $! 30 "detach hung behind a request being queued"
wait_gone $reader 10 "the reader still waits after detach"
[ ! -e /sys/block/netdisk0 ] || die "netdisk0 is still there"
# a late io_work would run now
sleep 4
check rmmod netdisk
stop_server
