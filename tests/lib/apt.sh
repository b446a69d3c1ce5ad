# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
# Sourced by the test harnesses: the Debian archive this machine's apt uses,
# so that the tests fetch from the same place, and a local mirror or an apt
# proxy works as it is.
#
#   debian_mirror            the archive serving the host's suite
#   debian_mirror security   the archive serving SUITE-security
#
# MIRROR= and SECURITY_MIRROR= override. Reads the deb822 .sources files and
# the one-line sources.list format. Sourcing this file also exports apt's
# Acquire::http::Proxy as http_proxy (for debootstrap), unless it is set.

debian_mirror() {
	local want=${1:-main} codename suite uri
	case $want in
	main) [ -n "${MIRROR:-}" ] && { echo "$MIRROR"; return 0; } ;;
	security) [ -n "${SECURITY_MIRROR:-}" ] && { echo "$SECURITY_MIRROR"; return 0; } ;;
	*) echo "debian_mirror: main or security, not $want" >&2; return 2 ;;
	esac
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || { echo "debian_mirror: no VERSION_CODENAME in /etc/os-release" >&2; return 1; }
	[ "$want" = security ] && suite=$codename-security || suite=$codename
	uri=$(apt_sources | awk -v s="$suite" '{ for (i = 2; i <= NF; i++) if ($i == s) { print $1; exit } }')
	if [ -z "$uri" ]; then
		echo "debian_mirror: no apt source serves $suite; set MIRROR= (or SECURITY_MIRROR=)" >&2
		return 1
	fi
	echo "${uri%/}"
}

# one "URI SUITE..." line per enabled deb source, in apt's order
apt_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\)[[:space:]]\+\([^[:space:]]\+\).*/\2 \3/p' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no")
				for (i = 1; i <= nu; i++) print uri[i], suites
			types = ""; suites = ""; nu = 0; enabled = "" }
		     /^[[:space:]]*#/ { next }
		     /^[[:space:]]*$/ { flush(); next }
		     tolower($1) == "types:" { $1 = ""; types = $0 }
		     tolower($1) == "uris:" { for (i = 2; i <= NF; i++) uri[++nu] = $i }
		     tolower($1) == "suites:" { $1 = ""; suites = $0 }
		     tolower($1) == "enabled:" { enabled = tolower($2) }
		     END { flush() }' "$f"
	done
}

if [ -z "${http_proxy:-}" ]; then
	eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
	if [ -n "${http_proxy:-}" ]; then
		export http_proxy
	fi
fi
