#!/usr/bin/env bash
# redis-cli (Debian's redis-tools) against freqd over TCP and a unix
# socket: commands in RESP3 (-3) and RESP2, --stat for two intervals,
# --scan (as many words as DBSIZE), --bigkeys, --memkeys, --latency, and a
# MULTI/EXEC typed through a pipe.
set -euo pipefail

fail() {
	echo "redis-cli: $*" >&2
	exit 1
}

# expect WHAT GOT WANT
expect() {
	[ "$2" == "$3" ] || fail "$1: got $(printf %q "$2"), want $(printf %q "$3")"
}

version=$(redis-cli --version | awk '{print $2}')
for ep in tcp unix; do
	if [ $ep = tcp ]; then
		cli=(redis-cli -h "$FREQD_HOST" -p "$FREQD_PORT")
	else
		cli=(redis-cli -s "$FREQD_SOCKET")
	fi

	expect "GET the" "$("${cli[@]}" GET the)" "$EXPECT_THE"
	expect "-3 GET the" "$("${cli[@]}" -3 GET the)" "$EXPECT_THE"
	expect "-3 HELLO" "$("${cli[@]}" -3 HELLO | grep '^proto ')" "proto 3"
	# A RESP3 map prints as key value lines, RESP2's flat array as lines.
	expect "-3 CONFIG GET databases" "$("${cli[@]}" -3 CONFIG GET databases)" "databases 1"
	expect "CONFIG GET databases" "$("${cli[@]}" CONFIG GET databases)" $'databases\n1'
	expect "-3 TAG" "$("${cli[@]}" -3 TAG LIMIT 2 the xylophone and the zymurgy | cut -d' ' -f1 | sort | tr '\n' ' ')" "xylophone zymurgy "
	expect "DBSIZE" "$("${cli[@]}" DBSIZE)" "$EXPECT_DBSIZE"
	# A UTF-8 argument, and the contraction answered from its part.
	expect "FREQ don’t DON'T" "$("${cli[@]}" FREQ "don’t" "DON'T" | tr '\n' ' ')" "$EXPECT_DON $EXPECT_DON "
	# A double in RESP3, a bulk string in RESP2: the same digits.
	expect "-3 ZIPF" "$("${cli[@]}" -3 ZIPF nosuchwordzz | cut -c1-4)" "1.30"
	expect "ZIPF" "$("${cli[@]}" ZIPF nosuchwordzz | cut -c1-4)" "1.30"

	# --stat: a header, then a line per interval: keys, memory, clients,
	# blocked, requests (+delta), connections.
	stat=$(timeout 2.6 stdbuf -oL "${cli[@]}" --stat -i 1 || true)
	lines=$(printf '%s\n' "$stat" | grep -E '^[0-9]+ +[0-9.]+[BKMG] +[0-9]+ +0 +[0-9]+ \(\+[0-9]+\) +[0-9]+ *$' || true)
	[ "$(printf '%s\n' "$lines" | grep -c .)" -ge 2 ] || fail "--stat: want two lines of sensible columns, got:
$stat"
	expect "--stat keys" "$(printf '%s\n' "$lines" | head -1 | awk '{print $1}')" "$EXPECT_DBSIZE"

	expect "--scan | wc -l" "$("${cli[@]}" --scan | wc -l)" "$EXPECT_DBSIZE"
	expect "--scan --pattern" "$("${cli[@]}" --scan --pattern 'xylophon?' )" "xylophone"

	big=$("${cli[@]}" --bigkeys 2>&1) || fail "--bigkeys failed: $big"
	printf '%s\n' "$big" | grep -q "Sampled $EXPECT_DBSIZE keys in the keyspace" || fail "--bigkeys: $big"
	printf '%s\n' "$big" | grep -q "^$EXPECT_DBSIZE strings with" || fail "--bigkeys: $big"
	mem=$("${cli[@]}" --memkeys 2>&1) || fail "--memkeys failed: $mem"
	printf '%s\n' "$mem" | grep -q "^$EXPECT_DBSIZE strings with [1-9][0-9]* bytes" || fail "--memkeys: $mem"

	# --latency, not on a terminal, samples for one interval and prints
	# min, max, avg and the number of samples.
	lat=$("${cli[@]}" --latency -i 1)
	[[ $lat =~ ^[0-9]+\ [0-9]+\ [0-9.]+\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] || fail "--latency: $lat"

	tx=$(printf 'MULTI\nGET the\nFREQ the nosuchwordzz\nEXEC\n' | "${cli[@]}")
	expect "MULTI/EXEC through a pipe" "$tx" "$(printf 'OK\nQUEUED\nQUEUED\n%s\n%s\n0' "$EXPECT_THE" "$EXPECT_THE")"
	echo "redis-cli $version $ep: -3, --stat, --scan, --bigkeys, --memkeys, --latency, MULTI/EXEC through a pipe: ok"
done
