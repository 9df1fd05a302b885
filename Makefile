# The two commands of the README: `make demo` and `make test`. Each installs what it needs first.
SWIFT ?= swift
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev zlib1g-dev python3-prometheus-client
# The tests' throw-away PostgreSQL server (.ci/with-postgres): only `make test` installs it; the demo needs no server.
TEST_APT_PACKAGES := postgresql

.PHONY: deps test-deps apt demo test build release lint bench bench-run bench-naive bench-latency bench-engines bench-hosts

deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES) $(TEST_APT_PACKAGES)"

apt:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Builds quietly (the build's output goes to .build/demo-build.log, shown only if the build fails),
# then prints the demo's report.
demo: deps
	@mkdir -p .build; echo "building reconcile (log: .build/demo-build.log)…"
	@$(SWIFT) build --product reconcile >.build/demo-build.log 2>&1 || { cat .build/demo-build.log; exit 1; }
	@"$$($(SWIFT) build --show-bin-path)/reconcile" demo --log-level warning

# The tests run beside a throw-away PostgreSQL cluster (.ci/with-postgres), stopped whatever happens: every test
# once (the store's tests on both engines), then the CLI suite again with each job's store on PostgreSQL.
test: test-deps
	$(SWIFT) build --build-tests
	.ci/with-postgres $(SWIFT) test --skip-build
	RECONCILE_TEST_ENGINE=postgres .ci/with-postgres $(SWIFT) test --skip-build --filter ReconcileCLITests

lint:
	$(SWIFT) format lint --strict -r Package.swift Sources Tests

# Ingest benchmark (release build): make bench LINES=1000000 [PROVIDER=credify|crezco]
LINES ?= 1000000
PROVIDER ?= credicorp
bench: deps
	bash benchmarks/ingest.sh $(LINES) $(PROVIDER)

# Run benchmark (release build): a generated Credicorp world on loopback; make bench-run CHAINS=6000
# A million events over ~187,000 resources: make bench-run CHAINS=66000 PROGRESS_UPDATES=11
CHAINS ?= 6000
PROGRESS_UPDATES ?= 0
bench-run: deps
	bash benchmarks/run.sh $(CHAINS) 53 $(PROGRESS_UPDATES)

# reconcile against the naive script (benchmarks/naive.py), same world, same sitting:
# make bench-naive (the issue's world: CHAINS=6600 with 11 progress updates, ~97,000 events)
NAIVE_CHAINS ?= 6600
NAIVE_UPDATES ?= 11
bench-naive: deps
	bash benchmarks/naive.sh $(NAIVE_CHAINS) $(NAIVE_UPDATES)

# make bench-latency: dry runs while the double answers each request late (a provider far away), at a
# real provider's 25 requests/s: make bench-latency LATENCY_CHAINS=1000 LATENCY_RATE=25 LATENCIES="0 50 100"
LATENCY_CHAINS ?= 1000
LATENCY_RATE ?= 25
LATENCIES ?= 0 50 100
bench-latency: deps
	bash benchmarks/latency.sh $(LATENCY_CHAINS) $(LATENCY_RATE) $(LATENCIES)

# make bench-engines: the same world (the issue's, as bench-naive) on a SQLite file and on PostgreSQL,
# beside a throw-away server (.ci/with-postgres).
bench-engines: test-deps
	.ci/with-postgres bash benchmarks/engines.sh $(NAIVE_CHAINS) $(NAIVE_UPDATES)

# make bench-hosts: 1, 2 and 4 `run --shard` processes sharing a job of ACCOUNTS accounts (each a world of
# HOST_CHAINS chains read at ACCOUNT_RATE requests/s) on one PostgreSQL store, beside a throw-away server
# (.ci/with-postgres).
ACCOUNTS ?= 40
HOST_CHAINS ?= 100
ACCOUNT_RATE ?= 5
bench-hosts: test-deps
	.ci/with-postgres bash benchmarks/hosts.sh $(ACCOUNTS) $(HOST_CHAINS) $(ACCOUNT_RATE)

# libFuzzer targets (Fuzz/, built only here, with -sanitize=fuzzer,address): make fuzz FUZZ_SECONDS=60
# All targets run at once, each for FUZZ_SECONDS. Seeds are read from Tests/Fuzz/<target>/; new inputs go to
# .build-fuzz/corpus/<target>/, crashes to .build-fuzz/findings/<target>/, output to .build-fuzz/<target>.log
# (its final stat:: lines are printed at the end). Any crash makes the status non-zero.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= FuzzJSON FuzzCapture FuzzJobFile
FUZZ_BUILD ?= .build-fuzz
FUZZ_FLAGS ?= -max_len=8192 -print_final_stats=1
.PHONY: fuzz fuzz-build
fuzz-build: deps
	for t in $(FUZZ_TARGETS); do \
		RECONCILE_FUZZ=1 $(SWIFT) build --build-path $(FUZZ_BUILD) --product $$t \
			-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xlinker --export-dynamic || exit 1; \
	done

fuzz: fuzz-build
	@pids=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/findings/$$t; \
		$(FUZZ_BUILD)/debug/$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=$(FUZZ_BUILD)/findings/$$t/ $(FUZZ_BUILD)/corpus/$$t Tests/Fuzz/$$t \
			> $(FUZZ_BUILD)/$$t.log 2>&1 & pids="$$pids $$!"; \
	done; \
	status=0; for p in $$pids; do wait $$p || status=1; done; \
	for t in $(FUZZ_TARGETS); do \
		echo "== $$t"; grep -E "^(stat::|Done |==[0-9]+==ERROR|SUMMARY|artifact_prefix)" $(FUZZ_BUILD)/$$t.log; \
		grep -E "cov:" $(FUZZ_BUILD)/$$t.log | tail -n 1; \
	done; exit $$status
