# Two disks, two identities, one copy-on-write export: each its own ext4.
. /test/lib.sh
setup_exports
mkdir -p /srv/overlays
$DD if=/dev/zero of=/srv/golden.img bs=1M count=0 seek=128 2>/dev/null
/usr/bin/mkfs.ext4 -q -F /srv/golden.img || die "mkfs golden"
base=$(sha_of /srv/golden.img 0 128)
cat >> /srv/netdiskd.conf <<CONF
[export golden]
path = /srv/golden.img
copy-on-write = /srv/overlays
CONF
start_server
check insmod /test/netdisk.ko
# the default key does not prove an identity: no overlay for it
attach export=golden identity=lab-a 2>/dev/null && die "the default key got an overlay"
check attach export=golden identity=lab-a key="$(cat /srv/lab-a.key)"
check attach export=golden identity=lab-b key="$(cat /srv/lab-b.key)"
wait_dev netdisk0
wait_dev netdisk1
mkdir -p /mnt/a /mnt/b
check mount -t ext4 /dev/netdisk0 /mnt/a
check mount -t ext4 /dev/netdisk1 /mnt/b
echo "I am a" > /mnt/a/who
echo "I am b" > /mnt/b/who
$DD if=/dev/urandom of=/mnt/a/data bs=1M count=4 2>/dev/null
$SHA /mnt/a/data | cut -d' ' -f1 > /tmp/a.sum
check umount /mnt/a
check umount /mnt/b
check detach netdisk0
check detach netdisk1
[ "$(sha_of /srv/golden.img 0 128)" = "$base" ] || die "the base image changed"
[ -s /srv/overlays/golden/lab-a.map ] && [ -s /srv/overlays/golden/lab-b.map ] || die "no overlays"
# re-attach in the other order: each identity finds its own filesystem
check attach export=golden identity=lab-b key="$(cat /srv/lab-b.key)"
check attach export=golden identity=lab-a key="$(cat /srv/lab-a.key)"
wait_dev netdisk1
check /usr/bin/e2fsck -fn /dev/netdisk0
check /usr/bin/e2fsck -fn /dev/netdisk1
check mount -t ext4 /dev/netdisk0 /mnt/b
check mount -t ext4 /dev/netdisk1 /mnt/a
[ "$(cat /mnt/a/who)" = "I am a" ] || die "a sees $(cat /mnt/a/who)"
[ "$(cat /mnt/b/who)" = "I am b" ] || die "b sees $(cat /mnt/b/who)"
[ ! -e /mnt/b/data ] || die "b sees a's file"
[ "$($SHA /mnt/a/data | cut -d' ' -f1)" = "$(cat /tmp/a.sum)" ] || die "a's data differs"
check umount /mnt/a
check umount /mnt/b
check rmmod netdisk
stop_server
