# Benchmark (not a test): fio on netdisk (encrypted) and on Debian's nbd.ko +
# nbd-server (plaintext), same tmpfs file, same guest, alternating runs.
. /test/lib.sh
RUNS=${RUNS:-3}
SECONDS_PER_JOB=${SECONDS_PER_JOB:-5}
$DD if=/dev/urandom of=/srv/bench.img bs=1M count=256 2>/dev/null
/usr/sbin/netdiskctl keygen > /srv/key
chmod 600 /srv/key
printf 'key-file = /srv/key\n[export default]\npath = /srv/bench.img\n' > /srv/netdiskd.conf
echo 'root:x:0:' > /etc/group
cat > /srv/nbd.conf <<CONF
[generic]
user = root
group = root
listenaddr = 127.0.0.1
port = 10809
[bench]
exportname = /srv/bench.img
flush = true
fua = true
CONF
start_server
/usr/bin/nbd-server -C /srv/nbd.conf || die "nbd-server"
check load
wait_dev netdisk0
/usr/bin/nbd-client 127.0.0.1 10809 /dev/nbd0 -N bench -C 2 >/dev/null 2>&1 || die "nbd-client"

# name, rw, bs, iodepth
JOBS="seqread:read:1m:8 seqwrite:write:1m:8 randread-qd1:randread:4k:1 randread-qd32:randread:4k:32 randwrite-qd32:randwrite:4k:32"

measure() {	# measure DEV RW BS QD -> prints IOPS
	/usr/bin/fio --name=b --filename="$1" --ioengine=libaio --direct=1 --rw="$2" \
		--bs="$3" --iodepth="$4" --size=256m --time_based --runtime="$SECONDS_PER_JOB" \
		--ramp_time=1 --minimal 2>/dev/null |
	awk -F';' '{ print $8 + $49 }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "BENCH job netdisk_iops nbd_iops ratio"
for job in $JOBS; do
	IFS=: read -r name rw bs qd <<JOB
$job
JOB
	nd=""
	nb=""
	r=0
	while [ $r -lt "$RUNS" ]; do
		nd="$nd $(measure /dev/netdisk0 "$rw" "$bs" "$qd")"
		nb="$nb $(measure /dev/nbd0 "$rw" "$bs" "$qd")"
		r=$((r + 1))
	done
	ndm=$(echo "$nd" | median)
	nbm=$(echo "$nb" | median)
	echo "BENCH $name $ndm $nbm $(awk -v a="$ndm" -v b="$nbm" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
done
# the cache: 4 KiB random reads at QD1 over a 32 MiB hot set, cache off
# (netdisk0) and on (netdisk1, 64 MiB), after one warming pass each
echo "address=127.0.0.1 key=$(key) cache_mb=64" > /sys/kernel/netdisk/attach || die "attach"
wait_dev netdisk1
hot() {
	/usr/bin/fio --name=h --filename="$1" --ioengine=libaio --direct=1 --rw=randread \
		--bs=4k --iodepth=1 --size=32m --time_based --runtime="$SECONDS_PER_JOB" \
		--minimal 2>/dev/null | awk -F';' '{ print $8 }'
}
$DD if=/dev/netdisk1 of=/dev/null bs=1M count=32 iflag=direct 2>/dev/null
off=""
on=""
r=0
while [ $r -lt "$RUNS" ]; do
	off="$off $(hot /dev/netdisk0)"
	on="$on $(hot /dev/netdisk1)"
	r=$((r + 1))
done
offm=$(echo "$off" | median)
onm=$(echo "$on" | median)
echo "BENCH cache-randread-qd1-hot(on/off) $onm $offm $(awk -v a="$onm" -v b="$offm" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
/usr/bin/nbd-client -d /dev/nbd0 >/dev/null 2>&1
rmmod netdisk
stop_server
