# Wrong key, unknown export, wrong server name, no server: clear errors and no disk.
. /test/lib.sh
start_server
bad=0000000000000000000000000000000000000000000000000000000000000001
insmod /test/netdisk.ko address=127.0.0.1 key=$bad && die "wrong key accepted"
dmesg | grep -q "rejected the key" || die "no log line for the wrong key"
[ ! -e /sys/block/netdisk0 ] || die "disk appeared"
grep -q "wrong key" /srv/netdiskd.log || die "server did not log the wrong key"
check insmod /test/netdisk.ko
attach export=nope 2>/dev/null && die "missing export accepted"
dmesg | grep -q "no export 'nope'" || die "no log line for the missing export"
attach port=9 2>/dev/null && die "closed port accepted"
# server binding: a server that does not answer to the name is refused
attach server=elsewhere 2>/dev/null &&
	die "a server that is not 'elsewhere' was accepted as 'elsewhere'"
dmesg | grep -q "does not answer to the name 'elsewhere'" || die "no log line for the server name"
grep -q "client asked for server 'elsewhere'" /srv/netdiskd.log || die "server did not log the name"
attach server=guest export=ro ||
	die "the server's host name was refused"
detach "$(ls /sys/block | grep netdisk)"
attach address=not-an-ip 2>/dev/null && die "bad address accepted"
attach key=12 2>/dev/null && die "short key accepted"
[ -z "$(ls /sys/block | grep netdisk)" ] || die "a disk appeared"
check rmmod netdisk
stop_server
