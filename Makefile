# tapvs: the two commands a user needs are `make demo` and `make test`.
.PHONY: setup test typecheck unit demo demo-ui bench stress fuzz build test-pack test-node clean

setup:
	@bash scripts/setup.sh

typecheck: setup
	npx tsc -p tsconfig.json

test: setup typecheck
	npx vitest run

unit: setup
	npx vitest run test/wire test/sched test/conn test/director test/io test/control test/fuzz

demo: setup
	UI=$(UI) bash netns/demo.sh $(MODE)

# the labs with the browser view open beside each (http://127.0.0.1:8080/, UI_PORT to change)
demo-ui: setup
	UI=1 bash netns/demo.sh $(MODE)

bench: setup
	node --import tsx bench/run.ts

# the longest forwarding pause while the control plane reloads a large config or takes a 15 MiB -R (bench/stress.ts; also part of bench)
stress: setup
	node --import tsx bench/run.ts stress

# the fuzzing harness (src/fuzz/): frames through NAT, DR and TUN directors, configs, control inputs, capture files;
# FUZZ_ARGS="--seed 7 --frames 10000000" for another run (scripts/fuzz.ts lists the options)
fuzz: setup
	nice -n 10 node --import tsx scripts/fuzz.ts $(FUZZ_ARGS)

# the published package: compiled JavaScript in dist/ (a checkout runs src/ through tsx)
build: setup
	npm run build

# npm pack, install on an empty prefix, use the installed tapvs (scripts/test-pack.sh)
test-pack: setup
	bash scripts/test-pack.sh

# the tests and the package test under Node 22, 24 and 26 (scripts/test-node-versions.sh);
# NODE_VERSIONS="24" for one line
test-node: setup
	bash scripts/test-node-versions.sh $(NODE_VERSIONS)

clean:
	rm -rf dist tapvs-*.tgz node_modules/.tapvs-installed
