#!/usr/bin/env bash
# need.sh PACKAGE... : installs the Debian packages that are missing, for the
# make targets whose tests run real components (HAProxy, Redis, clients). A
# fresh machine has empty package lists, so they are updated first, once.
set -euo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
