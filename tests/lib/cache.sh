# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
# Sourced by the test harnesses: a cache of things that are slow to make and
# do not depend on netdisk's own code (debootstrapped roots, kernel images,
# build chroots). It lives outside the clone, so that it survives between
# runs on the same machine:
#
#   NETDISK_TEST_CACHE   default /var/cache/netdisk-tests
#                        (NETDISK_TEST_CACHE=off builds everything afresh,
#                        in build/cache-off/)
#
# An item is NAME/KEY/. NAME says what it is (kernel-6.1.0-41-amd64); KEY is
# a hash of the versions of everything that went in and of the recipe that
# made it. An item is used only when its key matches; when a new key is
# built, the other keys of the same NAME are deleted. Nothing expires by age.
# An item is complete once NAME/KEY/.complete exists; a build that fails
# leaves only NAME/KEY.tmp, which the next build removes. Each NAME has a
# lock, so that two harnesses running at once build it once.

NETDISK_TEST_CACHE=${NETDISK_TEST_CACHE:-/var/cache/netdisk-tests}

cache_log() { printf 'cache: %s\n' "$*" >&2; }

# cache_key PART...: a short hash of the parts
cache_key() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

# cache_item NAME KEY DESCRIPTION BUILD-COMMAND...: prints the item's
# directory, building it first with BUILD-COMMAND DIR when it is missing.
# DESCRIPTION (the versions behind KEY) goes into the log either way.
cache_item() {
	local name=$1 key=$2 desc=$3 base dir rc=0
	shift 3
	if [ "$NETDISK_TEST_CACHE" = off ]; then
		base=$PWD/build/cache-off/$name	# the harnesses run from the tree's top
	else
		base=$NETDISK_TEST_CACHE/$name
	fi
	dir=$base/$key
	mkdir -p "$base"
	exec {cache_lock}> "$base.lock"
	flock "$cache_lock"
	if [ -f "$dir/.complete" ] && [ "$NETDISK_TEST_CACHE" != off ]; then
		cache_log "using $name/$key ($desc)"
	else
		cache_log "building $name/$key ($desc)"
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		"$@" "$dir.tmp" >&2 || rc=$?
		if [ "$rc" -ne 0 ]; then
			exec {cache_lock}>&-
			cache_log "building $name/$key failed"
			return "$rc"
		fi
		printf '%s\n' "$desc" > "$dir.tmp/.complete"
		find "$base" -mindepth 1 -maxdepth 1 ! -name "$key" ! -name "$key.tmp" \
			-exec rm -rf {} + 2>/dev/null || true
		mv "$dir.tmp" "$dir"
	fi
	exec {cache_lock}>&-
	printf '%s\n' "$dir"
}

# cache_recipe FUNCTION...: the hash of the shell functions that make an
# item, as bash prints them, so that a changed recipe makes a new key and
# an edit elsewhere in the script does not
cache_recipe() { declare -f "$@" | sha256sum | cut -c1-16; }
