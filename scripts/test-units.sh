#!/usr/bin/env bash
# make units: checks the systemd units and the sysusers.d file as
# `make install` installs them.
#
# They are installed under a scratch PREFIX (not DESTDIR), so that
# ExecStart= names a binary that exists and `systemd-analyze verify` checks
# it, and MANPATH points at the installed man page, which verify checks
# through Documentation=man:freqd(1). verify reports most mistakes (an
# unknown key, a bad value) as warnings and still exits 0, so any output
# at all fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v systemd-analyze >/dev/null; then
	echo "systemd-analyze not found; installing Debian's systemd package"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq systemd >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/usr
make -s install PREFIX="$prefix" BIN="$tmp/build/freqd" >/dev/null
units=$prefix/lib/systemd/system

fail=0
check() { # what, command...
	local what=$1
	shift
	local out
	if ! out=$("$@" 2>&1) || [ -n "$out" ]; then
		echo "FAIL: $what"
		echo "$out" | sed 's/^/    /'
		fail=1
	else
		echo "ok:   $what"
	fi
}
check "systemd-analyze verify freqd.service freqd.socket" \
	env MANPATH="$prefix/share/man" systemd-analyze verify "$units/freqd.service" "$units/freqd.socket"

# The fixes this file pins: the directory of the unix socket survives a
# restart of the service, the socket is for the group freqd, ExecStart=
# runs the installed binary, and no comment speaks of a User= line that
# is not there.
has() { # file, line
	if grep -qxF -- "$2" "$1"; then echo "ok:   $(basename "$1"): $2"; else echo "FAIL: $(basename "$1") lacks $2"; fail=1; fi
}
has "$units/freqd.service" "RuntimeDirectoryPreserve=yes"
has "$units/freqd.service" "ExecStart=$prefix/bin/freqd serve --user freqd --pidfile /run/freqd/freqd.pid \$FREQD_OPTS"
has "$units/freqd.socket" "SocketUser=freqd"
has "$units/freqd.socket" "SocketGroup=freqd"
has "$units/freqd.socket" "SocketMode=0660"
if grep -q 'User= below' "$units/freqd.service"; then
	echo "FAIL: freqd.service mentions a User= line below"
	fail=1
fi

# The user and group the units name, as systemd-sysusers would create
# them (in a scratch root: nothing on this machine changes).
mkdir -p "$tmp/root/etc"
out=$(systemd-sysusers --root="$tmp/root" --dry-run "$prefix/lib/sysusers.d/freqd.conf" 2>&1) || true
if grep -q "Creating group 'freqd'" <<<"$out" && grep -q "Creating user 'freqd'" <<<"$out"; then
	echo "ok:   sysusers.d creates the user and group freqd"
else
	echo "FAIL: systemd-sysusers --dry-run:"
	echo "$out" | sed 's/^/    /'
	fail=1
fi
exit $fail
