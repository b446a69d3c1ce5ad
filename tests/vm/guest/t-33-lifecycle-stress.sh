# 200 cycles (nd_cycles= on the kernel command line sets another count) of
# attach, I/O, a killed server, and a detach at a random point of the
# reconnect that follows: its backoff, its connect and handshake, or just
# after. Under the harness's slub_debug=FZPU, with hung tasks reported after
# 20 s: no detach may hang, and the console must stay free of reports.
. /test/lib.sh
cycles=$(sed -n 's/.*nd_cycles=\([0-9]*\).*/\1/p' /proc/cmdline)
cycles=${cycles:-200}
echo 20 > /proc/sys/kernel/hung_task_timeout_secs
start_server
check load connections=2 dead_timeout=60
wait_dev netdisk0
detach netdisk0 || die "first detach"
rand_ms() { echo $(($(od -An -N2 -tu2 /dev/urandom) % $1)); }
cycle=0 start=$(cut -d. -f1 /proc/uptime)
while [ $cycle -lt "$cycles" ]; do
	attach connections=2 || die "attach in cycle $cycle"
	dev=$(ls /sys/block | grep '^netdisk' | head -n 1)
	wait_dev "$dev"
	$DD if=/dev/urandom of=/dev/"$dev" conv=nocreat bs=64k count=4 oflag=direct 2>/dev/null ||
		die "write in cycle $cycle"
	( $DD if=/dev/"$dev" of=/dev/null bs=64k count=64 iflag=direct 2>/dev/null ) &
	reader=$!
	stop_server KILL
	# the server is back at a random point of the reconnect's backoff
	[ $((cycle % 2)) -eq 0 ] && sleep "0.$(printf '%03d' "$(rand_ms 300)")"
	start_server
	sleep "0.$(printf '%03d' "$(rand_ms 600)")"
	detach "$dev" &
	wait_gone $! 30 "detach hung in cycle $cycle"
	wait_gone $reader 30 "a reader hung in cycle $cycle"
	[ ! -e /sys/block/"$dev" ] || die "$dev left after detach in cycle $cycle"
	cycle=$((cycle + 1))
done
echo "$cycles cycles in $(($(cut -d. -f1 /proc/uptime) - start)) s"
dmesg | grep -E 'BUG|Oops|hung_task|blocked for more than' && die "kernel reports"
check rmmod netdisk
stop_server
