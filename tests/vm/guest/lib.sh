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

# attach [address=A] [port=P] [export=E] [identity=I] [key=HEX] [server=S]
#        [connections=N] [cache_mb=N] [timeout=S] [dead_timeout=S]:
#        netdiskctl attach, quietly
attach() {
	a_addr=127.0.0.1 a_port=26547 a_export= a_key=$(key)
	set -- "$@" END
	while [ "$1" != END ]; do
		case $1 in
		address=*) a_addr=${1#*=} ;;
		port=*) a_port=${1#*=} ;;
		export=*) a_export=${1#*=} ;;
		key=*) a_key=${1#*=} ;;
		identity=*) set -- "$@" -i "${1#*=}" ;;
		server=*) set -- "$@" -S "${1#*=}" ;;
		connections=*) set -- "$@" -j "${1#*=}" ;;
		cache_mb=*) set -- "$@" --cache-mb "${1#*=}" ;;
		timeout=*) set -- "$@" --timeout "${1#*=}" ;;
		dead_timeout=*) set -- "$@" --dead-timeout "${1#*=}" ;;
		*) echo "attach: unknown $1"; return 2 ;;
		esac
		shift
	done
	shift
	case $a_addr in *:*) a_addr="[$a_addr]" ;; esac
	(umask 077; echo "$a_key" > /tmp/attach.key)
	/usr/sbin/netdiskctl attach -K /tmp/attach.key "$@" \
		"netdisk://$a_addr:$a_port/$a_export" > /dev/null
}

detach() { /usr/sbin/netdiskctl detach "$1"; }

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

# fault POINT [MS]: arms a delay point of the test build (netdisk-dkms/fault.h)
fault() {
	echo "${2:-2000}" > /sys/module/netdisk/parameters/fault_delay_ms
	echo "$1" > /sys/module/netdisk/parameters/fault_point
}

# log_mark: writes a mark into the kernel log and prints it, for log_since
# and wait_log; a mark, not a line count, since the log's ring may wrap
log_mark() {
	m="mark-$$-$(cut -d' ' -f1 /proc/uptime)"
	echo "netdisk-test: $m" > /dev/kmsg
	echo "$m"
}

log_since() { dmesg | sed -n "/netdisk-test: $1\$/,\$p"; }

wait_log() {	# wait_log MARK PATTERN SECONDS: die unless the kernel log says it
	i=0
	until log_since "$1" | grep -q "$2"; do
		i=$((i + 1))
		[ $i -gt $(($3 * 10)) ] && die "no '$2' in the kernel log after $3 s"
		sleep 0.1
	done
}
