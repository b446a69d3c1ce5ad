# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
# Shared by the guest suites. Real tools are called by full path: busybox sh
# prefers its own applets.
PORT_HEX=67B3	# 26547
DD=/usr/bin/dd
SHA=/usr/bin/sha256sum

die() { echo "FAIL: $*"; dmesg | tail -n 20; exit 1; }
check() { "$@" || die "$*"; }

wait_listen() {
	i=0
	while ! grep -q ":$PORT_HEX 00000000:0000 0A" /proc/net/tcp; do
		i=$((i + 1))
		[ $i -gt 200 ] && die "netdiskd is not listening"
		sleep 0.1
	done
}

setup_exports() {
	[ -f /srv/key ] && return 0
	/usr/sbin/netdiskctl keygen > /srv/key
	chmod 600 /srv/key
	# two identities with keys of their own, beside the default key
	for id in lab-a lab-b; do
		/usr/sbin/netdiskctl keygen > /srv/$id.key
		chmod 600 /srv/$id.key
	done
	{ cat /srv/key; echo "lab-a $(cat /srv/lab-a.key)"; echo "lab-b $(cat /srv/lab-b.key)"; } > /srv/keys
	chmod 600 /srv/keys
	$DD if=/dev/zero of=/srv/disk.img bs=1M count=0 seek=512 2>/dev/null
	$DD if=/dev/urandom of=/srv/ro.img bs=1M count=16 2>/dev/null
	cat > /srv/netdiskd.conf <<CONF
key-file = /srv/keys
[export default]
path = /srv/disk.img
[export ro]
path = /srv/ro.img
read-only = yes
CONF
}

start_server() {
	setup_exports
	/usr/sbin/netdiskd --config /srv/netdiskd.conf --listen 127.0.0.1:26547 \
		${NETDISKD_ARGS:-} >> /srv/netdiskd.log 2>&1 &
	echo $! > /srv/netdiskd.pid
	wait_listen
}

stop_server() {
	pid=$(cat /srv/netdiskd.pid)
	kill -"${1:-TERM}" "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	true
}

key() { cat /srv/key; }

load() {	# insmod with the test key and any extra options
	insmod /test/netdisk.ko address=127.0.0.1 key="$(key)" "$@"
}

attach() {
	echo "address=127.0.0.1 key=$(key) $*" > /sys/kernel/netdisk/attach
}

detach() { echo "$1" > /sys/kernel/netdisk/detach; }

attr() { cat "/sys/block/$1/netdisk/$2"; }

wait_dev() {
	i=0
	while [ ! -b "/dev/$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && die "/dev/$1 did not appear"
		sleep 0.1
	done
}

sha_of() {	# sha_of FILE OFFSET_MIB COUNT_MIB [iflag]
	$DD if="$1" bs=1M skip="$2" count="$3" ${4:+iflag=$4} 2>/dev/null | $SHA | cut -d' ' -f1
}

wait_gone() {	# wait_gone PID SECONDS: die unless PID ends in time; says how long
	waited=0
	while kill -0 "$1" 2>/dev/null; do
		waited=$((waited + 1))
		[ $waited -gt $(($2 * 10)) ] && die "$3"
		sleep 0.1
	done
	waited=$((waited / 10))
}
