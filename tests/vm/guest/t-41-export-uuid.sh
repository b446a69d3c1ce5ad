# Each export has a UUID, sent in INFO: sysfs netdisk/uuid shows it, udev
# links /dev/disk/by-id/netdisk-UUID (and -partN) to the disk, and
# netdiskctl info says the same one. It survives a server restart, and the
# disk carries on. An export whose UUID changed while the disk reconnected
# is another disk: its I/O fails, as for a changed size. Before, there was
# no UUID and a disk had no name that did not depend on the server's
# address.
. /test/lib.sh
start_server
check insmod /test/netdisk.ko
/usr/bin/systemd-udevd --daemon --resolve-names=never 2>/dev/null || die "udevd"
since=$(log_mark)
(umask 077; echo "guest $(key)" > /tmp/t41.keys)
ctl() { /usr/sbin/netdiskctl -K /tmp/t41.keys "$@"; }
uuid=$(ctl info netdisk://127.0.0.1/ro | sed -n 's/^uuid: //p')
echo "$uuid" | grep -Eq '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' || die "info: uuid '$uuid'"
other=$(ctl info netdisk://127.0.0.1 | sed -n 's/^uuid: //p')
[ "$other" != "$uuid" ] || die "two exports share UUID $uuid"
[ "$(ctl -j 1 --dead-timeout 10 attach netdisk://127.0.0.1/ro)" = netdisk0 ] || die "attach"
[ "$(attr netdisk0 uuid)" = "$uuid" ] || die "sysfs uuid $(attr netdisk0 uuid), info $uuid"
/usr/bin/udevadm settle
[ "$(readlink -f /dev/disk/by-id/netdisk-"$uuid")" = /dev/netdisk0 ] ||
	die "no by-id link: $(ls -l /dev/disk/by-id 2>&1)"
stop_server
start_server
check $DD if=/dev/netdisk0 of=/dev/null bs=64k count=4 iflag=direct 2>/dev/null
[ "$(attr netdisk0 uuid)" = "$uuid" ] || die "the UUID changed across a restart"
# the export is given another UUID: the disk must not go on with it
stop_server
sed '/^\[export ro\]$/a uuid = 1b4e28ba-2fa1-11d2-883f-0016d3cca427' /srv/netdiskd.conf > /tmp/t41.conf
grep -q "^uuid = " /tmp/t41.conf || die "t41.conf: $(cat /tmp/t41.conf)"
/usr/sbin/netdiskd --config /tmp/t41.conf --listen 127.0.0.1:26547 >> /srv/netdiskd.log 2>&1 &
echo $! > /srv/netdiskd.pid
wait_listen
$DD if=/dev/netdisk0 of=/dev/null bs=64k count=4 skip=8 iflag=direct 2>/dev/null &&
	die "a read from the export with another UUID succeeded"
wait_log "$since" "export changed under us" 20
check detach netdisk0
/usr/bin/udevadm settle
[ ! -e /dev/disk/by-id/netdisk-"$uuid" ] || die "the by-id link outlived the disk"
check rmmod netdisk
stop_server
