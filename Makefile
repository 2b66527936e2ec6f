# freqd: the two set-up commands are `make run` and `make test` (see README.md).
GO      ?= go
BIN     := bin/freqd
ARGS    ?=

.PHONY: all build run test test-short vet fmt-check bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/freqd

# Run the server on the embedded SUBTLEX-US table (127.0.0.1:7379). ARGS adds flags.
run: build
	./$(BIN) serve $(ARGS)

# Everything CI checks: formatting, vet, and the tests under the race detector.
test: fmt-check vet
	$(GO) test -race -count=1 -timeout 15m ./...

test-short:
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Micro-benchmarks (lookups, protocol, descriptor passing).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A bounded fuzzing pass over every fuzz target.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./shm
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./resp
	$(GO) test -run '^$$' -fuzz '^FuzzProcess$$' -fuzztime $(FUZZTIME) ./handler

clean:
	rm -rf bin
