# Benchmark (not a test): fio on netdisk (encrypted), on Debian's nbd.ko +
# nbd-server (plaintext), and on nbd.ko over IPsec ESP to an nbd-server in a
# network namespace; same tmpfs file, same guest, alternating runs. Then
# netdisk and nbd at 20 ms RTT, and the guest's gcm(aes) speed from tcrypt.
. /test/lib.sh
RUNS=${RUNS:-3}
SECONDS_PER_JOB=${SECONDS_PER_JOB:-5}
$DD if=/dev/urandom of=/srv/bench.img bs=1M count=256 2>/dev/null
/usr/sbin/netdiskctl keygen > /srv/key
chmod 600 /srv/key
printf 'key-file = /srv/key\n[export default]\npath = /srv/bench.img\n' > /srv/netdiskd.conf
echo 'root:x:0:' > /etc/group
nbd_conf() {	# nbd_conf ADDR
	cat <<CONF
[generic]
user = root
group = root
listenaddr = $1
port = 10809
[bench]
exportname = /srv/bench.img
flush = true
fua = true
CONF
}
nbd_conf 127.0.0.1 > /srv/nbd.conf
nbd_conf 169.254.10.2 > /srv/nbd-esp.conf
start_server
/usr/bin/nbd-server -C /srv/nbd.conf || die "nbd-server"
check load
wait_dev netdisk0
/usr/bin/nbd-client 127.0.0.1 10809 /dev/nbd0 -N bench -C 2 >/dev/null 2>&1 || die "nbd-client"

# the encrypted peer: ESP between this namespace and nbdpeer, over a veth pair
IP=/usr/bin/ip
mkdir -p /run/netns
$IP netns add nbdpeer || die "netns"
$IP link add veth0 type veth peer name veth1 || die "veth"
$IP link set veth1 netns nbdpeer
$IP addr add 169.254.10.1/24 dev veth0
$IP link set veth0 up
$IP netns exec nbdpeer $IP addr add 169.254.10.2/24 dev veth1
$IP netns exec nbdpeer $IP link set veth1 up
$IP netns exec nbdpeer $IP link set lo up
key_out=0x$(/usr/bin/dd if=/dev/urandom bs=36 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
key_in=0x$(/usr/bin/dd if=/dev/urandom bs=36 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
esp() {	# esp [netns exec NS]: the same two states and mirrored policies
	"$@" $IP xfrm state add src 169.254.10.1 dst 169.254.10.2 proto esp spi 0x101 \
		mode transport aead 'rfc4106(gcm(aes))' "$key_out" 128 || return 1
	"$@" $IP xfrm state add src 169.254.10.2 dst 169.254.10.1 proto esp spi 0x102 \
		mode transport aead 'rfc4106(gcm(aes))' "$key_in" 128 || return 1
}
policy() {	# policy LOCAL REMOTE [netns exec NS]
	l=$1 r=$2
	shift 2
	"$@" $IP xfrm policy add src "$l" dst "$r" proto 6 dir out \
		tmpl src "$l" dst "$r" proto esp mode transport || return 1
	"$@" $IP xfrm policy add src "$r" dst "$l" proto 6 dir in \
		tmpl src "$r" dst "$l" proto esp mode transport || return 1
}
esp || die "xfrm state"
esp $IP netns exec nbdpeer || die "xfrm state in nbdpeer"
policy 169.254.10.1 169.254.10.2 || die "xfrm policy"
policy 169.254.10.2 169.254.10.1 $IP netns exec nbdpeer || die "xfrm policy in nbdpeer"
$IP netns exec nbdpeer /usr/bin/nbd-server -C /srv/nbd-esp.conf || die "nbd-server in nbdpeer"
i=0
until /usr/bin/nbd-client 169.254.10.2 10809 /dev/nbd1 -N bench -C 2 >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 30 ] && die "nbd-client over ESP"; sleep 0.5
done

# name, rw, bs, iodepth
JOBS="read-1M-QD8:read:1m:8 write-1M-QD8:write:1m:8 randread-4K-QD32:randread:4k:32 randwrite-4K-QD32:randwrite:4k:32"

measure() {	# measure DEV RW BS QD -> prints MB/s
	/usr/bin/fio --name=b --filename="$1" --ioengine=libaio --direct=1 --rw="$2" \
		--bs="$3" --iodepth="$4" --size=256m --time_based --runtime="$SECONDS_PER_JOB" \
		--ramp_time=1 --minimal 2>/dev/null |
	awk -F';' '{ printf "%.1f\n", ($7 + $48) * 1024 / 1e6 }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }

echo "BENCH job netdisk nbd nbd+ESP netdisk/nbd netdisk/nbd+ESP"
for job in $JOBS; do
	IFS=: read -r name rw bs qd <<JOB
$job
JOB
	nd="" nb="" ne=""
	r=0
	while [ $r -lt "$RUNS" ]; do
		nd="$nd $(measure /dev/netdisk0 "$rw" "$bs" "$qd")"
		nb="$nb $(measure /dev/nbd0 "$rw" "$bs" "$qd")"
		ne="$ne $(measure /dev/nbd1 "$rw" "$bs" "$qd")"
		r=$((r + 1))
	done
	ndm=$(echo "$nd" | median)
	nbm=$(echo "$nb" | median)
	nem=$(echo "$ne" | median)
	echo "BENCH $name $ndm $nbm $nem $(ratio "$ndm" "$nbm") $(ratio "$ndm" "$nem")"
	eval "nd_$(echo "$name" | tr -- '-' '_')=$ndm"
done
esp_bytes=$($IP -s xfrm state | awk '/lifetime current:/ { getline; s += $1 } END { print s + 0 }')
echo "BENCH-nbd+ESP: $esp_bytes bytes went through the ESP states"
[ "$esp_bytes" -gt 1000000 ] || echo "BENCH-WARNING: ESP carried almost nothing: the nbd+ESP column is not encrypted"

# 20 ms RTT on loopback: 10 ms each way, for netdisk and nbd alike
/usr/bin/tc qdisc add dev lo root netem delay 10ms limit 100000 || die "netem"
echo "BENCH-at 20 ms RTT: job netdisk nbd netdisk/nbd (MB/s, median of $RUNS)"
for job in randread-4K-QD32:randread:4k:32 read-1M-QD8:read:1m:8 write-1M-QD8:write:1m:8; do
	IFS=: read -r name rw bs qd <<JOB
$job
JOB
	v="" w=""
	r=0
	while [ $r -lt "$RUNS" ]; do
		v="$v $(measure /dev/netdisk0 "$rw" "$bs" "$qd")"
		w="$w $(measure /dev/nbd0 "$rw" "$bs" "$qd")"
		r=$((r + 1))
	done
	vm=$(echo "$v" | median)
	wm=$(echo "$w" | median)
	eval "zero=\$nd_$(echo "$name" | tr -- '-' '_')"
	echo "BENCH-at 20 ms RTT: $name $vm $wm $(ratio "$vm" "$wm"); netdisk at 0 ms: $zero"
done
echo "BENCH-requests in flight per connection (peak, after every job):"
sed 's/^/BENCH-  /' /sys/block/netdisk0/netdisk/queues
/usr/bin/tc qdisc del dev lo root

# the cipher ceiling: tcrypt's gcm(aes) with a 256-bit key on 8 KiB blocks
insmod /test/ko/tcrypt.ko mode=211 sec=1 2>/dev/null
ceiling=$(dmesg | awk '/testing speed of .*gcm\(aes\).* encryption/ { on = 1 } on && /256 bit key, 8192 byte blocks/ { for (i = 1; i <= NF; i++) if ($i == "bytes)") { gsub(/[()]/, "", $(i - 1)); print $(i - 1) / 1e6; exit } }')
if [ -n "$ceiling" ]; then
	echo "BENCH-gcm(aes) in this guest (tcrypt, 8 KiB): $ceiling MB/s"
	echo "BENCH-netdisk read 1M QD8 / ceiling: $(ratio "$nd_read_1M_QD8" "$ceiling"); write: $(ratio "$nd_write_1M_QD8" "$ceiling")"
else
	echo "BENCH-tcrypt printed no gcm(aes) figure"
fi

# the cache: 4 KiB random reads at QD1 over a 32 MiB hot set, cache off
# (netdisk0) and on (netdisk1, 64 MiB), after one warming pass
attach cache_mb=64 || die "attach"
wait_dev netdisk1
hot() {
	/usr/bin/fio --name=h --filename="$1" --ioengine=libaio --direct=1 --rw=randread \
		--bs=4k --iodepth=1 --size=32m --time_based --runtime="$SECONDS_PER_JOB" \
		--minimal 2>/dev/null | awk -F';' '{ print $8 }'
}
$DD if=/dev/netdisk1 of=/dev/null bs=1M count=32 iflag=direct 2>/dev/null
off="" on=""
r=0
while [ $r -lt "$RUNS" ]; do
	off="$off $(hot /dev/netdisk0)"
	on="$on $(hot /dev/netdisk1)"
	r=$((r + 1))
done
offm=$(echo "$off" | median)
onm=$(echo "$on" | median)
echo "BENCH-cache: 4 KiB random reads, QD1, 32 MiB hot set: $onm IOPS with a 64 MiB cache, $offm without ($(ratio "$onm" "$offm")x)"

/usr/bin/nbd-client -d /dev/nbd0 >/dev/null 2>&1
/usr/bin/nbd-client -d /dev/nbd1 >/dev/null 2>&1
rmmod netdisk
stop_server
