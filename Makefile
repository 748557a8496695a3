# tapvs: the two commands a user needs are `make demo` and `make test`.
.PHONY: setup test typecheck unit demo bench clean

setup:
	@bash scripts/setup.sh

typecheck: setup
	npx tsc -p tsconfig.json

test: setup typecheck
	npx vitest run

unit: setup
	npx vitest run test/wire test/sched test/conn test/director test/io test/control

demo: setup
	bash netns/demo.sh $(MODE)

bench: setup
	node --import tsx bench/run.ts

clean:
	rm -rf dist node_modules/.tapvs-installed
