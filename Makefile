# SPDX-License-Identifier: Apache-2.0
# Thin driver over meson. `make demo` and `make check` install what they
# need (Debian packages, idempotently), build, and run.

BUILD ?= build
ASAN  ?= build-asan
FUZZ  ?= build-fuzz
T     ?=
QUICK ?=

.PHONY: all deps demo check bench fuzz attack clean asan fuzz-build

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(ASAN)/build.ninja:
	meson setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug

$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debugoptimized

asan: $(ASAN)/build.ninja
	ninja -C $(ASAN)

fuzz-build: $(FUZZ)/build.ninja
	ninja -C $(FUZZ)

deps:
	scripts/deps.sh

# The main job: an unmodified program on Cove's default stack, real clients.
demo: deps
	$(MAKE) all
	scripts/demo.sh

# Every test, ending with "N passed, N failed". T=PATTERN runs a subset.
check: deps
	$(MAKE) all asan fuzz-build
	BUILD=$(BUILD) ASAN=$(ASAN) FUZZ=$(FUZZ) tests/run.sh $(T)

# Long fuzz runs by hand: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 300
fuzz: deps fuzz-build
	tests/fuzz.sh $(FUZZ_SECONDS)

bench: deps
	$(MAKE) all
	bench/run.sh $(if $(QUICK),--quick)

# The attack suite in full against builtin, lwip and Linux; its results
# table goes into docs/SECURITY.md ("Attack suite"). Its quick form runs
# in make check (tests/integration/attack_quick.py).
attack: deps
	$(MAKE) all
	COVE_BUILD=$(abspath $(BUILD)) /usr/bin/python3 tests/attack/attack.py \
		--json $(BUILD)/attack.json
	/usr/bin/python3 scripts/attack_doc.py $(BUILD)/attack.json docs/SECURITY.md

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
