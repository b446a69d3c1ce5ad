# The server guest of tests/vm/swap: serves its virtio disk as export "swap"
# on 169.254.77.1, and kills netdiskd with SIGKILL and restarts it whenever
# the client knocks on port 26548. It never returns: the harness ends it.
. /test/lib.sh
key=$(sed -n 's/.*nd_key=\([0-9a-f]*\).*/\1/p' /proc/cmdline)
(umask 077 && echo "$key" > /srv/keys)
printf 'key-file = /srv/keys\n[export swap]\npath = /dev/vda\n' > /srv/swap.conf
ip link set eth0 up
ip addr add 169.254.77.1/24 dev eth0
serve() {
	/usr/sbin/netdiskd --config /srv/swap.conf --listen 169.254.77.1:26547 \
		>> /srv/netdiskd.log 2>&1 &
	echo $! > /srv/netdiskd.pid
	wait_listen
}
serve
echo "swap server: listening"
while true; do
	nc -l -p 26548 > /dev/null 2>&1
	kill -9 "$(cat /srv/netdiskd.pid)"
	sleep 2
	serve
	echo "swap server: netdiskd killed with SIGKILL and restarted"
done
