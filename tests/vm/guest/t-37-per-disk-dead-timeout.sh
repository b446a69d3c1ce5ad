# Timeouts per disk. Beside a disk on the module's dead_timeout (3 s here),
# one attached with dead_timeout 0 rides out a 10 s outage: its write waits
# and completes once the server is back, with no I/O error logged, while the
# other disk's write fails. sysfs says which timeouts each disk has.
. /test/lib.sh
start_server
since=$(log_mark)
check load connections=1 dead_timeout=3
wait_dev netdisk0
check attach connections=1 timeout=7 dead_timeout=0
wait_dev netdisk1
[ "$(attr netdisk0 dead_timeout)" = 3 ] && [ "$(attr netdisk0 timeout)" = 30 ] ||
	die "netdisk0: dead_timeout $(attr netdisk0 dead_timeout), timeout $(attr netdisk0 timeout)"
[ "$(attr netdisk1 dead_timeout)" = 0 ] && [ "$(attr netdisk1 timeout)" = 7 ] ||
	die "netdisk1: dead_timeout $(attr netdisk1 dead_timeout), timeout $(attr netdisk1 timeout)"
$DD if=/dev/urandom of=/tmp/blk bs=64k count=1 2>/dev/null
stop_server KILL
$DD if=/tmp/blk of=/dev/netdisk0 conv=nocreat bs=64k seek=10 oflag=direct 2>/dev/null &
w0=$!
$DD if=/tmp/blk of=/dev/netdisk1 conv=nocreat bs=64k seek=20 oflag=direct 2>/dev/null &
w1=$!
sleep 10
kill -0 $w1 2>/dev/null || die "the disk with dead_timeout 0 gave up its write"
wait $w0 && die "the disk with dead_timeout 3 did not fail its write"
[ "$(attr netdisk0 state)" = failed ] || die "netdisk0 is $(attr netdisk0 state)"
[ "$(attr netdisk1 state)" = reconnecting ] || die "netdisk1 is $(attr netdisk1 state)"
start_server
wait_gone $w1 30 "the write did not complete once the server was back"
wait $w1 || die "the write failed after the server came back"
[ "$($DD if=/srv/disk.img bs=64k skip=20 count=1 2>/dev/null | $SHA)" = "$($SHA < /tmp/blk)" ] ||
	die "the server does not hold the write"
log_since "$since" | grep -q "I/O error, dev netdisk1" && die "netdisk1 logged an I/O error"
check detach netdisk1
check rmmod netdisk
stop_server
