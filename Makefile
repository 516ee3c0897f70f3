# SPDX-License-Identifier: MIT
# The user's verbs. CMake does the work; this file only names it.
#   make            build the library, examples and tests (release)
#   make test       the whole suite: format, release, ASan+UBSan, TSan, clang, install,
#                   aarch64, fuzz
#   make demo       build and run the flagship example
#   make dashboard  the same pipeline live in a browser (PORT=8080; 0 = any free port)
#   make bench      benchmarks, rill beside its peers (W=5 runs one workload)
#   make install    install to PREFIX (default /usr/local)
#   make fuzz       run each libFuzzer harness FUZZ_SECONDS (300) s, grow the corpus
#   make soak       the long mixed workload for SOAK_SECONDS (600) s
PREFIX ?= /usr/local
BUILD  ?= build/release
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps test demo dashboard bench install clean format fuzz soak

all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

deps:
	@scripts/deps.sh build

test:
	@scripts/deps.sh test
	@scripts/test.sh

demo: all
	@$(BUILD)/examples/sensor_pipeline

dashboard: all
	@$(BUILD)/examples/dashboard $(PORT)

bench:
	@scripts/deps.sh bench
	@scripts/bench.sh $(W)

fuzz:
	@scripts/deps.sh test
	@scripts/fuzz.sh

soak: all
	@$(BUILD)/rill_soak

install: all
	@cmake --install $(BUILD) --prefix $(PREFIX)

format:
	@scripts/format.sh

clean:
	rm -rf build
