#!/usr/bin/env bash
# bench-scaling.sh: what a request costs in each shape of docs/scaling.md,
# measured with redis-benchmark on one connection (-c 1), so that each
# figure is one request's round trip:
#
#   direct        GET monday   on a server of the whole table
#   haproxy       GET monday   through HAProxy (contrib/haproxy/haproxy.cfg)
#                              in front of two such servers
#   owning shard  GET monday   on the node whose shard holds "monday"
#   second hop    GET Monday   on the node serving the slot of "Monday"
#                              (13296), which asks the shard holding
#                              "monday" (slot 1784)
#   tag whole     TAG text     on the server of the whole table
#   tag shards    TAG text     on a node of three shards: the text's
#                              words are on all three
#
# and the same GETs pipelined (-P 32), where the requests behind a second
# hop share its lookup. Each measurement runs RUNS times (5), the runs of
# all measurements interleaved, and the script prints for each the median
# over the runs of: req/s (with its min and max), mean latency, that
# latency over the same run's baseline ("x direct", which the machine's
# other load moves less than either figure), and the CPU time every server
# process (freqd masters and workers, HAProxy) spent per request, from
# /proc, which hardly depends on what else the cores run.
#
# Usage: scripts/bench-scaling.sh   Environment: FREQD (binary; default
# bin/freqd, built if missing), RUNS (5), REQUESTS (20000; 50000 or more
# for CPU figures finer than the clock tick allows).
#
# It installs haproxy and redis-tools with apt-get when they are missing,
# and ends every process it started, by pid, on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
runs=${RUNS:-5}
requests=${REQUESTS:-20000}
freqd=${FREQD:-bin/freqd}
[ -x "$freqd" ] || make build >/dev/null
scripts/need.sh haproxy redis-tools

work=$(mktemp -d "${TMPDIR:-/tmp}/freqd-bench-scaling.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# port: a loopback port nothing answers on now, a different one each call
# (a command substitution's subshell would repeat $RANDOM's sequence),
# below Linux's ephemeral range (32768 up), where an outgoing connection
# of any program may hold a port that nothing listens on.
next_port=$((20000 + $$ % 12000))
port() {
	while (exec 3<>"/dev/tcp/127.0.0.1/$next_port") 2>/dev/null; do
		next_port=$((next_port + 1))
	done
	P=$next_port
	next_port=$((next_port + 1))
}

# serve NAME ARGS...: a freqd serve of one worker, waited for.
serve() {
	local name=$1
	shift
	"$freqd" serve --workers 1 --log-json "$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		grep -qs '"@message":"ready"' "$work/$name.log" && return
		sleep 0.1
	done
	echo "$name did not start:" >&2
	cat "$work/$name.log" >&2
	exit 1
}

"$freqd" build -o "$work/sub.freq" --shards 3 --default 2>/dev/null
port; whole=$P; port; replica=$P; port; m1=$P; port; m2=$P; port; front=$P
serve whole --listen "127.0.0.1:$whole" --metrics-listen "127.0.0.1:$m1"
serve replica --listen "127.0.0.1:$replica" --metrics-listen "127.0.0.1:$m2"
nodes=()
for _ in 1 2 3; do
	port
	nodes+=("$P")
done
{
	echo "0-5460 127.0.0.1:${nodes[0]}"
	echo "5461-10922 127.0.0.1:${nodes[1]}"
	echo "10923-16383 127.0.0.1:${nodes[2]}"
} >"$work/cluster.conf"
for i in 0 1 2; do
	serve "node$i" --listen "127.0.0.1:${nodes[$i]}" --data "$work/sub.$((i + 1))-of-3.freq" --cluster-config "$work/cluster.conf"
done
sed -e "s/bind 127.0.0.1:6380/bind 127.0.0.1:$front/" \
	-e "s/127.0.0.1:7379 check port 9121/127.0.0.1:$whole check port $m1/" \
	-e "s/127.0.0.1:7380 check port 9122/127.0.0.1:$replica check port $m2/" \
	contrib/haproxy/haproxy.cfg >"$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
sleep 2 # two health checks

# "monday" is slot 1784, shard 1; "Monday" slot 13296, shard 3.
[ "$(redis-cli -p "${nodes[2]}" GET Monday)" = "$(redis-cli -p "$whole" GET monday)" ] || { echo "the cluster does not answer as the whole table" >&2; exit 1; }
text="On Monday the quick brown fox said to Alice in London that the lazy dog jumped over the fence on Friday"

# name PORT PIPELINE N COMMAND...
cases=(
	"direct|$whole|1|$requests|GET monday"
	"haproxy|$front|1|$requests|GET monday"
	"owning shard|${nodes[0]}|1|$requests|GET monday"
	"second hop|${nodes[2]}|1|$requests|GET Monday"
	"tag whole|$whole|1|$((requests / 4))|TAG $text"
	"tag shards|${nodes[0]}|1|$((requests / 4))|TAG $text"
	"direct -P 32|$whole|32|$((requests * 10))|GET monday"
	"owning shard -P 32|${nodes[0]}|32|$((requests * 10))|GET monday"
	"second hop -P 32|${nodes[2]}|32|$((requests * 10))|GET Monday"
)
# cputicks: the CPU time (user and system, in clock ticks) every server
# process has used so far: each freqd, its master and workers (the master
# is a child of the process started, the workers its children), HAProxy.
# A request's CPU cost, unlike its latency, hardly moves with what else
# the shared cores run.
descendants() {
	local c
	for c in $(pgrep -P "$1"); do
		echo "$c"
		descendants "$c"
	done
}
cputicks() {
	local p t=0 f
	for p in $(for q in "${pids[@]}"; do echo "$q"; descendants "$q"; done); do
		read -r -a f <"/proc/$p/stat" 2>/dev/null || continue
		t=$((t + f[13] + f[14]))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)
for run in $(seq "$runs"); do
	for c in "${cases[@]}"; do
		IFS='|' read -r name p pipe n cmd <<<"$c"
		before=$(cputicks)
		# shellcheck disable=SC2086
		line=$(redis-benchmark -p "$p" -c 1 -P "$pipe" -n "$n" --csv $cmd | tail -1)
		cpu=$(awk -v t="$(($(cputicks) - before))" -v hz="$hz" -v n="$n" 'BEGIN {print t * 1e6 / hz / n}')
		awk -v run="$run" -v name="$name" -v cpu="$cpu" -F'"' '{print run "|" name "|" $4 "|" $10 "|" $6 "|" cpu}' <<<"$line" >>"$work/results"
	done
	echo "run $run of $runs done" >&2
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# field CASE N: field N (3 req/s, 4 p50, 5 mean) of every run of CASE.
field() { awk -F'|' -v name="$1" -v f="$2" '$2 == name {print $f}' "$work/results"; }
# ratio CASE BASE: the median over runs of CASE's mean latency over BASE's
# in the same run, which the machine's other load moves far less than
# either figure alone.
ratio() {
	awk -F'|' -v c="$1" -v b="$2" '$2 == c {x[$1] = $5} $2 == b {y[$1] = $5} END {for (r in x) if (y[r] > 0) print x[r] / y[r]}' "$work/results" | median
}
printf '%-20s %10s %10s %10s %10s %10s %10s\n' case "req/s" "min" "max" "mean ms" "x direct" "server us"
for c in "${cases[@]}"; do
	name=${c%%|*}
	base=direct
	case $name in
	*"-P 32") base="direct -P 32" ;;
	"tag shards") base="tag whole" ;;
	esac
	printf '%-20s %10.0f %10.0f %10.0f %10s %10.2f %10.1f\n' "$name" "$(field "$name" 3 | median)" \
		"$(field "$name" 3 | sort -g | head -1)" "$(field "$name" 3 | sort -g | tail -1)" \
		"$(field "$name" 5 | median)" "$(ratio "$name" "$base")" "$(field "$name" 6 | median)"
done
echo "medians of $runs runs (min and max of req/s over the runs); redis-benchmark -c 1, $requests requests a run ($((requests / 4)) for TAG, $((requests * 10)) pipelined)"
echo "x direct: the median over runs of the mean latency over that of the same run's direct (tag shards: over tag whole; -P 32: over direct -P 32)"
echo "server us: CPU time (user+system) of every server process (freqd masters and workers, HAProxy) per request, median over runs"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
