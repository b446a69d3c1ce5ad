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
libdir=$(sed -n "s/^CMAKE_INSTALL_LIBDIR:PATH=//p" "$build/CMakeCache.txt")
plugindir=$(pkg-config --variable=plugindir nbdkit)
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
	 /usr/share/bash-completion/completions/netdiskd \
	 /usr/include/libnetdisk.h "/usr/$libdir/libnetdisk.so.0" "/usr/$libdir/pkgconfig/netdisk.pc" \
	 /usr/share/man/man3/libnetdisk.3 "$plugindir/nbdkit-netdisk-plugin.so" \
	 /usr/share/man/man1/nbdkit-netdisk-plugin.1 \
	 /usr/share/doc/netdisk-server/examples/block-device.conf; do
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
# a program builds against the installed library as pkg-config describes it
printf '%s\n' '#include <libnetdisk.h>' '#include <stdio.h>' \
	'int main(void) { struct netdisk *nd = netdisk_create(); puts(netdisk_get_version());' \
	'netdisk_close(nd); return !nd; }' \
	> "$dest/prog.c"
sed -i "s|^prefix=.*|prefix=$dest/usr|" "$dest/usr/$libdir/pkgconfig/netdisk.pc"
# shellcheck disable=SC2046
cc -Wall -Werror -o "$dest/prog" "$dest/prog.c" \
	$(PKG_CONFIG_PATH="$dest/usr/$libdir/pkgconfig" pkg-config --cflags --libs netdisk)
# a sanitized build's library wants the sanitizer's runtime loaded first
asan=$(ldd "$dest/usr/$libdir/libnetdisk.so.0" | awk '/libasan/ {print $3}')
LD_PRELOAD=$asan LD_LIBRARY_PATH="$dest/usr/$libdir" "$dest/prog" > /dev/null ||
	{ echo "install: a program linked with the installed libnetdisk failed" >&2; exit 1; }
echo "install: every file in place, the config kept, libnetdisk usable"
