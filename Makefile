# The commands users type; the build itself is CMake (CMakeLists.txt).
#
#   make demo     build and run the examples (the seed's lessons first)
#   make test     the whole suite in four builds: normal, ThreadSanitizer,
#                 AddressSanitizer + UBSan, and the POSIX fallback parking core;
#                 then, on 4 CPUs or more (or with EXTRAS=yes), the extra
#                 builds whose toolchains are installed (musl, i386, aarch64
#                 and armhf under qemu-user), naming the ones it skipped;
#                 with clang installed, the ThreadSanitizer and fallback
#                 builds use it. Each build says how long it took.
#   make test-extra   the extra builds alone
#   make package  a Debian package and a tarball (CPack) in $(BUILD)/package
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
# The fallback build uses clang when it is installed, as macOS and the BSDs,
# which would use that core, do; so does the ThreadSanitizer build, whose
# runtime clang's compiler-rt is: it tests clang with the futex core, on
# the whole suite (gcc compiles the normal and ASan+UBSan builds).
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

.PHONY: all demo test bench bench-readme install docs timeline clean format package stress coverage \
        test-bare test-normal test-tsan test-asan test-fallback release \
        test-extra test-native-extra test-qemu $(addprefix test-,$(EXTRA_BUILDS))

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

# The Debian package (dpkg -i it) and a tarball of the same files, from the
# release build; tests/consumer/run.sh deb unpacks the package and builds
# a program against it (the install.deb test).
package: release
	cd $(BUILD)/release && cpack -B $(abspath $(BUILD))/package
	@echo "make package: $$(ls $(BUILD)/package/*.deb $(BUILD)/package/*.tar.gz | tr '\n' ' ')"

# The extra builds (musl, i686, aarch64, armhf) run in make test where the
# machine has 4 CPUs or more: on 2 CPUs they cost 280 s of a make test that
# must stay within 10 minutes (a 2-CPU AMD EPYC VM took 14 min 50 s with
# them). EXTRAS=yes or no decides instead; make test-extra runs them alone.
EXTRAS ?= $(shell [ $(JOBS) -ge 4 ] && echo yes || echo no)

test: test-bare test-normal test-tsan test-asan test-fallback $(if $(filter yes,$(EXTRAS)),test-extra)
	@echo "make test: the bare-machine build and all four test builds passed"
ifeq ($(EXTRAS),yes)
	@echo "make test: extra builds passed: $$(cat $(EXTRA_LOG).ran 2>/dev/null | tr '\n' ' ')"
	@if [ -s $(EXTRA_LOG).skipped ]; then echo "make test: extra builds SKIPPED (a toolchain not installed, or a kernel that cannot run its programs):"; \
		sed 's/^/    /' $(EXTRA_LOG).skipped; else echo "make test: no extra build skipped"; fi
	@echo "make test: the extra builds took $$(( $$(date +%s) - $$(cat $(EXTRA_LOG).start) )) s, beside each other"
else
	@echo "make test: the extra builds (musl, i686, aarch64, armhf) were LEFT OUT: $(JOBS) CPUs" \
		"(they run with 4 or more, or with make test EXTRAS=yes; make test-extra runs them alone)"
endif

# The README's first command on a bare machine: the release build (library,
# examples, benchmark) with every peer hidden and warnings as errors, the
# demo run, an install, and the benchmark run once, saying what it skipped.
test-bare:
	rm -rf $(BARE) && mkdir -p $(BARE)/no-peers && date +%s >$(BARE)/.start
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
	@echo "test-bare: demo, install and bench work with no optional peer, and with no C++ compiler" \
		"($$(( $$(date +%s) - $$(cat $(BARE)/.start) )) s)"

# The litmus scenarios a tenth as long (2000 runs each, the sanitizers'
# count) and a second each at most: for the builds whose runs are slow
# (the sanitizers, the fallback parker) or that check the C library and
# the ABI (musl, i686); the whole runs are the normal build's (and make
# stress's). (Defined before the builds that use it: $(call) expands it
# where they are made.)
SHORT_LITMUS = -DCT_TEST_LITMUS_ITERS=2000 -DCT_TEST_LITMUS_SECONDS=1

# $(1) name, $(2) extra CMake arguments, $(3) the tests left out
define SUITE
test-$(1):
	@mkdir -p $(BUILD) && date +%s >$(BUILD)/.$(1).start
	$(CMAKE) -S . -B $(BUILD)/$(1) $(TEST_FLAGS) $(2)
	$(CMAKE) --build $(BUILD)/$(1) -j$(JOBS)
	cd $(BUILD)/$(1) && $(CTEST) --output-on-failure -j$(JOBS) $(if $(3),-E '$(3)')
	@echo "make test: the $(1) build and its tests took $$$$(( $$$$(date +%s) - $$$$(cat $(BUILD)/.$(1).start) )) s"
endef

$(eval $(call SUITE,normal,))
# The sanitizer builds run the litmus scenarios a second each at most (their
# runs are slow; the normal build runs them whole) and leave out the source
# conventions, which do not run the library's code; the ThreadSanitizer
# build also the NULL misuse tables, which start no thread (the ASan+UBSan
# build runs them).
$(eval $(call SUITE,tsan,-DCT_SANITIZE=thread $(SHORT_LITMUS) $(if $(CLANG),-DCMAKE_C_COMPILER=$(CLANG)),^(conventions|null|null_inline)[.]))
$(eval $(call SUITE,asan,-DCT_SANITIZE=address $(SHORT_LITMUS),^conventions[.]))
# The fallback build changes only the parking core: it leaves out, as the
# extra builds do, the checks that do not run the library's code (EXTRA_EXCLUDE),
# and the install tests (the normal build's show the install works), and
# runs the litmus scenarios and the stress cases a tenth as long, as the
# sanitizers do.
$(eval $(call SUITE,fallback,-DCT_PARK_FALLBACK=ON $(SHORT_LITMUS) -DCT_TEST_SHORT_STRESS=ON $(if $(CLANG),-DCMAKE_C_COMPILER=$(CLANG)),$$(EXTRA_EXCLUDE)|^install[.]))

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
# the stderr the test requires empty. Forked children count too: a test's
# fork child ends with HT_CHILD_EXIT() (tests/harness.h), which under
# -DCT_TEST_GCOV_DUMP writes its counts with __gcov_dump() before
# _exit(), and every fork child starts its counts from zero (the harness's
# pthread_atfork() handler calls __gcov_reset()), so that it writes only
# what it ran itself, never the parent's counts caught mid-update (from
# which gcov derives negative branch counts that gcovr cannot read).
coverage:
	@command -v gcovr >/dev/null || { echo "make coverage needs gcovr: apt-get install gcovr"; exit 1; }
	$(CMAKE) -S . -B $(BUILD)/coverage -DCMAKE_BUILD_TYPE=Debug -DCT_BUILD_BENCH=OFF \
		-DCMAKE_C_FLAGS="--coverage -fprofile-update=atomic -DCT_TEST_GCOV_DUMP" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
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

# ---- the extra builds: other compilers, C libraries and processors ----
# Each runs when its tools are on the PATH and is otherwise skipped, saying
# so (.ci/run installs them all: Debian's musl-tools, gcc-i686-linux-gnu,
# gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf and qemu-user, and clang
# for the ThreadSanitizer and fallback builds). The cross builds' tests run under qemu-user; most of their
# time is the emulator starting, not the CPU, so they run with more CTest
# jobs (QEMU_JOBS), beside each other and beside the native ones.
# To stay within make test's time, the extra builds leave out what does not
# depend on the compiler, C library or processor: the documentation checks
# (docs.*), the source conventions (conventions.*) and the two install
# tests that build the library again from its sources (add_subdirectory,
# fetchcontent); the pkg-config, find_package and .deb installs run.
EXTRA_BUILDS = musl i686 aarch64 armhf
EXTRA_LOG = $(BUILD)/extra
EXTRA_EXCLUDE = ^(docs|conventions|models|static|diff)[.]|^install[.](add_subdirectory|fetchcontent)
# Under QEMU the litmus scenarios too: QEMU runs ARM code with x86-64's
# strong ordering, so their races cannot show ARM's weak one there, and
# emulated they cost minutes. And, to keep make test within 10 minutes on
# a 2-CPU machine, the cases that check meaning rather than the processor
# (CPython's ported cases, the NULL misuse tables, the examples' output),
# which the native builds run, and the install tests, which the musl build
# runs: under QEMU every case's process starts an emulator, and the two
# QEMU builds cost more than any other.
QEMU_EXCLUDE = $(EXTRA_EXCLUDE)|^litmus[.]|^(cpython_[a-z_]+|null|null_inline|examples|examples_[a-z]+|install)[.]
QEMU_JOBS ?= 4
TOOLCHAINS = cmake/toolchains

# The builds run side by side and each prints its output when it ends, so a
# failure can scroll far up: the failed tests of every extra build are
# listed again at the end, where a log's last lines show them, and run once
# more with their output (a pass there still fails make test: it is a flake
# to fix, named).
test-extra:
	@mkdir -p $(BUILD) && rm -f $(EXTRA_LOG).ran $(EXTRA_LOG).skipped && date +%s >$(EXTRA_LOG).start
	@$(MAKE) --no-print-directory -j3 -O test-native-extra test-aarch64 test-armhf || { \
		echo "make test: an extra build FAILED; its failed tests:"; listed=; \
		for b in $(EXTRA_BUILDS); do f=$(BUILD)/$$b/Testing/Temporary/LastTestsFailed.log; \
			[ $$f -nt $(EXTRA_LOG).start ] || continue; sed "s/^/    $$b: /" $$f; listed="$$listed $$b"; done; \
		[ -n "$$listed" ] || echo "    none: a configure or build step failed (see above)"; \
		for b in $$listed; do echo "make test: the $$b build's failed tests once more, with their output:"; \
			(cd $(BUILD)/$$b && $(CTEST) --rerun-failed --output-on-failure 2>&1 | tail -60); done; exit 1; }

# The two QEMU builds alone.
test-qemu: test-aarch64 test-armhf

# One after the other (each compiles with -j$(JOBS)), beside the QEMU ones.
test-native-extra:
	$(MAKE) --no-print-directory test-musl
	$(MAKE) --no-print-directory test-i686

# An x86-64 kernel built or booted without IA-32 emulation cannot run
# 32-bit x86 programs ("Exec format error"): the i686 build is then
# skipped, saying so. (qemu-user's qemu-i386 7.2 is no way around it: the
# suite's threaded cases hang under it.) The probe runs the target's own
# dynamic loader, a 32-bit program that every such toolchain installs.
I686_RUNS = /usr/i686-linux-gnu/lib/ld-linux.so.2 --help
I686_CANNOT = this kernel cannot run 32-bit x86 programs (IA-32 emulation off)

# $(1) name, $(2) tools it needs, $(3) Debian packages, $(4) CMake
# arguments, $(5) CTest jobs, $(6) the tests left out; $(7), if given, a
# command that fails where the build's programs cannot run, and $(8) why
define EXTRA
test-$(1):
	@mkdir -p $(BUILD)
	@for tool in $(2); do command -v $$$$tool >/dev/null 2>&1 && continue; \
		echo "make test: SKIPPED the $(1) build: no $$$$tool (apt-get install $(3))"; \
		echo "$(1): no $$$$tool (apt-get install $(3))" >>$(EXTRA_LOG).skipped; exit 0; done; \
	if [ -n "$(7)" ] && ! $(7) >/dev/null 2>&1; then \
		echo "make test: SKIPPED the $(1) build: $(8)"; \
		echo "$(1): $(8)" >>$(EXTRA_LOG).skipped; exit 0; fi; \
	set -e; start=$$$$(date +%s); \
	$(CMAKE) -S . -B $(BUILD)/$(1) $(TEST_FLAGS) $(4); \
	$(CMAKE) --build $(BUILD)/$(1) -j$(JOBS); \
	cd $(BUILD)/$(1) && $(CTEST) --output-on-failure -j$(5) -E '$(6)'; \
	echo $(1) >>$(abspath $(EXTRA_LOG)).ran; \
	echo "make test: the $(1) build and its tests took $$$$(( $$$$(date +%s) - start )) s"
endef

$(eval $(call EXTRA,musl,musl-gcc,musl-tools,-DCMAKE_TOOLCHAIN_FILE=$(TOOLCHAINS)/musl.cmake $(SHORT_LITMUS),$(JOBS),$(EXTRA_EXCLUDE)))
$(eval $(call EXTRA,i686,i686-linux-gnu-gcc,gcc-i686-linux-gnu,-DCMAKE_TOOLCHAIN_FILE=$(TOOLCHAINS)/i686-linux-gnu.cmake $(SHORT_LITMUS),$(JOBS),$(EXTRA_EXCLUDE),$(I686_RUNS),$(I686_CANNOT)))
$(eval $(call EXTRA,aarch64,aarch64-linux-gnu-gcc qemu-aarch64,gcc-aarch64-linux-gnu qemu-user,-DCMAKE_TOOLCHAIN_FILE=$(TOOLCHAINS)/aarch64-linux-gnu.cmake,$(QEMU_JOBS),$(QEMU_EXCLUDE)))
$(eval $(call EXTRA,armhf,arm-linux-gnueabihf-gcc qemu-arm,gcc-arm-linux-gnueabihf qemu-user,-DCMAKE_TOOLCHAIN_FILE=$(TOOLCHAINS)/arm-linux-gnueabihf.cmake,$(QEMU_JOBS),$(QEMU_EXCLUDE)))

docs:
	@command -v doxygen >/dev/null || { echo "make docs needs doxygen: apt-get install doxygen"; exit 1; }
	mkdir -p $(BUILD)/docs
	doxygen docs/Doxyfile
	@echo "API reference: $(BUILD)/docs/html/index.html"

# The tutorial's timeline pictures (docs/img/timeline-*.png), drawn by
# tools/timeline.py from real traces of the GIL lesson (ex7) and the
# producer/consumer lesson (ex5d); skipped without gnuplot or python3.
TIMELINE = $(BUILD)/timeline
timeline: release
	@command -v gnuplot >/dev/null && command -v python3 >/dev/null || \
		{ echo "make timeline needs python3 and gnuplot (apt-get install gnuplot): skipped"; exit 0; }; \
	set -e; mkdir -p $(TIMELINE) docs/img; \
	CTHREADING=trace=$(TIMELINE)/ex7.json $(BUILD)/release/examples/ex7_gil >/dev/null; \
	CTHREADING=trace=$(TIMELINE)/ex5d.json $(BUILD)/release/examples/ex5d_queue >/dev/null; \
	python3 tools/timeline.py $(TIMELINE)/ex7.json -o docs/img/timeline-gil-increments.png \
		--only gil --cluster 1 --title "ex7: five threads add to num under the GIL, one after the other"; \
	python3 tools/timeline.py $(TIMELINE)/ex7.json -o docs/img/timeline-gil-cpu.png \
		--only gil --cluster 2 --title "ex7: two CPU-bound threads under the GIL take turns"; \
	python3 tools/timeline.py $(TIMELINE)/ex5d.json -o docs/img/timeline-queue.png \
		--title "ex5d: two producers and three consumers on a Queue"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
