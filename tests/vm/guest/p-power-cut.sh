# One boot of tests/vm/power-cut: netdiskd serves a copy-on-write export
# whose overlays live on a virtio disk (cache=none). The kernel command line
# says what this boot does: nd_phase=init makes the disk's files; run checks
# what generation nd_gen-1 left after the power was cut (nd_flushed: the
# writes its last completed FLUSH covered), then writes generation nd_gen
# until the host kills QEMU (in even generations, netdiskd is killed under
# the writer and then restarted again and again, so that the power also
# goes while a start replays the journal); final only checks.
. /test/lib.sh
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p"; }
phase=$(arg nd_phase)
gen=$(arg nd_gen)
flushed=$(arg nd_flushed)
D=/mnt/disk
URI=netdisk://127.0.0.1/golden
mkdir -p $D
i=0
while [ ! -b /dev/vda ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && die "no /dev/vda"
	sleep 0.1
done
check mount -t ext4 /dev/vda $D
if [ "$phase" = init ]; then
	echo "pc $(/usr/sbin/netdiskctl keygen)" > $D/keys
	chmod 600 $D/keys
	$DD if=/dev/zero of=$D/base.img bs=1M count=0 seek=64 2>/dev/null
	mkdir -p $D/overlays
	printf 'key-file = %s/keys\n[export golden]\npath = %s/base.img\ncopy-on-write = %s/overlays\n' \
		$D $D $D > $D/pc.conf
	sync
	check umount $D
	exit 0
fi
serve() {
	/usr/sbin/netdiskd --config $D/pc.conf --listen 127.0.0.1:26547 >> /tmp/netdiskd.log 2>&1 &
	srv=$!
	wait_listen
}
serve
if [ "$gen" -gt 1 ]; then
	/usr/bin/ndpowercut check $D/keys pc $URI $((gen - 1)) "$flushed" $D/tags ||
		die "power cut: generation $((gen - 1)) did not survive: $(tail -n 5 /tmp/netdiskd.log)"
fi
if [ "$phase" = run ]; then
	echo "power-cut: writing $gen"
	if [ $((gen % 2)) = 1 ]; then
		/usr/bin/ndpowercut write $D/keys pc $URI "$gen"
		die "the writer stopped before the power was cut: $(tail -n 5 /tmp/netdiskd.log)"
	fi
	# even generations: netdiskd killed under the writer, then killed and
	# started again and again until the power goes, each start replaying
	# the overlay's journal for a client and flushing the map when it leaves
	/usr/bin/ndpowercut write $D/keys pc $URI "$gen" &
	sleep 0.3
	n=0
	while :; do
		kill -9 $srv
		wait $srv 2>/dev/null
		serve
		/usr/sbin/netdiskctl info -K $D/keys -i pc $URI > /dev/null ||
			die "info after a restart: $(tail -n 5 /tmp/netdiskd.log)"
		n=$((n + 1))
		echo "power-cut: netdiskd restarted $n times"
	done
fi
kill $srv
sleep 1
check umount $D
