# Attach and detach need CAP_SYS_ADMIN, as nbd's connect and disconnect do:
# a network daemon that holds only CAP_NET_ADMIN cannot attach a disk, nor
# detach one under a mounted file system. And the module uses only the
# keyring's "netdisk:" logon keys, never another subsystem's.
. /test/lib.sh
start_server
check insmod /test/netdisk.ko
check attach connections=1
wait_dev netdisk0
check /usr/bin/mkfs.ext4 -q -F /dev/netdisk0
mkdir -p /mnt/t26
mount -t ext4 /dev/netdisk0 /mnt/t26 || die "mount"
(umask 077; key > /tmp/t26.key)
chown 65534:65534 /tmp/t26.key
net_admin() {	# net_admin CMD...: as nobody, with CAP_NET_ADMIN and nothing else
	/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
		--bounding-set=-all,+net_admin "$@"
}
caps=$(net_admin /bin/cat /proc/self/status | grep '^CapEff:')
[ "${caps##*[	 ]}" = 0000000000001000 ] || die "setpriv gave $caps"
net_admin /usr/sbin/netdiskctl attach -K /tmp/t26.key netdisk://127.0.0.1/ro 2>/tmp/err &&
	die "a process with only CAP_NET_ADMIN attached a disk"
grep -q "needs CAP_SYS_ADMIN" /tmp/err || die "attach with CAP_NET_ADMIN: $(cat /tmp/err)"
[ ! -e /dev/netdisk1 ] || die "netdisk1 appeared"
net_admin /usr/sbin/netdiskctl detach netdisk0 2>/tmp/err &&
	die "a process with only CAP_NET_ADMIN detached a mounted disk"
grep -q "needs CAP_SYS_ADMIN" /tmp/err || die "detach with CAP_NET_ADMIN: $(cat /tmp/err)"
[ -b /dev/netdisk0 ] || die "netdisk0 is gone"
# the kernel says so itself, whatever the tool: EPERM from the netlink call
[ "$(net_admin /usr/bin/ndgenl detach index#0)" = EPERM ] || die "genl detach with CAP_NET_ADMIN"
echo data > /mnt/t26/f || die "the file system no longer writes"
umount /mnt/t26 || die "umount"

# another subsystem's 32-byte logon key is not ours to prove
printf "$(key | sed 's/../\\x&/g')" | /usr/bin/keyctl padd logon other:service @u > /dev/null ||
	die "keyctl padd"
/usr/sbin/netdiskctl attach --key-desc other:service -j 1 netdisk://127.0.0.1/ro 2>/tmp/err &&
	die "netdiskctl attached with another subsystem's logon key"
grep -q "description starts with 'netdisk:', such as 'netdisk:service'" /tmp/err ||
	die "netdiskctl, foreign key: $(cat /tmp/err)"
# the module refuses it too, whoever asks
got=$(/usr/bin/ndgenl attach address=127.0.0.1 key_desc=other:service export=ro)
[ "$got" = EKEYREJECTED ] || die "a genl attach with another subsystem's key: $got"
dmesg | grep -q "key 'other:service' is not a netdisk key" || die "no log line for the foreign key"
[ ! -e /dev/netdisk1 ] || die "netdisk1 appeared"
check detach netdisk0
check rmmod netdisk
stop_server
