# Sourced by the interop scripts: start a freqd of our own on loopback and
# a unix socket, and stop it by pid.

# start_freqd starts bin/freqd serve (2 workers) and waits for its "ready"
# line; it sets FREQD_PID, FREQD_HOST, FREQD_PORT and FREQD_SOCKET.
start_freqd() {
	FREQD_DIR=$(mktemp -d)
	FREQD_SOCKET=$FREQD_DIR/freqd.sock
	"$FREQD" serve --workers 2 --listen 127.0.0.1:0 --listen "unix:$FREQD_SOCKET" \
		--pidfile "$FREQD_DIR/freqd.pid" --log-json "$@" >"$FREQD_DIR/log" 2>&1 &
	FREQD_PID=$!
	local i
	for i in $(seq 100); do
		if grep -q '"@message":"ready"' "$FREQD_DIR/log" 2>/dev/null; then
			break
		fi
		if ! kill -0 "$FREQD_PID" 2>/dev/null; then
			echo "freqd exited before it was ready:" >&2
			cat "$FREQD_DIR/log" >&2
			return 1
		fi
		sleep 0.1
	done
	local addr
	addr=$(grep -o '"listen":"127.0.0.1:[0-9]*' "$FREQD_DIR/log" | head -1)
	FREQD_HOST=127.0.0.1
	FREQD_PORT=${addr##*:}
	if [ -z "$FREQD_PORT" ]; then
		echo "freqd did not report a TCP port:" >&2
		cat "$FREQD_DIR/log" >&2
		return 1
	fi
	export FREQD_HOST FREQD_PORT FREQD_SOCKET FREQD_PID
}

# stop_freqd stops the freqd start_freqd started, by its pid, and shows
# its log if it logged an error.
stop_freqd() {
	[ -n "${FREQD_PID:-}" ] || return 0
	kill -TERM "$FREQD_PID" 2>/dev/null || true
	wait "$FREQD_PID" 2>/dev/null || true
	if grep -q '"@level":"error"' "$FREQD_DIR/log"; then
		echo "freqd logged errors:" >&2
		grep '"@level":"error"' "$FREQD_DIR/log" >&2
	fi
	rm -rf "$FREQD_DIR"
	FREQD_PID=
}
