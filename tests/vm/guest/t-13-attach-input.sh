# Attach input that once overflowed the heap or was silently cut short is
# refused with a reason (the guest boots with slub_debug=FZPU). Attributes
# the control plane's policy refuses are t-21's.
. /test/lib.sh
setup_exports
long=$(printf 'a%.0s' $(seq 63))
printf '[export %s]\npath = /srv/ro.img\nread-only = yes\n' "$long" >> /srv/netdiskd.conf
start_server
# one hex digit too many: refused, not cut to 64
insmod /test/netdisk.ko address=127.0.0.1 key="$(key)0" 2>/dev/null &&
	die "a key of 65 hex digits was accepted"
# an export name of 64 characters: refused, not cut to the 63 of another export
insmod /test/netdisk.ko address=127.0.0.1 key="$(key)" export="${long}b" 2>/dev/null &&
	die "an export name of 64 characters was accepted as '$long'"
dmesg | grep -q "at most 63 characters" || die "no log line for the long name"
# timeout=0 made every send non-blocking
insmod /test/netdisk.ko address=127.0.0.1 key="$(key)" timeout=0 2>/dev/null &&
	die "timeout=0 was accepted"
# rekey_records=0 rotated the key before every record, for ever
insmod /test/netdisk.ko address=127.0.0.1 key="$(key)" rekey_records=0 2>/dev/null &&
	die "rekey_records=0 was accepted"
dmesg | grep -q "rekey_records must be at least 1" || die "no log line for rekey_records=0"
[ -z "$(ls /sys/block | grep netdisk)" ] || die "a disk appeared"
# more connections than CPUs opened sockets no CPU ever used
cpus=$(grep -c '^processor' /proc/cpuinfo)
check insmod /test/netdisk.ko address=127.0.0.1 key="$(key)" connections=$((cpus + 2))
wait_dev netdisk0
[ "$(attr netdisk0 connections)" = "$cpus" ] ||
	die "connections=$((cpus + 2)) on $cpus CPUs gave $(attr netdisk0 connections) connections"
check rmmod netdisk
stop_server
