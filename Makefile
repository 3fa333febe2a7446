# Entry points; each target is one script in scripts/.  See README.md.
.PHONY: help deps fetch tree export build check fresh timings docs demo guest nested seabios seabios-tree seabios-export libvirt libvirt-tree libvirt-export libvirt-build mutate matrix-negative robust sanitize migrate bench spmem compare ci-local ci-validate clean distclean

SHELL := /bin/bash
TREE ?= tree/src

help:
	@echo "make demo      build QEMU with the series and show memmap-type=spm in a Linux guest"
	@echo "make check     run every test (series hygiene, bisect builds, qtests, guest scenarios)"
	@echo "make fresh     README's prerequisite line, make demo and make check in a pristine bookworm root"
	@echo "make tree      git tree of the pristine base + series in $(TREE), to edit with git"
	@echo "make export    write the series in $(TREE) back to patches/qemu/"
	@echo "make build     build qemu-system-x86_64 from $(TREE) in tree/build"
	@echo "make docs      build QEMU's documentation with the series applied"
	@echo "make guest     every guest scenario against tree/build (see scripts/guest-run.sh --list)"
	@echo "make nested    an spm node on a real /dev/dax0.0 and on hugepages, in nested guests"
	@echo "make seabios   build SeaBIOS with patches/seabios/ (bios-256k.bin, bios.bin)"
	@echo "make seabios-tree / seabios-export   edit the SeaBIOS series in tree/seabios, like tree/export"
	@echo "make libvirt-tree / libvirt-export   edit the libvirt series in tree/libvirt, like tree/export"
	@echo "make libvirt-build   build libvirt 11.3.0 with patches/libvirt/ (QEMU driver, libvirtd, virsh, tests)"
	@echo "make libvirt   the libvirt road: contrib/libvirt/ examples through a private libvirtd (root), Debian's and patches/libvirt/'s"
	@echo "make mutate    break each rule of the series in turn; numa-memmap-test must fail each time"
	@echo "make matrix-negative   a bug only a sanitizer sees: the CI matrix's asan-ubsan job must fail"
	@echo "make robust    error matrix, long fuzz run (2000 configurations), guest-ABI identity"
	@echo "make sanitize  ASan+UBSan build of the series, running the new tests against it"
	@echo "make migrate   live migration between unpatched and patched builds"
	@echo "make bench     benchmarks -> BENCHMARKS.md and docs/bench-startup.svg"
	@echo "make spmem     upstream's -device sp-mem (Debian sid's QEMU 11.1.3) on the project's guest"
	@echo "make compare   this series side by side with -device sp-mem -> COMPARISON.md"
	@echo "make ci-local  run .gitlab-ci.yml here with gitlab-ci-local (JOB=name for one job; docs/CI.md)"
	@echo "make timings   docs/timings.md from the recorded runs (LABEL=cold|warm: record the newest run first)"
	@echo "make clean     remove build trees (keeps downloads and ccache)"

deps:
	scripts/deps.sh

fetch: deps
	scripts/fetch-base.sh

tree: fetch
	scripts/apply.sh $(TREE)

export:
	scripts/export.sh $(TREE)

build: deps
	@test -d $(TREE)/.git || scripts/apply.sh $(TREE)
	scripts/build.sh $(TREE) $(dir $(TREE))build

check:
	scripts/check.sh

fresh:
	scripts/fresh.sh

timings:
	scripts/timings.sh $(if $(LABEL),--record $(LABEL))

docs: fetch
	scripts/docs.sh

demo: deps
	scripts/demo.sh

guest:
	scripts/guest-run.sh --all

nested:
	scripts/nested.sh

seabios:
	scripts/seabios.sh

libvirt:
	scripts/libvirt.sh
	scripts/libvirt-native.sh

seabios-tree:
	SERIES=seabios scripts/apply.sh tree/seabios

seabios-export:
	SERIES=seabios scripts/export.sh tree/seabios

libvirt-tree:
	SERIES=libvirt scripts/apply.sh tree/libvirt

libvirt-export:
	SERIES=libvirt scripts/export.sh tree/libvirt

libvirt-build:
	scripts/libvirt-build.sh

mutate: fetch
	scripts/mutate.sh

matrix-negative: fetch
	scripts/matrix-negative.sh

robust:
	scripts/robust.sh --long

sanitize: fetch
	scripts/sanitize.sh

migrate:
	scripts/migrate.sh

bench:
	scripts/bench.sh

compare: fetch
	scripts/compare.sh

spmem:
	scripts/spmem-smoke.sh

ci-local:
	scripts/ci-local.sh $(if $(JOB),"$(JOB)")

ci-validate:
	scripts/ci-validate.sh

clean:
	rm -rf .cache/check .cache/fresh .cache/docs .cache/demo .cache/mutate .cache/results .cache/seabios tree/build \
	    .cache/ci .cache/ci-matrix .cache/ci-series .cache/gitlab-ci-local .cache/ci-validate

distclean:
	rm -rf .cache tree
