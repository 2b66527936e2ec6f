#!/usr/bin/env bash
# bench-redis.sh: Redis 7 and freqd's pre-forked designs, side by side,
# under redis-benchmark on the same keys.
#
# redis-benchmark -t get -r N asks for keys "key:" + a random number below N,
# zero-padded to 12 digits ("key:000000012345"). This script writes those N
# keys with counts to a TSV, builds a freqd table from it, loads the same
# keys and counts into a Redis of its own (redis-cli --pipe), checks that
# both answer alike, and then runs
#
#   redis-benchmark -p PORT -c CONNS -n REQUESTS -r KEYS -t get [-k 0]
#
# against Redis and against freqd in each pre-forked mode, with keep-alive
# connections and with a connection per request (-k 0). Besides
# redis-benchmark's req/s and latencies it reports the server's CPU per
# request (utime+stime of the server's processes and of the children they
# reaped, from /proc/PID/stat, before and after each run).
#
# Usage: scripts/bench-redis.sh [OUTDIR]   (default bench-out)
# Environment: FREQD (binary; default: built into OUTDIR), WORKERS (freqd
# workers; default nproc), CONNS (50), REQUESTS (200000), KEYS (100000),
# MODES ("fdpass accept reuseport").
#
# It installs redis-server and redis-tools with apt-get when they are
# missing, runs Redis on a free loopback port (never one already in use,
# such as 6379), and ends every process it started, by pid, on any exit.
set -euo pipefail

out=${1:-bench-out}
workers=${WORKERS:-$(nproc)}
conns=${CONNS:-50}
requests=${REQUESTS:-200000}
keys=${KEYS:-100000}
modes=${MODES:-fdpass accept reuseport}
tick_us=$((1000000 / $(getconf CLK_TCK)))

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/freqd-bench-redis.XXXXXX")

# stop ends a server: SIGTERM, then SIGKILL to it and to the children it
# had, found by pid before it was signalled.
stop() {
	local pid=$1 kids
	kids=$(pgrep -P "$pid" || true)
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" $kids 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# cleanup stops the servers still running: the background jobs of this
# shell, so a pid that has been waited for (and may have been reused) is
# never signalled.
cleanup() {
	local pid
	for pid in $(jobs -p); do stop "$pid"; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { command -v "$1" >/dev/null 2>&1; }
if ! need redis-server || ! need redis-benchmark || ! need redis-cli; then
	echo "installing redis-server and redis-tools" >&2
	apt-get install -y redis-server redis-tools >/dev/null
fi

freqd=${FREQD:-}
if [ -z "$freqd" ]; then
	freqd=$out/freqd
	go build -o "$freqd" ./cmd/freqd
fi

# free_port prints a loopback TCP port nobody listens on, from 6390 up.
free_port() {
	local p=6390
	while ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

# tree_ticks prints the CPU clock ticks used by process $1, its live
# descendants and the children they reaped: fields 14-17 of
# /proc/PID/stat (utime stime cutime cstime), found after the ")" that
# ends the command name.
tree_ticks() {
	local todo=("$1") sum=0 pid t
	while [ ${#todo[@]} -gt 0 ]; do
		pid=${todo[0]}
		todo=("${todo[@]:1}")
		t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12+$13+$14+$15}') || t=0
		sum=$((sum + ${t:-0}))
		todo+=($(pgrep -P "$pid" || true))
	done
	echo "$sum"
}

echo "writing $keys keys and building the freqd table" >&2
awk -v n="$keys" 'BEGIN { for (i = 0; i < n; i++) printf "key:%012d\t%d\n", i, (i * 7919) % 1000003 + 1 }' >"$work/keys.tsv"
"$freqd" build -o "$work/keys.freq" "$work/keys.tsv" 2>/dev/null

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
	--dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
awk -F'\t' '{ printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length($1), $1, length($2), $2 }' "$work/keys.tsv" |
	redis-cli -p "$redis_port" --pipe >/dev/null
loaded=$(redis-cli -p "$redis_port" dbsize)
if [ "$loaded" != "$keys" ]; then
	echo "bench-redis: Redis holds $loaded keys after loading $keys; see $work/redis.log" >&2
	exit 1
fi

# start_freqd MODE: serve the table, wait for the ready line, set
# freqd_pid and freqd_port.
start_freqd() {
	local log=$work/freqd-$1.log
	"$freqd" serve --mode "$1" --workers "$workers" --listen 127.0.0.1:0 --data "$work/keys.freq" \
		--log-json --shutdown-timeout 2s 2>"$log" &
	freqd_pid=$!
	for _ in $(seq 200); do grep -q '"@message":"ready"' "$log" && break; sleep 0.1; done
	freqd_port=$(grep -m1 '"@message":"ready"' "$log" | sed 's/.*"listen":"[^"]*:\([0-9]*\)[",].*/\1/')
	if [ -z "$freqd_port" ]; then
		echo "bench-redis: freqd serve --mode $1 did not get ready; its log:" >&2
		cat "$log" >&2
		exit 1
	fi
}

# same_answers PORT: a few keys answer as in the TSV.
same_answers() {
	local i k want got
	for i in 0 1 12345 $((keys - 1)); do
		k=$(printf 'key:%012d' "$i")
		want=$(awk -F'\t' -v k="$k" '$1 == k { print $2 }' "$work/keys.tsv")
		got=$(redis-cli -p "$1" get "$k")
		if [ "$got" != "$want" ]; then
			echo "bench-redis: port $1 answers GET $k with \"$got\", want \"$want\"" >&2
			exit 1
		fi
	done
}

# measure NAME PORT PID KEEPALIVE: one redis-benchmark run, one table row.
measure() {
	local name=$1 port=$2 pid=$3 k=$4 t0 t1 csv rps p50 p99 max cpu
	t0=$(tree_ticks "$pid")
	csv=$(redis-benchmark -p "$port" -c "$conns" -n "$requests" -r "$keys" -t get -k "$k" --csv 2>/dev/null | tail -1)
	t1=$(tree_ticks "$pid")
	# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
	IFS=, read -r _ rps _ _ p50 _ p99 max <<<"${csv//\"/}"
	cpu=$(awk -v t=$((t1 - t0)) -v us="$tick_us" -v n="$requests" 'BEGIN { printf "%.1f", t * us / n }')
	printf '| %s | %s | %.0f | %s | %s | %s | %s |\n' "$name" "$([ "$k" = 1 ] && echo keep-alive || echo per request)" \
		"$rps" "$p50" "$p99" "$max" "$cpu"
}

table=$out/redis.md
{
	echo "**redis-benchmark -c $conns -n $requests -r $keys -t get** — $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, $(uname -sr), $(redis-server --version | awk '{print $1, $2, $3}'), freqd with $workers workers."
	echo
	echo "| server | connections | req/s | p50 ms | p99 ms | max ms | server CPU µs/req |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
} >"$table"

same_answers "$redis_port"
for k in 1 0; do
	measure redis "$redis_port" "$redis_pid" "$k" >>"$table"
done
for mode in $modes; do
	start_freqd "$mode"
	same_answers "$freqd_port"
	for k in 1 0; do
		measure "freqd $mode" "$freqd_port" "$freqd_pid" "$k" >>"$table"
	done
	stop "$freqd_pid"
done
echo >>"$table"
echo "redis-benchmark runs on the same machine and shares its cores with the server." >>"$table"
cat "$table"
