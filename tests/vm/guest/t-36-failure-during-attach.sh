# The server dies just as attach starts a connection (fault point 6 holds
# attach for 2 s between starting it and making its queue live): the queue
# stays with recovery, which reconnects once the server is back, and the
# attach and its partition scan complete. Were attach to make the queue
# live over recovery's state, its I/O would wait for ever on a stopped queue.
. /test/lib.sh
start_server
since=$(log_mark)
check insmod /test/netdisk.ko
fault 6 2000
attach connections=1 > /tmp/attach.out 2>&1 &
attacher=$!
wait_log "$since" "fault point 6" 20
stop_server KILL
# back only after attach went on: recovery is still reconnecting then
sleep 3
start_server
wait_gone $attacher 30 "attach hung after its connection failed as it started"
wait $attacher || die "attach failed: $(cat /tmp/attach.out)"
i=0
until [ "$(attr netdisk0 state)" = connected ]; do
	i=$((i + 1)); [ $i -gt 300 ] && die "not connected again: $(attr netdisk0 state)"; sleep 0.1
done
[ "$(sha_of /dev/netdisk0 0 1 direct)" = "$(sha_of /srv/disk.img 0 1)" ] || die "reads differ"
check detach netdisk0
check rmmod netdisk
stop_server
