# The commands users type; the build itself is CMake (CMakeLists.txt).
#
#   make demo     build and run the examples (the seed's lessons first)
#   make test     the whole suite in four builds: normal, ThreadSanitizer,
#                 AddressSanitizer + UBSan, and the POSIX fallback parking core
#   make bench    the side-by-side benchmark; writes bench/results/latest.csv
#   make install PREFIX=/usr/local   headers, libraries, pkg-config, CMake package
#   make docs     the HTML API reference (needs doxygen: apt-get install doxygen)

BUILD ?= build
PREFIX ?= /usr/local
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE ?= cmake
CTEST ?= ctest
# The fallback build doubles as the clang build when clang is installed.
CLANG := $(shell command -v clang 2>/dev/null)
# Tests keep their assertions (no -DNDEBUG) at -O2.
# Warnings are errors here, in the project's own builds, never in a user's.
TEST_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g" \
             -DCT_BUILD_BENCH=OFF -DCT_WERROR=ON
# What a user's `make`, `make demo` and `make install` build.
RELEASE_FLAGS = -DCMAKE_BUILD_TYPE=Release -DCT_BUILD_TESTS=OFF
# Every optional peer of the benchmark hidden, as on a machine with only a
# compiler, make and CMake: pkg-config looks in an empty directory.
BARE = $(BUILD)/bare
BARE_ENV = PKG_CONFIG_LIBDIR=$(abspath $(BARE))/no-peers PKG_CONFIG_PATH=

.PHONY: all demo test bench install docs clean format \
        test-bare test-normal test-tsan test-asan test-fallback release

all: release

release:
	$(CMAKE) -S . -B $(BUILD)/release $(RELEASE_FLAGS)
	$(CMAKE) --build $(BUILD)/release -j$(JOBS)

demo: release
	./examples/run_demo.sh $(BUILD)/release/examples

bench: release
	$(BUILD)/release/bench/ctbench --csv bench/results/latest.csv

install: release
	$(CMAKE) --install $(BUILD)/release --prefix $(PREFIX)

test: test-bare test-normal test-tsan test-asan test-fallback
	@echo "make test: the bare-machine build and all four test builds passed"

# The README's first command on a bare machine: the release build (library,
# examples, benchmark) with every peer hidden and warnings as errors, the
# demo run, an install, and the benchmark run once, saying what it skipped.
test-bare:
	rm -rf $(BARE) && mkdir -p $(BARE)/no-peers
	$(BARE_ENV) $(CMAKE) -S . -B $(BARE)/build $(RELEASE_FLAGS) -DCT_WERROR=ON
	$(CMAKE) --build $(BARE)/build -j$(JOBS)
	./examples/run_demo.sh $(BARE)/build/examples >$(BARE)/demo.out
	$(CMAKE) --install $(BARE)/build --prefix $(abspath $(BARE))/prefix >/dev/null
	$(BARE)/build/bench/ctbench --quick --reps 1 lock_uncontended >$(BARE)/bench.out
	grep -q '^glib: not measured' $(BARE)/bench.out
	grep -q '^libuv: not measured' $(BARE)/bench.out
	@echo "test-bare: demo, install and bench work with no optional peer"

# $(1) name, $(2) extra CMake arguments
define SUITE
test-$(1):
	$(CMAKE) -S . -B $(BUILD)/$(1) $(TEST_FLAGS) $(2)
	$(CMAKE) --build $(BUILD)/$(1) -j$(JOBS)
	cd $(BUILD)/$(1) && $(CTEST) --output-on-failure -j$(JOBS)
endef

$(eval $(call SUITE,normal,))
$(eval $(call SUITE,tsan,-DCT_SANITIZE=thread))
$(eval $(call SUITE,asan,-DCT_SANITIZE=address))
$(eval $(call SUITE,fallback,-DCT_PARK_FALLBACK=ON $(if $(CLANG),-DCMAKE_C_COMPILER=$(CLANG))))

docs:
	@command -v doxygen >/dev/null || { echo "make docs needs doxygen: apt-get install doxygen"; exit 1; }
	mkdir -p $(BUILD)/docs
	doxygen docs/Doxyfile
	@echo "API reference: $(BUILD)/docs/html/index.html"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
