# plurigrid: the two commands a newcomer needs are `make demo` and `make test`.
# Everything else here is for developers. Each target installs what it needs first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# Debian's python3, which has python3-cffi and python3-numpy (another python3 on the PATH may not).
PYTHON     ?= /usr/bin/python3
CMAKE_GEN  := -G Ninja
export ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
# Third-party leaks only, each with why (tests/lsan.supp); ctest sets the same for every test.
export LSAN_OPTIONS  ?= suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

.PHONY: all deps deps-runtime build build-asan test test-fast test-asan demo check-demo bench \
        install fuzz format clean help python bench-python

all: build

help:
	@echo "make demo      install what is missing, build, run the main job on the hello microworld"
	@echo "make test      install what is missing, build (normal and ASan+UBSan), run every test"
	@echo "make build     build into $(BUILD)/"
	@echo "make test-fast run the tests of the normal build only"
	@echo "make check-demo prove that make demo needs only scripts/deps.sh --runtime's packages"
	@echo "make bench     build and run the benchmarks (figures go in bench/RESULTS.md)"
	@echo "make python    build the library and make 'import plurigrid' work in $(PYTHON)"
	@echo "make bench-python  the Python package's overhead over C (bench/python.py)"
	@echo "make fuzz      build the libFuzzer targets with clang into $(FUZZ_BUILD)/"
	@echo "make install   install library, headers, pkg-config file and command under PREFIX"
	@echo "make format    clang-format every C source"

deps:
	@scripts/deps.sh

deps-runtime:
	@scripts/deps.sh --runtime

# A build folder configured by `make demo` has the tests off (cmocka is a test-only package);
# `make test` turns them on in the same folder.
CONFIGURE = cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release \
            -DCMAKE_INSTALL_PREFIX=$(PREFIX)

$(BUILD)/build.ninja:
	$(CONFIGURE)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DPG_SANITIZE=ON \
	    -DPG_BENCH=OFF -DCMAKE_C_FLAGS_DEBUG="-O1 -g"

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test: deps
	@[ -f $(BUILD)/tests/CTestTestfile.cmake ] || $(CONFIGURE) -DPG_TESTS=ON
	@$(MAKE) --no-print-directory build build-asan
	@$(MAKE) --no-print-directory test-fast test-asan

test-fast: build
	@[ -f $(BUILD)/tests/CTestTestfile.cmake ] || $(CONFIGURE) -DPG_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 900 --no-tests=error

test-asan: build-asan
	@[ -f $(ASAN_BUILD)/tests/CTestTestfile.cmake ] || cmake -S . -B $(ASAN_BUILD) -DPG_TESTS=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 1200 --no-tests=error

demo: deps-runtime
	@[ -f $(BUILD)/build.ninja ] || $(CONFIGURE) -DPG_TESTS=OFF
	@$(MAKE) --no-print-directory build
	scripts/demo.sh $(BUILD)/plurigrid

check-demo: deps
	scripts/check-demo.sh

bench: build
	@for b in $(BUILD)/bench/*; do [ -x "$$b" ] && echo "== $$b" && "$$b"; done

fuzz:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
	    -DPG_SANITIZE=ON -DPG_FUZZ=ON -DPG_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@echo "run e.g.: $(FUZZ_BUILD)/tests/fuzz_matpower tests/fuzz/corpus/matpower -max_total_time=60"

# The Python package (python/plurigrid, docs/python.md) over $(BUILD)'s library: installs
# python3-cffi and python3-numpy when missing, builds, and writes plurigrid.pth (naming python/)
# into $(PYTHON)'s user site-packages, so that `python3 -c "import plurigrid"` works in any folder
# and sees every rebuild at once (nothing is copied). The package loads build/lib/libplurigrid.so
# of this checkout; with another BUILD, set PLURIGRID_LIB as the last line printed says.
python: deps-runtime
	@scripts/deps.sh --python
	@[ -f $(BUILD)/build.ninja ] || $(CONFIGURE) -DPG_TESTS=OFF
	@$(MAKE) --no-print-directory build
	@$(PYTHON) -c "import cffi, numpy" || { echo "make python: $(PYTHON) cannot import cffi \
	    and numpy (Debian: python3-cffi, python3-numpy; scripts/deps.sh --python)" >&2; exit 1; }
	@site="$$($(PYTHON) -m site --user-site)" && mkdir -p "$$site" && \
	    echo "$(CURDIR)/python" > "$$site/plurigrid.pth" && \
	    echo "make python: $$site/plurigrid.pth names $(CURDIR)/python"
	@lib="$(CURDIR)/$(BUILD)/lib/libplurigrid.so"; \
	    if [ "$(BUILD)" != build ]; then export PLURIGRID_LIB="$$lib"; \
	        echo "make python: BUILD is $(BUILD): export PLURIGRID_LIB=$$lib"; fi; \
	    cd / && $(PYTHON) -c "import plurigrid; print('make python: plurigrid', \
	        plurigrid.__version__, 'imports in', '$(PYTHON)', 'with', plurigrid.lib_path)"

bench-python: build
	$(PYTHON) bench/python.py --build $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
