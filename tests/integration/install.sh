#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
# cmake --install puts every file a source install needs where the system
# looks for it, and never overwrites an administrator's config.
#   install.sh BUILD_DIR
set -eu
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest cmake --install "$build" --prefix /usr > /dev/null
units=$(pkg-config --variable=systemdsystemunitdir systemd)
udev=$(pkg-config --variable=udevdir udev)
sysusers=$(pkg-config --variable=sysusersdir systemd)
generators=$(pkg-config --variable=systemdsystemgeneratordir systemd)
for f in /usr/sbin/netdiskd /usr/bin/netdiskctl "$units/netdiskd.service" \
	 "$units/netdiskd.socket" "$units/netdisk@.service" "$udev/rules.d/60-netdisk.rules" \
	 "$generators/netdisk-generator" /etc/netdisk/netdisktab /etc/netdisk/initramfs.conf \
	 /usr/share/initramfs-tools/hooks/netdisk /usr/share/initramfs-tools/scripts/local-top/netdisk \
	 /usr/share/initramfs-tools/scripts/local-bottom/netdisk \
	 /usr/share/initramfs-tools/conf-hooks.d/netdisk /usr/share/man/man7/netdisk-boot.7 \
	 "$sysusers/netdiskd.conf" /etc/netdisk/netdiskd.conf \
	 /usr/share/man/man1/netdiskctl.1 /usr/share/man/man4/netdisk.4 \
	 /usr/share/man/man5/netdiskd.conf.5 /usr/share/man/man5/netdisktab.5 \
	 /usr/share/man/man8/netdiskd.8 /usr/share/man/man8/netdisk-generator.8 \
	 /usr/share/bash-completion/completions/netdiskctl \
	 /usr/share/bash-completion/completions/netdiskd; do
	[ -f "$dest$f" ] || { echo "install: $f was not installed" >&2; exit 1; }
done
for conf in netdiskd.conf netdisktab; do
	echo "# the administrator's" > "$dest/etc/netdisk/$conf"
done
DESTDIR=$dest cmake --install "$build" --prefix /usr > /dev/null
for conf in netdiskd.conf netdisktab; do
	grep -q "administrator's" "$dest/etc/netdisk/$conf" ||
		{ echo "install: a reinstall overwrote /etc/netdisk/$conf" >&2; exit 1; }
done
echo "install: every file in place, the config kept"
