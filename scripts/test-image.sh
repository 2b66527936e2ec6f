#!/usr/bin/env bash
# make image: builds the container image from the Dockerfile and tests it
# as a user would run it: its version, its user, the embedded table on the
# published port, another table from the /data volume, a graceful stop.
#
# It uses podman (installed with apt-get if missing), which needs no daemon,
# with the runc runtime, which also runs on machines whose cgroups are
# half v1, half v2, where podman's default crun refuses to start. The
# Dockerfile's build stage wants an image with Go; when the registry cannot
# be reached (CI has no route to Docker Hub), one is made here from this
# machine's own Go toolchain, a static busybox for the shell and the CA
# certificates for the module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]} with apt-get"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
podman=(podman --runtime runc)
# Explicit limits: podman's defaults are above what a process without
# CAP_SYS_RESOURCE (a container, a VM like CI's) may set.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)

image=localhost/freqd:test
wanted=${GO_IMAGE:-docker.io/library/golang:1.26-bookworm}
go_image=$wanted
tmp=$(mktemp -d)
containers=()
cleanup() {
	for c in "${containers[@]}"; do "${podman[@]}" rm -f "$c" >/dev/null 2>&1 || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! "${podman[@]}" image exists "$go_image" && ! timeout 60 "${podman[@]}" pull -q "$go_image" >/dev/null 2>&1; then
	go_image=localhost/freqd-build-go:$(go env GOVERSION)
	if ! "${podman[@]}" image exists "$go_image"; then
		echo "$wanted cannot be pulled; making $go_image from $(go env GOROOT)"
		if [ ! -x /bin/busybox ] || ! file /bin/busybox 2>/dev/null | grep -q static; then
			$sudo apt-get update -qq
			DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq busybox-static >/dev/null
		fi
		root=$tmp/go-root
		mkdir -p "$root/bin" "$root/usr/local" "$root/etc/ssl/certs" "$root/tmp" "$root/root"
		chmod 1777 "$root/tmp"
		cp /bin/busybox "$root/bin/busybox"
		for tool in sh mkdir echo cat ls; do ln -s busybox "$root/bin/$tool"; done
		cp -a "$(go env GOROOT)" "$root/usr/local/go"
		cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
		tar -C "$root" -c . | "${podman[@]}" import -q \
			--change 'ENV PATH=/usr/local/go/bin:/bin' --change 'ENV HOME=/root' --change 'ENV GOPATH=/go' \
			--change 'ENV GOTOOLCHAIN=local' - "$go_image" >/dev/null
	fi
fi

version=$(git describe --tags --always --dirty 2>/dev/null || echo devel)
commit=$(git rev-parse HEAD 2>/dev/null || true)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "building $image (build stage: $go_image)"
start=$(date +%s)
# The host's network for the build stage: the module download needs the
# proxy, and no container network has to be set up for it. This machine's
# Go caches are lent to the build stage (where the golang image keeps
# them), so that a second make image compiles only what changed; the image
# itself is the same without them.
mkdir -p "$(go env GOCACHE)" "$(go env GOMODCACHE)"
"${podman[@]}" build -q --network host --build-arg GO_IMAGE="$go_image" \
	-v "$(go env GOCACHE):/root/.cache/go-build" -v "$(go env GOMODCACHE):/go/pkg/mod" \
	--build-arg VERSION="$version" --build-arg COMMIT="$commit" --build-arg DATE="$date" \
	-t "$image" . >/dev/null
echo "built in $(($(date +%s) - start))s, $("${podman[@]}" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1e6}')"

fail=0
ok() { echo "ok:   $*"; }
bad() {
	echo "FAIL: $*"
	fail=1
}

# The image: a non-root user, the default command, the data volume.
user=$("${podman[@]}" image inspect --format '{{.Config.User}}' "$image")
[ "$user" = 65532:65532 ] && ok "runs as user $user" || bad "image user is '$user'; want 65532:65532"
vols=$("${podman[@]}" image inspect --format '{{range $k, $v := .Config.Volumes}}{{$k}} {{end}}' "$image")
[[ $vols == *"/data"* ]] && ok "volume /data" || bad "image volumes are '$vols'; want /data"

# freqd version, as stamped.
out=$("${podman[@]}" run --rm "${limits[@]}" "$image" version)
[[ $out == "freqd $version (commit ${commit:0:12}, built $date, "* ]] && ok "$out" || bad "freqd version says '$out'; want $version, ${commit:0:12}, $date"

# A free loopback port for the published one.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_get ADDR WORD WANT: ask until the server answers, up to 20 s.
wait_get() {
	local i out=""
	for i in $(seq 100); do
		if out=$(bin/freqd get --addr "$1" "$2" 2>&1) && [ "$out" = "$2	$3" ]; then
			return 0
		fi
		sleep 0.2
	done
	echo "    freqd get --addr $1 $2: $out" >&2
	return 1
}
make -s build >/dev/null

# The default command: the embedded table on the published port.
p=$(port)
c=$("${podman[@]}" run -d "${limits[@]}" -p "127.0.0.1:$p:7379" "$image")
containers+=("$c")
if wait_get "127.0.0.1:$p" the 1501908; then ok "the embedded table on the published port"; else bad "no answer from the default command"; fi
pid=$("${podman[@]}" inspect --format '{{.State.Pid}}' "$c")
if [ -r "/proc/$pid/status" ]; then
	uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
	title=$(tr '\0' ' ' <"/proc/$pid/cmdline" | sed 's/ *$//')
	[ "$uid" = 65532 ] && ok "the master runs as uid $uid" || bad "the master runs as uid $uid"
	[ "$title" = "freqd: master" ] && ok "ps shows it as '$title'" || bad "the master's command line is '$title'"
fi
logs=$("${podman[@]}" logs "$c" 2>&1)
[[ $logs == *"starting: version=$version"* ]] && ok "the first log line names $version" || bad "the log lacks the version: $logs"
# docker stop sends SIGTERM: a graceful stop, exit 0.
"${podman[@]}" stop -t 10 "$c" >/dev/null
code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$c")
[ "$code" = 0 ] && ok "stops gracefully on SIGTERM (exit 0)" || bad "exit code $code after stop"

# Another table, from the /data volume.
mkdir -p "$tmp/data"
printf 'zyzzyva\t42\nquokka\t7\n' >"$tmp/data/words.tsv"
bin/freqd build -o "$tmp/data/words.freq" "$tmp/data/words.tsv" 2>/dev/null
chmod -R a+rX "$tmp"
p=$(port)
c=$("${podman[@]}" run -d "${limits[@]}" -p "127.0.0.1:$p:7379" -v "$tmp/data:/data:ro" "$image" \
	serve --listen 0.0.0.0:7379 --protected-mode no --data /data/words.freq)
containers+=("$c")
if wait_get "127.0.0.1:$p" zyzzyva 42; then ok "a table from the /data volume"; else bad "no answer with --data /data/words.freq"; fi

exit $fail
