# netdiskctl attach/list/detach, and the udev rule's /dev/netdisk/ names.
. /test/lib.sh
start_server
check insmod /test/netdisk.ko
/usr/bin/systemd-udevd --daemon --resolve-names=never 2>/dev/null || die "udevd"
cat > /srv/client.conf <<CONF
guest $(key)
stranger 0000000000000000000000000000000000000000000000000000000000000001
CONF
chmod 600 /srv/client.conf
ctl() { /usr/sbin/netdiskctl "$@"; }

[ "$(ctl attach -K /srv/client.conf netdisk://127.0.0.1)" = netdisk0 ] || die "attach"
[ "$(ctl attach -K /srv/client.conf -j 1 netdisk://127.0.0.1/ro)" = netdisk1 ] || die "attach ro"
ctl list > /tmp/list
grep -q "netdisk0 *127.0.0.1 *26547 *(default) *guest *connected" /tmp/list || die "list: $(cat /tmp/list)"
grep -q "netdisk1 *127.0.0.1 *26547 *ro *guest *connected" /tmp/list || die "list ro"
/usr/bin/udevadm settle
# list adds the size, the /dev link, the netdisktab name and each connection
printf 'rodisk netdisk://guest@127.0.0.1/ro key-file=/srv/client.conf\n' > /srv/tab
dd if=/dev/netdisk0 of=/dev/null bs=4k count=16 iflag=direct status=none
ctl list --table /srv/tab --json > /tmp/list.json
size0=$(($(cat /sys/block/netdisk0/size) * 512))
grep -q '^\[{"disk": "netdisk0", "host": "127.0.0.1", "port": 26547, "export": "", "identity": "guest", "state": "connected", "size": '"$size0"', "name": null, "links": \["/dev/netdisk/127.0.0.1"\], "connections": \[{"index": 0, "state": "live", "requests": [0-9]*, "reconnects": 0, "records": [0-9]*}' /tmp/list.json ||
	die "list --json: $(cat /tmp/list.json)"
# the reads went to the connection of the CPU that dd ran on: one of them counts them
sed 's/{"disk": "netdisk1".*//' /tmp/list.json | grep -q '"requests": [1-9][0-9]*, "reconnects": 0, "records": [1-9]' ||
	die "list --json: no connection of netdisk0 counted the reads: $(cat /tmp/list.json)"
grep -q '{"disk": "netdisk1", "host": "127.0.0.1", "port": 26547, "export": "ro", "identity": "guest", "state": "connected", "size": [0-9]*, "name": "rodisk", "links": \["/dev/netdisk/127.0.0.1-ro"\], "connections": \[{"index": 0, "state": "live", "requests": [0-9]*, "reconnects": 0, "records": [0-9]*}\]}\]$' /tmp/list.json ||
	die "list --json, the disk with a name: $(cat /tmp/list.json)"
ctl list --table /srv/tab > /tmp/list
grep -q "netdisk1 .* connected *[0-9]* *rodisk */dev/netdisk/127.0.0.1-ro$" /tmp/list || die "list: $(cat /tmp/list)"
grep -q "^  connection 0: live, [0-9]* requests, 0 reconnects" /tmp/list || die "list connections: $(cat /tmp/list)"
[ "$(readlink /dev/netdisk/127.0.0.1)" = ../netdisk0 ] || die "no /dev/netdisk/127.0.0.1"
[ "$(readlink /dev/netdisk/127.0.0.1-ro)" = ../netdisk1 ] || die "no /dev/netdisk/127.0.0.1-ro"
echo 'label: dos
start=2048, size=8192, type=83' | /usr/bin/sfdisk -q /dev/netdisk0 || die "sfdisk"
/usr/bin/udevadm settle
[ -b /dev/netdisk/127.0.0.1-part1 ] || die "no partition link: $(ls /dev/netdisk)"

ctl attach -K /srv/client.conf -i stranger netdisk://127.0.0.1 2>/tmp/err && die "unknown identity attached"
grep -q "rejected the key" /tmp/err || die "attach error: $(cat /tmp/err)"
ctl attach -K /srv/client.conf netdisk://127.0.0.1/nope 2>/tmp/err && die "missing export attached"
grep -q "no such export" /tmp/err || die "attach error: $(cat /tmp/err)"

check ctl detach /dev/netdisk/127.0.0.1
check ctl detach netdisk1
/usr/bin/udevadm settle
[ ! -e /dev/netdisk/127.0.0.1 ] && [ ! -e /dev/netdisk/127.0.0.1-ro ] || die "links left after detach"
check rmmod netdisk
# the suites after this one must not share the disks with udev's probes:
# a blkid that still holds a new disk open makes their rmmod fail with EAGAIN
/usr/bin/udevadm control --exit || die "udevd did not exit"
stop_server
