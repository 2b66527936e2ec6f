#!/usr/bin/env bash
# The client matrix (make interop): each client's default usage against a
# freqd of its own, over TCP and a unix socket, asserting the answers.
# Installs what it needs from Debian's packages and npm, once; later runs
# reuse them. Clients: redis-py, phpredis, node-redis, ioredis, go-redis
# and redis-cli.
set -euo pipefail
cd "$(dirname "$0")/.."
export FREQD=${FREQD:-bin/freqd}
export PATH="/usr/local/go/bin:$PATH"

# Debian's packages. Only what is missing is installed, quietly.
debs=(python3-redis php-cli php-redis redis-tools)
missing=()
for p in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "interop: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm: the versions package.json names, into interop/node/node_modules,
# unless they are there already.
interop/node/install.sh

# What the server must answer, from the data it serves.
tsv=data/subtlex-us.tsv
EXPECT_THE=$(awk -F'\t' '$1=="the"{print $2}' "$tsv")
EXPECT_YOU=$(awk -F'\t' '$1=="you"{print $2}' "$tsv")
# SUBTLEX-US counts "don't" as "don" and "t"; the server answers it as "don".
EXPECT_DON=$(awk -F'\t' '$1=="don"{print $2}' "$tsv")
EXPECT_DBSIZE=$(awk -F'\t' 'NF==2{print tolower($1)}' "$tsv" | sort -u | wc -l)
export EXPECT_THE EXPECT_YOU EXPECT_DON EXPECT_DBSIZE

source interop/lib.sh
trap stop_freqd EXIT

# with_freqd NAME COMMAND...: run one client against a fresh server.
with_freqd() {
	local name=$1
	shift
	start_freqd
	if ! "$@"; then
		echo "interop: $name FAILED" >&2
		exit 1
	fi
	stop_freqd
}

with_freqd redis-py /usr/bin/python3 interop/redis_py.py
with_freqd phpredis php interop/phpredis.php
with_freqd node-redis node interop/node/node-redis.mjs
with_freqd ioredis node interop/node/ioredis.mjs
with_freqd go-redis go run ./interop/goredis
with_freqd redis-cli interop/redis_cli.sh
echo "interop: every client passed"
