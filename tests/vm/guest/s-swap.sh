# Swap on /dev/netdisk0, in the client guest of tests/vm/swap: 512 MiB of
# RAM, the server in a second guest (a server whose own pages can go to the
# swap it serves deadlocks by design) with its image on a virtio disk. A
# process fills and checks 1.5 GiB while netdiskd is killed with SIGKILL and
# restarted. It must finish, with no hung task.
. /test/lib.sh
key=$(sed -n 's/.*nd_key=\([0-9a-f]*\).*/\1/p' /proc/cmdline)
echo 30 > /proc/sys/kernel/hung_task_timeout_secs
# swap in 256 KiB at a time: each fault is a round trip to the server guest
echo 6 > /proc/sys/vm/page-cluster
ip link set eth0 up
ip addr add 169.254.77.2/24 dev eth0
i=0
until insmod /test/netdisk.ko address=169.254.77.1 export=swap key="$key" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 60 ] && die "cannot attach the server guest's disk"; sleep 1
done
wait_dev netdisk0
mkswap /dev/netdisk0 > /dev/null || die "mkswap"
check swapon /dev/netdisk0
grep -E '^(MemTotal|SwapTotal)' /proc/meminfo
( sleep 40; echo kill | nc 169.254.77.1 26548; echo knocked > /tmp/killed ) &
/usr/bin/ndmemhog 1536 || die "the memory hog failed"
[ -f /tmp/killed ] || die "netdiskd was not killed during the swapping"
grep -E '^(SwapTotal|SwapFree)' /proc/meminfo
echo "reconnects: $(attr netdisk0 reconnects), errors: $(attr netdisk0 errors)"
[ "$(attr netdisk0 reconnects)" -ge 1 ] || die "the SIGKILL did not cut the connection"
check swapoff /dev/netdisk0
check rmmod netdisk
