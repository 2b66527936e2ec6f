#!/usr/bin/env bash
# bench-ab.sh: two freqd binaries, before and after a change, alternated
# under redis-benchmark, so that a difference of a few percent shows
# through a shared machine's drift.
#
# For each round, each row (mode, transport, load) and each binary in
# turn, it starts `freqd serve --mode MODE --workers 1` on a table that
# binary built from the same keys, warms it up, runs
#
#   redis-benchmark -c 50 -r KEYS -t get -n N [-k 0 | -P 16]
#
# and records req/s and the server's CPU per request: utime+stime of the
# master and its workers from /proc/PID/stat, before and after, as
# scripts/bench-redis.sh measures it. The report pairs the two binaries'
# runs of a row within each round, and a ratio of paired runs cancels the
# drift that rounds minutes apart see. Odd rounds run A first and even
# rounds B first, because the second run of a pair is not in the first
# one's conditions: after 50,000 connections, for one, the loopback holds
# as many sockets in TIME_WAIT, and the next run's connects search past
# them. Each two rounds, one in each order, give one ratio B ÷ A, the
# geometric mean of their two, in which the order's effect cancels; the
# report gives the median of those ratios and their range.
#
# Usage: scripts/bench-ab.sh A B [OUTDIR]   (A is the baseline)
# Environment: ROUNDS (6; an even number), KEYS (100000), ROWS (default: every pre-forked
# mode over TCP and unix, keep-alive, pipelined and a connection per
# request; a list such as "accept unix pipeline;fdpass tcp keepalive"),
# REQUESTS_KEEPALIVE (400000), REQUESTS_PIPELINE (2000000),
# REQUESTS_PERREQUEST (50000).
#
# Servers listen on a free loopback port or a socket in a directory of
# their own; every process started is stopped by pid on any exit.
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: scripts/bench-ab.sh A B [OUTDIR]: the freqd binaries before (A) and after (B)" >&2
	exit 2
fi
bin_a=$(realpath "$1")
bin_b=$(realpath "$2")
out=${3:-bench-out}
rounds=${ROUNDS:-6}
if [ $((rounds % 2)) != 0 ] || [ "$rounds" -lt 2 ]; then
	echo "bench-ab: ROUNDS=$rounds: want an even number, half run in each order" >&2
	exit 2
fi
keys=${KEYS:-100000}
tick_us=$((1000000 / $(getconf CLK_TCK)))
if [ -z "${ROWS:-}" ]; then
	ROWS=""
	for m in fdpass accept reuseport; do
		for tr in tcp unix; do
			# SO_REUSEPORT is a TCP mechanism; on a unix socket the mode
			# shares the listener as accept does.
			[ "$m" = reuseport ] && [ "$tr" = unix ] && continue
			for l in keepalive pipeline perrequest; do ROWS="$ROWS;$m $tr $l"; done
		done
	done
	ROWS=${ROWS#;}
fi
IFS=';' read -ra rows <<<"$ROWS"

for b in "$bin_a" "$bin_b"; do
	[ -x "$b" ] || { echo "bench-ab: $b is not an executable" >&2; exit 2; }
done
command -v redis-benchmark >/dev/null 2>&1 || apt-get install -y redis-tools >/dev/null

. "$(dirname "$0")/bench-lib.sh"

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/freqd-bench-ab.XXXXXX")
cleanup() {
	stop_jobs
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

write_keys "$keys" "$work/keys.tsv"
"$bin_a" build -o "$work/a.freq" "$work/keys.tsv" 2>/dev/null
"$bin_b" build -o "$work/b.freq" "$work/keys.tsv" 2>/dev/null

# run ROUND LABEL BIN TABLE MODE TRANSPORT LOAD: one measured run;
# appends "round label mode transport load rps cpu_us_per_req" to the raw
# results.
run() {
	local round=$1 label=$2 bin=$3 table=$4 mode=$5 tr=$6 load=$7 listen addr n flags t0 t1 csv rps server
	if [ "$tr" = tcp ]; then
		local port
		port=$(free_port)
		listen=127.0.0.1:$port addr="-h 127.0.0.1 -p $port"
	else
		rm -f "$work/s.sock"
		listen=unix:$work/s.sock addr="-s $work/s.sock"
	fi
	"$bin" serve --mode "$mode" --workers 1 --listen "$listen" --data "$table" --shutdown-timeout 2s 2>"$work/serve.log" &
	server=$!
	for _ in $(seq 100); do redis-cli $addr ping >/dev/null 2>&1 && break; sleep 0.05; done
	if ! redis-cli $addr ping >/dev/null 2>&1; then
		echo "bench-ab: $bin serve --mode $mode never answered; its log:" >&2
		cat "$work/serve.log" >&2
		exit 1
	fi
	case $load in
	keepalive) n=${REQUESTS_KEEPALIVE:-400000} flags="-k 1" ;;
	pipeline) n=${REQUESTS_PIPELINE:-2000000} flags="-k 1 -P 16" ;;
	perrequest) n=${REQUESTS_PERREQUEST:-50000} flags="-k 0" ;;
	esac
	redis-benchmark $addr -c 50 -n $((n / 20)) -r "$keys" -t get $flags -q >/dev/null 2>&1 # warm-up
	t0=$(tree_ticks "$server")
	csv=$(redis-benchmark $addr -c 50 -n "$n" -r "$keys" -t get $flags --csv 2>/dev/null | tail -1)
	t1=$(tree_ticks "$server")
	stop "$server"
	IFS=, read -r _ rps _ <<<"${csv//\"/}"
	awk -v rd="$round" -v l="$label" -v m="$mode" -v tr="$tr" -v ld="$load" -v r="$rps" -v t=$((t1 - t0)) -v us="$tick_us" -v n="$n" \
		'BEGIN { printf "%d %s %s %s %s %.0f %.3f\n", rd, l, m, tr, ld, r, t * us / n }' >>"$work/raw"
	echo "  $(tail -1 "$work/raw")" >&2
}

: >"$work/raw"
for r in $(seq "$rounds"); do
	echo "round $r of $rounds (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
	for row in "${rows[@]}"; do
		read -r mode tr load <<<"$row"
		if [ $((r % 2)) = 1 ]; then
			run "$r" A "$bin_a" "$work/a.freq" "$mode" "$tr" "$load"
			run "$r" B "$bin_b" "$work/b.freq" "$mode" "$tr" "$load"
		else
			run "$r" B "$bin_b" "$work/b.freq" "$mode" "$tr" "$load"
			run "$r" A "$bin_a" "$work/a.freq" "$mode" "$tr" "$load"
		fi
	done
done
cp "$work/raw" "$out/ab-raw.txt"

# The table: per row, the medians of A and B and the median and range of
# the rounds' paired ratios B ÷ A.
{
	echo "**A** $1 → **B** $2: redis-benchmark -c 50 -r $keys -t get, one worker, $rounds rounds alternated (A first in odd rounds, B first in even ones), $(nproc) cores (the client shares them). Medians; ratios B ÷ A, each the geometric mean of two rounds run in opposite orders, median (min–max)."
	echo
	echo "| mode | transport | load | req/s A → B | ratio | CPU µs/req A → B | ratio |"
	echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
	awk "$median_awk"'
	# num formats a figure, and passes "n/a" (no complete pair of rounds,
	# or a run that measured nothing) through as it is.
	function num(v, fmt) { return v == "n/a" ? v : sprintf(fmt ? fmt : "%.2f", v) }
	{
		key = $3 " " $4 " " $5
		if (!(key in seen)) { seen[key] = 1; order[++count] = key }
		if ($2 == "A") { rpsA[key] = rpsA[key] " " $6; cpuA[key] = cpuA[key] " " $7 }
		else { rpsB[key] = rpsB[key] " " $6; cpuB[key] = cpuB[key] " " $7 }
		r[$2, key, $1] = $6; c[$2, key, $1] = $7
		if ($1 > last) last = $1
	}
	END {
		for (i = 1; i <= count; i++) {
			k = order[i]
			for (n = 1; n < last; n += 2) {
				if (r["A", k, n] > 0 && r["A", k, n + 1] > 0 && r["B", k, n] > 0 && r["B", k, n + 1] > 0)
					rr[k] = rr[k] " " sqrt(r["B", k, n] / r["A", k, n] * r["B", k, n + 1] / r["A", k, n + 1])
				if (c["A", k, n] > 0 && c["A", k, n + 1] > 0 && c["B", k, n] > 0 && c["B", k, n + 1] > 0)
					cr[k] = cr[k] " " sqrt(c["B", k, n] / c["A", k, n] * c["B", k, n + 1] / c["A", k, n + 1])
			}
		}
		for (i = 1; i <= count; i++) {
			k = order[i]; split(k, f, " ")
			ra = median(rpsA[k]); rb = median(rpsB[k])
			q = median(rr[k]); rlo = lo; rhi = hi
			ca = median(cpuA[k]); cb = median(cpuB[k])
			p = median(cr[k]); clo = lo; chi = hi
			printf "| %s | %s | %s | %s → %s | %s (%s–%s) | %s → %s | %s (%s–%s) |\n", f[1], f[2], f[3], num(ra, "%.0f"), num(rb, "%.0f"), num(q), num(rlo), num(rhi), num(ca), num(cb), num(p), num(clo), num(chi)
		}
	}' "$work/raw"
} >"$out/ab.md"
cat "$out/ab.md"
