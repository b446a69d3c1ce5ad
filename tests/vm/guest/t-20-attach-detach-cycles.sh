# Twenty attach, read and unload cycles with the server answering all along:
# connections come and go without flipping the memalloc static key, whose
# text patching QEMU's multi-threaded TCG has crashed on (an int3 Oops in
# __netif_receive_skb, 2 runs in 2 on 6.12 before the module held it).
. /test/lib.sh
setup_exports
start_server
cycle=0
while [ $cycle -lt 20 ]; do
	check load connections=2
	wait_dev netdisk0
	$DD if=/dev/netdisk0 of=/dev/null bs=1M count=2 iflag=direct 2>/dev/null || die "read"
	rmmod netdisk 2>/dev/null || { sleep 0.5; rmmod netdisk; } || die "rmmod"
	cycle=$((cycle + 1))
done
stop_server
