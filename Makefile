# Thin wrapper over CMake. `make run` and `make test` install what is missing first.
BUILD_DIR ?= build
SAN_DIR   ?= build-sanitize
JOBS      ?= $(shell nproc)
MAKEFLAGS += --no-print-directory
CONFIG    ?= examples/demo.conf
FUZZ_DIR  ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps build run test sanitize clean release
.PHONY: bench fuzz fuzz-xmlrpc

all: build

deps:
	@scripts/install-deps.sh

BUILD_TYPE ?= RelWithDebInfo

# Configured every time (a no-op when nothing changed), so that a build dir configured
# otherwise by hand is put back to BUILD_TYPE: benchmarks of a Debug build mean nothing.
build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DZAGENT_WERROR=ON > /dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@scripts/run-demo.sh $(BUILD_DIR) $(CONFIG)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

sanitize: deps
	cmake -S . -B $(SAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DZAGENT_SANITIZE=ON -DZAGENT_WERROR=ON
	cmake --build $(SAN_DIR) -j $(JOBS)
	cd $(SAN_DIR) && ctest --output-on-failure -j $(JOBS)

# A packager's build: Release with Debian's default flags (dpkg-buildflags), the binaries
# only, warnings as errors, so that an optimised build with other flags keeps building.
release: deps
	CXXFLAGS="$$(dpkg-buildflags --get CXXFLAGS)" LDFLAGS="$$(dpkg-buildflags --get LDFLAGS)" \
	  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DZAGENT_BUILD_TESTS=OFF \
	  -DZAGENT_WERROR=ON > /dev/null
	cmake --build build-release -j $(JOBS) --target zagent zctl

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) build-release

# Side-by-side benchmark against supervisord; writes docs/benchmarks.md (bench/README.md).
bench: build
	@scripts/install-deps.sh --bench
	python3 bench/run.py

# libFuzzer on the socket codec (tests/fuzz/rpc_fuzz.cc) with ASan/UBSan, built by clang. The
# seed corpus is copied into the build dir, where it grows; crashes are written there too.
fuzz:
	@scripts/install-deps.sh --fuzz
	CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug -DZAGENT_FUZZ=ON \
	  -DZAGENT_BUILD_TESTS=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target rpc_fuzz
	mkdir -p $(FUZZ_DIR)/corpus
	find tests/fuzz/corpus -maxdepth 1 -type f -exec cp {} $(FUZZ_DIR)/corpus/ \;
	cd $(FUZZ_DIR) && tests/fuzz/rpc_fuzz -max_len=4096 -max_total_time=$(FUZZ_SECONDS) \
	  -print_final_stats=1 corpus

# The same for the XML-RPC codec (tests/fuzz/xmlrpc_fuzz.cc), seeded from tests/fuzz/corpus/xmlrpc.
fuzz-xmlrpc:
	@scripts/install-deps.sh --fuzz
	CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug -DZAGENT_FUZZ=ON \
	  -DZAGENT_BUILD_TESTS=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target xmlrpc_fuzz
	mkdir -p $(FUZZ_DIR)/corpus-xmlrpc
	cp tests/fuzz/corpus/xmlrpc/* $(FUZZ_DIR)/corpus-xmlrpc/
	cd $(FUZZ_DIR) && tests/fuzz/xmlrpc_fuzz -max_len=4096 -max_total_time=$(FUZZ_SECONDS) \
	  -print_final_stats=1 corpus-xmlrpc
