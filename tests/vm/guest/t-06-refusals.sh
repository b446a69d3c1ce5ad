# Wrong key, unknown export, wrong server name, no server: clear errors and no disk.
. /test/lib.sh
start_server
bad=0000000000000000000000000000000000000000000000000000000000000001
insmod /test/netdisk.ko address=127.0.0.1 key=$bad && die "wrong key accepted"
dmesg | grep -q "rejected the key" || die "no log line for the wrong key"
[ ! -e /sys/block/netdisk0 ] || die "disk appeared"
grep -q "wrong key" /srv/netdiskd.log || die "server did not log the wrong key"
check insmod /test/netdisk.ko
echo "address=127.0.0.1 key=$(key) export=nope" > /sys/kernel/netdisk/attach && die "missing export accepted"
dmesg | grep -q "no export 'nope'" || die "no log line for the missing export"
echo "address=127.0.0.1 port=9 key=$(key)" > /sys/kernel/netdisk/attach && die "closed port accepted"
# server binding: a server that does not answer to the name is refused
echo "address=127.0.0.1 key=$(key) server=elsewhere" > /sys/kernel/netdisk/attach &&
	die "a server that is not 'elsewhere' was accepted as 'elsewhere'"
dmesg | grep -q "does not answer to the name 'elsewhere'" || die "no log line for the server name"
grep -q "client asked for server 'elsewhere'" /srv/netdiskd.log || die "server did not log the name"
echo "address=127.0.0.1 key=$(key) server=guest export=ro" > /sys/kernel/netdisk/attach ||
	die "the server's host name was refused"
detach "$(ls /sys/block | grep netdisk)"
echo "address=not-an-ip key=$(key)" > /sys/kernel/netdisk/attach && die "bad address accepted"
echo "address=127.0.0.1 key=12" > /sys/kernel/netdisk/attach && die "short key accepted"
[ -z "$(ls /sys/block | grep netdisk)" ] || die "a disk appeared"
check rmmod netdisk
stop_server
