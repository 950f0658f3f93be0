# Front door: every target forwards to CMake and ctest.
#   make          build build/fxd and build/fx
#   make run      install what is missing, build, initialise ./var once, serve on 127.0.0.1:8080
#   make check    install, build, run every suite; again under ASan+UBSan; fuzz each parser briefly
#   make format | make lint | make bench

DATA      ?= var
LISTEN    ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 20
JOBS      ?= $(shell nproc)

DEB_PKGS = build-essential cmake pkg-config clang libclang-rt-14-dev \
	libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev libpq-dev \
	libcurl4-gnutls-dev libgnutls28-dev libgoogle-perftools-dev libcmocka-dev python3-pytest python3-requests openssl \
	postgresql-15 postgresql-client-15
BENCH_PKGS = wrk nginx-light

.PHONY: all deps build run check check-unit check-asan fuzz format lint bench clean

all: build

deps:
	@sh scripts/install-deps.sh $(DEB_PKGS)

build/Makefile:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: build/Makefile
	cmake --build build -j $(JOBS)

run: deps build
	@if [ ! -d "$(DATA)" ]; then ./build/fxd init --data "$(DATA)"; fi
	@echo "fxd: serving http://$(LISTEN)/"
	./build/fxd serve --data "$(DATA)" --listen "$(LISTEN)"

check: deps build
	cd build && ctest --output-on-failure -j $(JOBS) --timeout 600
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFX_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 900
	$(MAKE) fuzz

fuzz:
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFX_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)
	sh fuzz/run-all.sh build-fuzz $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint: build/Makefile
	sh scripts/lint.sh

bench: deps build
	@sh scripts/install-deps.sh $(BENCH_PKGS)
	sh bench/run-all.sh

clean:
	rm -rf build build-asan build-fuzz
