# A connection fails just as detach begins (fault point 2 holds the failure
# for 2 s between noticing it and queueing recovery): recovery is not
# queued once teardown has begun. Before, it was queued after teardown had
# cancelled it, and ran on the freed device (a slub_debug poison Oops).
. /test/lib.sh
start_server
since=$(log_mark)
check load connections=1 dead_timeout=60
wait_dev netdisk0
fault 2 2000
stop_server KILL
wait_log "$since" "fault point 2" 10
detach netdisk0 &
wait_gone $! 30 "detach hung while a failure was being handled"
[ ! -e /sys/block/netdisk0 ] || die "netdisk0 is still there"
# what a late recovery would do, it would do now
sleep 4
log_since "$since" | grep -q "lost.*reconnecting" &&
	die "recovery ran after detach"
check rmmod netdisk
