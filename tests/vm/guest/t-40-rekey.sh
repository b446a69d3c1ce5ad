# Key rotation on an attached disk. The server holds the old and the new
# key of identity rot; netdiskctl rekey gives the disk the new key, its
# connection goes on, and once the server holds the new key alone, the
# connection the disk makes after a server restart authenticates with the
# new key: I/O carries on with no error. Before, the disk kept the key it
# copied at attach and failed with the key rejected. A rekey with a key
# of another length or of another subsystem is refused, and the disk keeps
# its key.
. /test/lib.sh
setup_exports
check insmod /test/netdisk.ko
since=$(log_mark)
/usr/sbin/netdiskctl keygen > /tmp/old.key
/usr/sbin/netdiskctl keygen > /tmp/new.key
chmod 600 /tmp/old.key /tmp/new.key
(umask 077; echo "rot $(cat /tmp/old.key)" > /tmp/t40.keys)
sed 's|^key-file = .*|key-file = /tmp/t40.keys|' /srv/netdiskd.conf > /tmp/t40.conf
server() {
	/usr/sbin/netdiskd --config /tmp/t40.conf --listen 127.0.0.1:26547 >> /srv/netdiskd.log 2>&1 &
	echo $! > /srv/netdiskd.pid
	wait_listen
}
server
dev=$(/usr/sbin/netdiskctl attach -K /tmp/old.key --identity rot --connections 2 \
	--dead-timeout 0 netdisk://127.0.0.1) || die "attach with the old key"
wait_dev "$dev"
$DD if=/dev/urandom of=/tmp/blk bs=64k count=1 2>/dev/null
# the server holds both keys while the disk moves over
(umask 077; { echo "rot $(cat /tmp/old.key)"; echo "rot $(cat /tmp/new.key)"; } > /tmp/t40.keys)
reloads=$(grep -c "reloaded" /srv/netdiskd.log)
kill -HUP "$(cat /srv/netdiskd.pid)"
i=0
until [ "$(grep -c "reloaded" /srv/netdiskd.log)" -gt "$reloads" ]; do
	i=$((i + 1)); [ $i -gt 100 ] && die "no reload: $(tail -n 3 /srv/netdiskd.log)"
	sleep 0.1
done
/usr/sbin/netdiskctl rekey -K /tmp/new.key "$dev" 2> /tmp/rekey.err ||
	die "rekey: $(cat /tmp/rekey.err)"
wait_log "$since" "$dev.*new key" 5
[ "$(attr "$dev" reconnects)" = 0 ] || die "the rekey cut a connection"
# bad keys are refused and change nothing
head -c 31 /dev/urandom | /usr/bin/keyctl padd logon netdisk:short @u > /dev/null ||
	die "keyctl padd"
/usr/sbin/netdiskctl rekey --key-desc netdisk:short "$dev" 2>/dev/null && die "a short key was taken"
head -c 32 /dev/urandom | /usr/bin/keyctl padd logon other:x @u > /dev/null
index=${dev#netdisk}
[ "$(/usr/bin/ndgenl rekey "index#$index" key_desc=other:x)" = EKEYREJECTED ] ||
	die "another subsystem's key was taken"
[ "$(/usr/bin/ndgenl rekey "index#$index")" = EINVAL ] || die "a rekey without a key"
/usr/sbin/netdiskctl rekey -K /tmp/new.key netdisk99 2>/dev/null && die "rekey of no disk succeeded"
# the old key goes; a restart makes the disk reconnect, with the new key
(umask 077; echo "rot $(cat /tmp/new.key)" > /tmp/t40.keys)
stop_server KILL
server
$DD if=/tmp/blk of=/dev/"$dev" conv=nocreat bs=64k seek=30 oflag=direct 2>/tmp/dd.err ||
	die "write after the restart: $(cat /tmp/dd.err)"
[ "$($DD if=/srv/disk.img bs=64k skip=30 count=1 2>/dev/null | $SHA)" = "$($SHA < /tmp/blk)" ] ||
	die "the write did not reach the export"
[ "$(attr "$dev" reconnects)" -ge 1 ] || die "the disk did not reconnect"
log_since "$since" | grep -q "rejected the key" && die "a connection used the old key"
log_since "$since" | grep -q "I/O error" && die "I/O error"
detach "$dev"
check rmmod netdisk
stop_server
