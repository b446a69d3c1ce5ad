# A root disk's outage, as the boot test's, in one guest: ext4 on a disk of
# one connection (one hardware queue, so mq-deadline schedules it) with
# dead_timeout 0, under a writer that fsyncs in a loop. The server goes
# away four times: stopped, killed, killed and back at once, stopped while
# a request timeout is under way. After each return the writer must make
# progress within 30 s; if it does not, the disk's blk-mq state and the
# blocked tasks go to the log before the suite fails. Then the files read
# back as written, and e2fsck finds the file system clean.
. /test/lib.sh
start_server
check insmod /test/netdisk.ko
since=$(log_mark)
check attach connections=1 timeout=5 dead_timeout=0
wait_dev netdisk0
sched=$(cat /sys/block/netdisk0/queue/scheduler)
echo "t-42: netdisk0's scheduler: $sched"
check /usr/bin/mkfs.ext4 -q -F /dev/netdisk0
mkdir -p /mnt/nd
check mount -t ext4 /dev/netdisk0 /mnt/nd
echo 0 > /tmp/progress
(
	i=0
	while [ ! -e /tmp/writer.stop ]; do
		$DD if=/dev/urandom of=/mnt/nd/w$((i % 4)) bs=64k count=4 conv=fsync 2>/dev/null ||
			{ echo "t-42: write $i failed"; exit 1; }
		i=$((i + 1))
		echo $i > /tmp/progress
	done
) &
writer=$!

stalled() {	# stalled WHY: the disk's state and the blocked tasks, then fail
	d=/sys/kernel/debug/block/netdisk0
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	for f in $d/state $d/requeue_list $d/hctx0/state $d/hctx0/dispatch \
		$d/hctx0/busy $d/hctx0/sched_tags $d/hctx0/tags $d/sched/*; do
		[ -r "$f" ] && echo "t-42: $f: $(tr '\n' ' ' < "$f" | cut -c1-300)"
	done
	for f in state reconnects errors; do echo "t-42: $f: $(attr netdisk0 $f)"; done
	echo w > /proc/sysrq-trigger
	sleep 1
	dmesg | tail -n 80
	die "$1"
}
# progress_after N SECONDS: the writer ends N more writes within SECONDS
progress_after() {
	p0=$(cat /tmp/progress) t=0
	while [ $(($(cat /tmp/progress) - p0)) -lt "$1" ]; do
		kill -0 $writer 2>/dev/null || { wait $writer; die "the writer stopped"; }
		t=$((t + 1))
		[ $t -le $(($2 * 10)) ] || stalled "no $1 writes in $2 s after $cycle (at write $(cat /tmp/progress))"
		sleep 0.1
	done
}
progress_after 3 30
for cycle in stopped-12s killed-12s killed-back-at-once stopped-during-a-timeout; do
	case $cycle in
	stopped-12s) stop_server TERM; sleep 12 ;;
	killed-12s) stop_server KILL; sleep 12 ;;
	killed-back-at-once) stop_server KILL ;;
	stopped-during-a-timeout)
		# a server that reads and never answers: the writes time out on
		# the live connection, then it stops under the reconnect
		kill -STOP "$(cat /srv/netdiskd.pid)"
		sleep 8
		kill -KILL "$(cat /srv/netdiskd.pid)"
		kill -CONT "$(cat /srv/netdiskd.pid)" 2>/dev/null
		stop_server KILL
		sleep 5
		;;
	esac
	start_server
	progress_after 3 30
	echo "t-42: $cycle: the writer went on ($(cat /tmp/progress) writes)"
done
touch /tmp/writer.stop
wait $writer || die "the writer failed"
(cd /mnt/nd && $SHA w* > /tmp/sums)
sync
echo 3 > /proc/sys/vm/drop_caches
(cd /mnt/nd && $SHA -c --quiet /tmp/sums) || die "the files differ after the outages"
log_since "$since" | grep -q "I/O error\|lost acknowledged" && die "$(log_since "$since" | grep "I/O error\|lost acknowledged" | head -n 3)"
check umount /mnt/nd
check /usr/bin/e2fsck -fn /dev/netdisk0
check detach netdisk0
check rmmod netdisk
stop_server
