# Detach while recovery holds a connection it has just opened (fault point 1
# keeps it there for 3 s): nothing may start it once detach began, and the
# writes that waited out the outage fail, so detach returns. Before, recovery
# made the queue live again under the teardown, which left it neither live
# nor failing, and del_gendisk waited for ever on requests that only bounced.
. /test/lib.sh
start_server
since=$(log_mark)
check load connections=1 dead_timeout=60
wait_dev netdisk0
stop_server KILL
# 32 writes in flight across the outage, and new ones after each error,
# until the disk is gone: some are always waiting when detach begins
/usr/bin/fio --name=w --filename=/dev/netdisk0 --ioengine=libaio --direct=1 \
	--rw=randwrite --bs=4k --iodepth=32 --size=64m --continue_on_error=all \
	--minimal > /dev/null 2>&1 &
writer=$!
wait_log "$since" "lost.*reconnecting" 10
fault 1 3000
start_server
wait_log "$since" "fault point 1" 20
detach netdisk0 &
wait_gone $! 30 "detach hung behind a reconnect that raced it"
wait_gone $writer 10 "the writer still waits after detach"
[ ! -e /sys/block/netdisk0 ] || die "netdisk0 is still there"
check rmmod netdisk
stop_server
