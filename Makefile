# gatecast — see README.md. Every target works on a fresh machine with only Go.

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN         := bin
FUZZTIME    ?= 10s
# A target's default run of the load commands; see bench/README.md.
GATECAST    := $(BIN)/gatecast
LOADGEN     := $(BIN)/gatecast-bench

.PHONY: all run build test vet staticcheck lint race benchsmoke crossbuild bench bench-load fuzz clean

all: build

## run: the gateway on its embedded defaults (ws://localhost:8080/, embedded NATS on 127.0.0.1:4222,
##      admin on 127.0.0.1:9090) with the chat example as its backend and the demo page on; Ctrl-C stops both
run: build
	@echo "gatecast: ws://127.0.0.1:8080/ with the chat backend (examples/chat)."
	@echo "  demo page: open http://127.0.0.1:8080/ in a browser (two tabs: two chat users)"
	@echo "  or, in another terminal: $(GATECAST) connect ws://127.0.0.1:8080/"
	@echo '  then type: {"action":"join","room":"lobby"}  and  {"action":"send","room":"lobby","text":"hi"}'
	@$(BIN)/chat & chat=$$!; trap 'kill $$chat 2>/dev/null' EXIT INT TERM; $(GATECAST) serve --demo

## build: bin/gatecast, bin/gatecast-bench and the example backends (bin/chat, bin/echo, bin/llmstream)
build:
	$(GO) build -o $(BIN)/ ./cmd/... ./examples/...

## test: everything CI runs — vet, staticcheck, race tests, a one-iteration smoke of every benchmark, BSD builds
test: vet staticcheck race benchsmoke crossbuild

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

lint: vet staticcheck
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

race:
	$(GO) test -race -shuffle=on -timeout 10m ./...
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  echo "race: chromium not installed: browser end-to-end tests skipped (apt-get install -y chromium)"
	@command -v openssl >/dev/null 2>&1 || \
	  echo "race: openssl not installed: the TLS interop test with OpenSSL's client skipped (apt-get install -y openssl)"

benchsmoke:
	$(GO) test -run='^$$' -bench=. -benchtime=1x -timeout 10m ./...

crossbuild:
	GOOS=darwin $(GO) build ./...
	GOOS=freebsd $(GO) build ./...

## bench: the in-process benchmarks (gatecast and the baseline in the same run)
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=3 ./...

## bench-load: idle memory and echo figures against real processes (several minutes)
bench-load: build
	$(LOADGEN) idle --target both --gatecast-bin $(GATECAST) --levels 1000,5000,10000,15000
	$(LOADGEN) echo --target both --gatecast-bin $(GATECAST) --conns 1000 --duration 10s
	$(LOADGEN) idle --tls --gatecast-bin $(GATECAST) --levels 1000,5000,10000 --prime 16384
	$(LOADGEN) echo --tls --gatecast-bin $(GATECAST) --conns 1000 --duration 10s

## fuzz: each fuzz target for FUZZTIME (default 10s)
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN)
