#!/usr/bin/env bash
# bench-redis.sh: Redis 7, a floor server and freqd's pre-forked designs,
# side by side, under redis-benchmark on the same keys.
#
# redis-benchmark -t get -r N asks for keys "key:" + a random number below N,
# zero-padded to 12 digits ("key:000000012345"). This script writes those N
# keys with counts to a TSV, builds a freqd table from it, loads the same
# keys and counts into a Redis of its own (redis-cli --pipe), checks that
# every server answers alike, and then, in ROUNDS interleaved rounds, runs
#
#   redis-benchmark -c CONNS -n REQUESTS -r KEYS -t get [-k 0 | -P 16]
#
# against each server over TCP and over a unix socket: keep-alive
# connections, pipelines of 16, and a connection per request (-k 0).
#
# The servers: Redis; the floor (scripts/floor/floor.c, built with cc when
# one is installed: one thread answering every request with a canned reply,
# no parsing, no lookup, the kernel's share every server pays); and freqd in
# each pre-forked mode with WORKERS workers (1 by default: Redis serves on
# one thread, so one worker compares per core).
#
# Besides redis-benchmark's req/s it reports the server's CPU per request:
# utime+stime of the server's processes and of the children they reaped,
# from /proc/PID/stat, before and after each run. The kernel can do work for
# a server in its own threads too (a unix socket's garbage collector for
# passed descriptors runs in a kworker): the kworker column is the CPU of
# every kworker thread during the run, per request, which on a machine
# running other work also counts theirs. Medians over the rounds, with the
# smallest and largest value beside them.
#
# Usage: scripts/bench-redis.sh [OUTDIR]   (default bench-out)
# Environment: FREQD (binary; default: built into OUTDIR), WORKERS (1),
# CONNS (50), KEYS (100000), ROUNDS (3), MODES ("fdpass accept reuseport"),
# TRANSPORTS ("tcp unix"), LOADS ("keepalive pipeline perrequest"),
# REQUESTS_KEEPALIVE (200000), REQUESTS_PIPELINE (1000000),
# REQUESTS_PERREQUEST (50000).
#
# It installs redis-server and redis-tools with apt-get when they are
# missing, runs every server on a free loopback port (never one already in
# use, such as 6379) or a socket in a directory of its own, and ends every
# process it started, by pid, on any exit.
set -euo pipefail

out=${1:-bench-out}
workers=${WORKERS:-1}
conns=${CONNS:-50}
keys=${KEYS:-100000}
rounds=${ROUNDS:-3}
modes=${MODES:-fdpass accept reuseport}
transports=${TRANSPORTS:-tcp unix}
loads=${LOADS:-keepalive pipeline perrequest}
tick_us=$((1000000 / $(getconf CLK_TCK)))

. "$(dirname "$0")/bench-lib.sh"

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/freqd-bench-redis.XXXXXX")

# cleanup stops the servers still running: the background jobs of this
# shell, so a pid that has been waited for (and may have been reused) is
# never signalled.
cleanup() {
	stop_jobs
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

# kworker_ticks prints the CPU clock ticks of every kworker thread.
kworker_ticks() {
	local sum=0 pid t
	for pid in $(pgrep kworker); do
		t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12+$13}') || t=0
		sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}

echo "writing $keys keys and building the freqd table" >&2
write_keys "$keys" "$work/keys.tsv"
"$freqd" build -o "$work/keys.freq" "$work/keys.tsv" 2>/dev/null

floor=""
if command -v cc >/dev/null 2>&1 && cc -O2 -o "$work/floor" scripts/floor/floor.c; then
	floor=$work/floor
else
	echo "bench-redis: no C compiler; the floor is left out" >&2
fi

# The servers' addresses: a port for TCP, a socket for unix.
declare -A port sock
sock_dir=$work/sockets
mkdir -p "$sock_dir"

# addr_args TRANSPORT NAME: redis-benchmark's and redis-cli's address flags.
addr_args() {
	if [ "$1" = tcp ]; then echo "-h 127.0.0.1 -p ${port[$2]}"; else echo "-s ${sock[$2]}"; fi
}

# wait_ping TRANSPORT NAME: wait until the server answers.
wait_ping() {
	for _ in $(seq 100); do
		redis-cli $(addr_args "$1" "$2") ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench-redis: $2 over $1 never answered PING" >&2
	exit 1
}

# start SERVER TRANSPORT: start one server listening on one transport; sets
# server_pid.
start() {
	local name=$1 tr=$2 log=$work/$1-$2.log
	port[$name]=$(free_port)
	sock[$name]=$sock_dir/$name.sock
	rm -f "${sock[$name]}"
	case $name in
	redis)
		if [ "$tr" = tcp ]; then
			redis-server --port "${port[$name]}" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$log" &
		else
			redis-server --port 0 --unixsocket "${sock[$name]}" --save '' --appendonly no --dir "$work" --logfile "$log" &
		fi
		server_pid=$!
		wait_ping "$tr" redis
		awk -F'\t' '{ printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length($1), $1, length($2), $2 }' "$work/keys.tsv" |
			redis-cli $(addr_args "$tr" redis) --pipe >/dev/null
		local loaded
		loaded=$(redis-cli $(addr_args "$tr" redis) dbsize)
		if [ "$loaded" != "$keys" ]; then
			echo "bench-redis: Redis holds $loaded keys after loading $keys; see $log" >&2
			exit 1
		fi
		;;
	floor)
		if [ "$tr" = tcp ]; then "$floor" tcp "${port[$name]}" 2>"$log" & else "$floor" unix "${sock[$name]}" 2>"$log" & fi
		server_pid=$!
		wait_ping "$tr" floor
		;;
	*)
		local listen=127.0.0.1:${port[$name]}
		[ "$tr" = unix ] && listen=unix:${sock[$name]}
		"$freqd" serve --mode "${name#freqd-}" --workers "$workers" --listen "$listen" --data "$work/keys.freq" \
			--shutdown-timeout 2s 2>"$log" &
		server_pid=$!
		wait_ping "$tr" "$name"
		;;
	esac
}

# same_answers TRANSPORT NAME: a few keys answer as in the TSV.
same_answers() {
	local i k want got
	for i in 0 1 12345 $((keys - 1)); do
		k=$(printf 'key:%012d' "$i")
		want=$(awk -F'\t' -v k="$k" '$1 == k { print $2 }' "$work/keys.tsv")
		got=$(redis-cli $(addr_args "$1" "$2") get "$k")
		if [ "$got" != "$want" ]; then
			echo "bench-redis: $2 over $1 answers GET $k with \"$got\", want \"$want\"" >&2
			exit 1
		fi
	done
}

# measure SERVER TRANSPORT LOAD PID: one redis-benchmark run; appends
# "server transport load rps cpu kworker" to the raw results.
measure() {
	local name=$1 tr=$2 load=$3 pid=$4 t0 t1 k0 k1 n flags csv rps
	case $load in
	keepalive) n=${REQUESTS_KEEPALIVE:-200000} flags="-k 1" ;;
	pipeline) n=${REQUESTS_PIPELINE:-1000000} flags="-k 1 -P 16" ;;
	perrequest) n=${REQUESTS_PERREQUEST:-50000} flags="-k 0" ;;
	esac
	t0=$(tree_ticks "$pid")
	k0=$(kworker_ticks)
	csv=$(redis-benchmark $(addr_args "$tr" "$name") -c "$conns" -n "$n" -r "$keys" -t get $flags --csv 2>/dev/null | tail -1)
	t1=$(tree_ticks "$pid")
	k1=$(kworker_ticks)
	IFS=, read -r _ rps _ <<<"${csv//\"/}"
	awk -v s="$name" -v tr="$tr" -v l="$load" -v r="$rps" -v t=$((t1 - t0)) -v k=$((k1 - k0)) -v us="$tick_us" -v n="$n" \
		'BEGIN { printf "%s %s %s %.0f %.2f %.2f\n", s, tr, l, r, t * us / n, k * us / n }' >>"$work/raw"
	echo "  $(tail -1 "$work/raw")" >&2
}

servers="redis"
[ -n "$floor" ] && servers="$servers floor"
for m in $modes; do servers="$servers freqd-$m"; done

: >"$work/raw"
for r in $(seq "$rounds"); do
	echo "round $r of $rounds" >&2
	for tr in $transports; do
		for name in $servers; do
			# SO_REUSEPORT is a TCP mechanism; on a unix socket the mode
			# shares the listener as accept does.
			[ "$name" = freqd-reuseport ] && [ "$tr" = unix ] && continue
			start "$name" "$tr"
			[ "$name" != floor ] && same_answers "$tr" "$name"
			for load in $loads; do
				measure "$name" "$tr" "$load" "$server_pid"
			done
			stop "$server_pid"
		done
	done
done
cp "$work/raw" "$out/redis-raw.txt"

# The table: one row per server, transport and load; the median of the
# rounds with the range beside it, and the ratio of the median CPU to
# Redis's and to the floor's.
table=$out/redis.md
{
	echo "**redis-benchmark -c $conns -r $keys -t get**, $rounds rounds interleaved — $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, $(uname -sr), $(redis-server --version | awk '{print $1, $2, $3}'), freqd with $workers worker(s). Medians (min–max)."
	echo
	echo "| load | transport | server | req/s | server CPU µs/req | ×Redis | ×floor | kworker µs/req |"
	echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
	awk "$median_awk"'
	{
		key = $3 " " $2 " " $1
		if (!(key in rps)) order[++count] = key
		rps[key] = rps[key] " " $4; cpu[key] = cpu[key] " " $5; kw[key] = kw[key] " " $6
	}
	END {
		for (i = 1; i <= count; i++) {
			key = order[i]; split(key, f, " ")
			r = median(rps[key]); rlo = lo; rhi = hi
			c = median(cpu[key]); clo = lo; chi = hi
			k = median(kw[key])
			med[key] = c
			line[i] = sprintf("| %s | %s | %s | %.0fk (%.0f–%.0f) | %.2f (%.2f–%.2f) |", f[1], f[2], f[3], r / 1000, rlo / 1000, rhi / 1000, c, clo, chi)
			kcol[i] = sprintf(" %.2f |", k)
		}
		for (i = 1; i <= count; i++) {
			key = order[i]; split(key, f, " ")
			rd = med[f[1] " " f[2] " redis"]; fl = med[f[1] " " f[2] " floor"]
			xr = (rd > 0) ? sprintf("%.2f", med[key] / rd) : "—"
			xf = (fl > 0) ? sprintf("%.2f", med[key] / fl) : "—"
			printf "%s %s | %s |%s\n", line[i], xr, xf, kcol[i]
		}
	}' "$work/raw" | sort -t'|' -k2,2 -k3,3 -s
	echo
	echo "redis-benchmark runs on the same machine and shares its cores with the servers."
} >"$table"
cat "$table"
