# bench-lib.sh: what scripts/bench-redis.sh and scripts/bench-ab.sh both
# need, sourced by each: stopping the servers they start, free ports, CPU
# ticks from /proc, the keys redis-benchmark asks for, and medians.

# stop ends a server: SIGTERM to it and to the children it has, then, if
# it is still there after 5 s, SIGKILL to both. Its children are found
# while it lives and has not reaped them, so a pid signalled is never one
# that has since been given to another process.
stop() {
	local pid=$1
	kill -TERM "$pid" $(pgrep -P "$pid" || true) 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" $(pgrep -P "$pid" || true) 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# stop_jobs stops the servers still running: the background jobs of this
# shell, so a pid that has been waited for (and may have been reused) is
# never signalled.
stop_jobs() {
	local pid
	for pid in $(jobs -p); do stop "$pid"; done
}

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

# write_keys N FILE writes the N keys redis-benchmark -r N asks for
# ("key:" and a number below N, zero-padded to 12 digits) with counts, as
# a TSV that freqd build reads.
write_keys() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "key:%012d\t%d\n", i, (i * 7919) % 1000003 + 1 }' >"$2"
}

# median_awk is an awk function for a report's program: median(list) of
# a space-separated list of numbers, which also sets lo and hi to its
# smallest and largest; "n/a" for an empty list.
median_awk='
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) { lo = hi = "n/a"; return "n/a" }
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	lo = a[1]; hi = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}'
