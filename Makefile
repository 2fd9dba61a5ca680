# The commands users type; the build itself is CMake (CMakeLists.txt).
#
#   make demo     build and run the examples (the seed's lessons first)
#   make test     the whole suite in four builds: normal, ThreadSanitizer,
#                 AddressSanitizer + UBSan, and the POSIX fallback parking core
#   make bench    the side-by-side benchmark; writes its table, CSV and plots
#                 to build/bench/ (BENCH_OUT), never to a tracked file
#   make bench-readme   the same run into bench/results/, the files the
#                 README quotes and shows: refreshes them on purpose
#   make install PREFIX=/usr/local   headers, libraries, pkg-config, CMake package
#   make docs     the HTML API reference (needs doxygen: apt-get install doxygen)
#   make stress   the litmus scenarios (tests/test_litmus.c) for long: up to a
#                 million runs each, in the normal build; then the
#                 differential test against CPython with a random seed
#   make coverage line and branch coverage of src/ (needs gcovr), by the
#                 normal suite; the report in $(BUILD)/coverage/

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
# compiler, make and CMake: pkg-config looks in an empty directory, and the
# CMake packages and headers are not looked for.
BARE = $(BUILD)/bare
BARE_ENV = PKG_CONFIG_LIBDIR=$(abspath $(BARE))/no-peers PKG_CONFIG_PATH=
BARE_FLAGS = -DCMAKE_DISABLE_FIND_PACKAGE_TBB=ON -DCMAKE_DISABLE_FIND_PACKAGE_absl=ON \
             -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_concurrentqueue=ON \
             -DCMAKE_DISABLE_FIND_PACKAGE_atomic_queue=ON
BARE_PEERS = glib libuv tbb ck boost moodycamel atomic_queue absl
# The benchmark's output (make bench) and the README's copy (make bench-readme);
# BENCH_ARGS passes options and workloads: make bench BENCH_ARGS="--quick queue_*"
BENCH_OUT ?= $(BUILD)/bench
BENCH_README = bench/results
BENCH_ARGS ?=

.PHONY: all demo test bench bench-readme install docs clean format stress coverage \
        test-bare test-normal test-tsan test-asan test-fallback release

all: release

release:
	$(CMAKE) -S . -B $(BUILD)/release $(RELEASE_FLAGS)
	$(CMAKE) --build $(BUILD)/release -j$(JOBS)

demo: release
	./examples/run_demo.sh $(BUILD)/release/examples

# $(1): the folder for latest.txt (the table), latest.csv and the plots.
# Progress goes to the terminal (stderr); the table to both.
define BENCH_RUN
	@mkdir -p $(1)
	{ $(BUILD)/release/bench/ctbench --csv $(1)/latest.csv $(BENCH_ARGS); echo $$? >$(1)/.status; } \
		| tee $(1)/latest.txt
	@status=$$(cat $(1)/.status); rm -f $(1)/.status; exit $$status
endef

bench: release
	$(call BENCH_RUN,$(BENCH_OUT))
	@echo "make bench: the table, CSV and plots are in $(BENCH_OUT)/ (latest.txt, latest.csv, *.png)"

# The README's figures: the same run, into the tracked bench/results/.
bench-readme: release
	$(call BENCH_RUN,$(BENCH_README))
	@echo "make bench-readme: refreshed $(BENCH_README)/; update README.md's benchmark section from latest.txt"

install: release
	$(CMAKE) --install $(BUILD)/release --prefix $(PREFIX)

test: test-bare test-normal test-tsan test-asan test-fallback
	@echo "make test: the bare-machine build and all four test builds passed"

# The README's first command on a bare machine: the release build (library,
# examples, benchmark) with every peer hidden and warnings as errors, the
# demo run, an install, and the benchmark run once, saying what it skipped.
test-bare:
	rm -rf $(BARE) && mkdir -p $(BARE)/no-peers
	$(BARE_ENV) $(CMAKE) -S . -B $(BARE)/build $(RELEASE_FLAGS) $(BARE_FLAGS) -DCT_WERROR=ON
	$(CMAKE) --build $(BARE)/build -j$(JOBS)
	./examples/run_demo.sh $(BARE)/build/examples >$(BARE)/demo.out
	$(CMAKE) --install $(BARE)/build --prefix $(abspath $(BARE))/prefix >/dev/null
	$(BARE)/build/bench/ctbench --quick --reps 1 lock_uncontended >$(BARE)/bench.out
	for peer in $(BARE_PEERS); do \
		grep -q "^$$peer: not measured" $(BARE)/bench.out || { cat $(BARE)/bench.out; exit 1; }; \
	done
	# The bench again with no C++ compiler at all: C only.
	$(BARE_ENV) $(CMAKE) -S . -B $(BARE)/no-cxx $(RELEASE_FLAGS) -DCT_WERROR=ON \
		-DCMAKE_CXX_COMPILER=$(abspath $(BARE))/no-such-c++
	$(CMAKE) --build $(BARE)/no-cxx -j$(JOBS) --target ctbench
	$(BARE)/no-cxx/bench/ctbench --quick --reps 1 lock_uncontended >$(BARE)/bench-no-cxx.out
	grep -q '^tbb: not measured (no C++ compiler' $(BARE)/bench-no-cxx.out
	@echo "test-bare: demo, install and bench work with no optional peer, and with no C++ compiler"

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

# The litmus scenarios for long: a million runs each, or 100 s (CTest's
# time limit is 120 s a test).
stress:
	$(CMAKE) -S . -B $(BUILD)/normal $(TEST_FLAGS)
	$(CMAKE) --build $(BUILD)/normal -j$(JOBS) --target test_litmus
	cd $(BUILD)/normal && CT_LITMUS_ITERS=1000000 CT_LITMUS_SECONDS=100 \
		$(CTEST) -R '^litmus\.' --output-on-failure -V -j1
	$(CMAKE) --build $(BUILD)/normal -j$(JOBS) --target diff_runner
	python3 tests/diff/diff.py $(BUILD)/normal/tests/diff_runner --count 100000 --length 40

# Line and branch coverage of src/ by the normal suite (not the models or
# the install checks, which do not run the library's code), counted
# correctly for threaded code (-fprofile-update=atomic). The report:
# $(BUILD)/coverage/report/ (index.html, coverage.txt); the summary is
# printed. Lines marked GCOVR_EXCL_* in src/ are excluded, each with its
# reason beside it. A failing test fails the target after the report.
# Left out: threadtests_start_new_thread_failed, whose child runs under
# a lowered limit in which libgcov cannot open its files and says so on
# the stderr the test requires empty. Forked children end with _exit()
# and their counts are lost: the code only a fork child runs (the repair
# of each object) counts as never run. (Dumping them with __gcov_dump()
# before _exit() was tried: with threads forked mid-update, gcov then
# wrote negative counts that gcovr cannot read.)
coverage:
	@command -v gcovr >/dev/null || { echo "make coverage needs gcovr: apt-get install gcovr"; exit 1; }
	$(CMAKE) -S . -B $(BUILD)/coverage -DCMAKE_BUILD_TYPE=Debug -DCT_BUILD_BENCH=OFF \
		-DCMAKE_C_FLAGS="--coverage -fprofile-update=atomic" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
		-DCMAKE_SHARED_LINKER_FLAGS=--coverage
	$(CMAKE) --build $(BUILD)/coverage -j$(JOBS)
	find $(BUILD)/coverage -name '*.gcda' -delete
	cd $(BUILD)/coverage && \
		$(CTEST) -j$(JOBS) -E '^(models|install|cxx|static)\.|start_new_thread_failed' --output-on-failure; \
		echo $$? >.status
	mkdir -p $(BUILD)/coverage/report
	gcovr -r . --filter 'src/' --object-directory $(BUILD)/coverage --exclude-directories '.*CompilerId.*' \
		--exclude-unreachable-branches --print-summary \
		--txt $(BUILD)/coverage/report/coverage.txt \
		--html-details $(BUILD)/coverage/report/index.html
	@exit $$(cat $(BUILD)/coverage/.status)

docs:
	@command -v doxygen >/dev/null || { echo "make docs needs doxygen: apt-get install doxygen"; exit 1; }
	mkdir -p $(BUILD)/docs
	doxygen docs/Doxyfile
	@echo "API reference: $(BUILD)/docs/html/index.html"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
