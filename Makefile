# freqd: the two set-up commands are `make run` and `make test` (see README.md).
GO      ?= go
BIN     ?= bin/freqd
ARGS    ?=

.PHONY: all build run test test-faults test-scale test-cluster test-manifests test-short vet fmt-check bench bench-redis fuzz interop clean \
	man install units image

all: build

# What `freqd version`, INFO, /metrics and the first log line report: the
# version as git describe names this commit (a bare abbreviated hash before
# the first tag, -dirty with uncommitted changes), the commit, and the build
# time (SOURCE_DATE_EPOCH, when set, for a reproducible build). Outside a git
# checkout these are empty and freqd falls back to Go's build information.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell date -u $(if $(SOURCE_DATE_EPOCH),-d @$(SOURCE_DATE_EPOCH)) +%Y-%m-%dT%H:%M:%SZ)
VERSION_PKG := github.com/freqd/freqd/internal/version
LDFLAGS ?= -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT) -X $(VERSION_PKG).date=$(DATE)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/freqd

# Run the server on the embedded SUBTLEX-US table (127.0.0.1:7379). ARGS adds flags.
run: build
	./$(BIN) serve $(ARGS)

# Everything CI checks: formatting, vet, and the tests under the race detector.
# The fault suite is a step of its own: make test-faults.
test: fmt-check vet
	$(GO) test -race -count=1 -timeout 15m $$($(GO) list ./... | grep -v -e /faults -e /scale)

# The fault suite (package faults): named faults under load, each bounded to
# a few seconds, with the server built under the race detector too. About
# 70 s on 2 cores; -v prints its summary table.
test-faults:
	$(GO) test -race -count=1 -timeout 10m -v ./faults/

# Replicas behind a real HAProxy (Debian's package, installed if missing):
# contrib/haproxy/haproxy.cfg in front of three freqd servers on loopback.
test-scale:
	scripts/need.sh haproxy
	FREQD_TEST_HAPROXY=require $(GO) test -race -count=1 -timeout 10m -v -skip TestCluster ./scale/

# Shards (docs/scaling.md): the embedded table built with --shards 3 and
# served by three freqd nodes on loopback, every word asked through
# redis-cli -c, redis-py's RedisCluster, go-redis's ClusterClient (default,
# with command tips, and routing by latency or at random) and node-redis's
# createCluster against a server of
# the whole table; then one shard is killed. Installs the Debian packages
# and npm modules it needs (as make interop does); about a minute and a half.
# Without the race detector: the servers are processes of their own, and
# the test process only runs clients.
test-cluster:
	scripts/need.sh redis-tools python3-redis
	interop/node/install.sh
	FREQD_TEST_CLUSTER=require $(GO) test -count=1 -timeout 10m -v -run TestCluster ./scale/

# The Kubernetes manifests of contrib/kubernetes, decoded strictly into the
# API's types (a module of its own: the server does not link Kubernetes).
test-manifests:
	cd contrib/kubernetes && $(GO) test -count=1 ./...

test-short:
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# A short comparison of the seven server designs (keep-alive, then a
# connection per request), then the micro-benchmarks with short benchtimes;
# everything lands in bench-out/. docs/benchmarks.md has longer runs.
BENCH_DURATION ?= 3s
BENCHTIME      ?= 100ms
bench: build
	@mkdir -p bench-out
	./$(BIN) bench --compare all --duration $(BENCH_DURATION) --out bench-out
	./$(BIN) bench --compare all --duration $(BENCH_DURATION) --reconnect --out bench-out
	$(GO) test -run '^$$' -bench . -benchtime=$(BENCHTIME) -benchmem ./... >bench-out/micro.txt; \
	status=$$?; cat bench-out/micro.txt; exit $$status

# The client matrix: redis-py, phpredis, node-redis, ioredis, go-redis and
# redis-cli, each in its default usage against a freqd of its own over TCP
# and a unix socket. Installs the Debian packages and npm modules it needs
# the first time (about a minute); then about 15 s.
interop: build
	FREQD=$(BIN) interop/run.sh

# Redis 7 beside freqd's pre-forked designs under redis-benchmark (installs
# redis-server and redis-tools with apt-get if missing).
bench-redis: build
	FREQD=$(BIN) scripts/bench-redis.sh bench-out

# A bounded fuzzing pass over every fuzz target (package:target), seeded from
# each package's testdata/fuzz. The budget is a count of executions per
# target, not a duration: with a duration, Go 1.26's fuzzing coordinator can
# fail a target with a bare "context deadline exceeded" as time runs out
# (golang/go#75804, fixed in Go 1.27), which a loaded CI machine hits.
FUZZTIME ?= 300000x
FUZZ_TARGETS := shm/freqfile:FuzzParse resp:FuzzParse handler:FuzzProcess handler:FuzzServeDatagram \
	fdpass:FuzzParseRights loadgen:FuzzReadGET word:FuzzWord
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "fuzz ./$$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) ./$$pkg; \
	done

# The binary as a command: BIN may be relative (bin/freqd) or absolute.
RUNBIN = $(if $(filter /%,$(BIN)),$(BIN),./$(BIN))

# The man page, from the same descriptions as every command's --help.
MAN ?= $(dir $(BIN))freqd.1
man: build
	$(RUNBIN) manpage >$(MAN)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man page, bash
# and zsh completion, and the systemd units with ExecStart= pointing at the
# installed binary. DESTDIR stages everything for a package.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
install: man
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/freqd
	install -D -m 0644 $(MAN) $(DESTDIR)$(MANDIR)/man1/freqd.1
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	$(RUNBIN) completion bash >$(DESTDIR)$(BASHCOMPDIR)/freqd
	$(RUNBIN) completion zsh >$(DESTDIR)$(ZSHCOMPDIR)/_freqd
	for u in freqd.service freqd.socket; do \
		sed 's|/usr/local/bin/freqd|$(BINDIR)/freqd|g' contrib/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/freqd $(DESTDIR)$(ZSHCOMPDIR)/_freqd $(DESTDIR)$(UNITDIR)/freqd.*
	install -m 0644 contrib/systemd/freqd.sysusers $(DESTDIR)$(SYSUSERSDIR)/freqd.conf

# The systemd units, checked by systemd-analyze verify as installed (with
# make install into a scratch root, so that ExecStart= names a binary that
# exists). Installs Debian's systemd package if systemd-analyze is missing.
units:
	scripts/test-units.sh

# Build the container image (Dockerfile) and test it: version, non-root
# user, the embedded table, a table from the /data volume. Uses podman,
# installed with apt-get if missing (no Docker engine needed).
image:
	scripts/test-image.sh

clean:
	rm -rf bin
