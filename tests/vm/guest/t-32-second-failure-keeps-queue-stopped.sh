# A second failure while recovery starts a new connection (fault point 4
# holds recovery for 2 s between starting the connection and the queue):
# the hardware queue stays stopped for the second outage. Before, recovery
# started it after the second failure had stopped it, and blk-mq ran it
# again every 3 ms for the whole outage. A kprobe counts queue_rq calls.
. /test/lib.sh
start_server
since=$(log_mark)
check load connections=1 dead_timeout=60
wait_dev netdisk0
tr=/sys/kernel/tracing
mount -t tracefs nodev $tr 2>/dev/null
echo 'p:ndq nd_queue_rq' > $tr/kprobe_events || die "no kprobe on nd_queue_rq"
echo 1 > $tr/events/kprobes/ndq/enable
calls() { awk '$1 == "ndq" {print $2}' $tr/kprobe_profile; }
stop_server KILL
( while $DD if=/dev/zero of=/dev/netdisk0 conv=nocreat bs=64k count=16 oflag=direct 2>/dev/null; do :; done ) &
writer=$!
wait_log "$since" "lost.*reconnecting" 10
fault 4 2000
start_server
wait_log "$since" "fault point 4" 20
stop_server KILL
sleep 3
before=$(calls)
sleep 5
after=$(calls)
echo "queue_rq ran $((after - before)) times in 5 s of the second outage"
[ $((after - before)) -lt 50 ] || die "the queue kept running during the outage"
start_server
i=0
until [ "$(attr netdisk0 state)" = connected ]; do
	i=$((i + 1)); [ $i -gt 300 ] && die "not connected again"; sleep 0.1
done
echo 0 > $tr/events/kprobes/ndq/enable
echo > $tr/kprobe_events
detach netdisk0
# conv=nocreat: after the detach, dd must fail, not write a regular file
# into /dev (tmpfs takes O_DIRECT since Linux 6.6)
wait_gone $writer 30 "the writer did not stop after the detach"
check rmmod netdisk
stop_server
