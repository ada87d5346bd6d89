# Entry points for the README and .ci/run.
PLUGIN_ID := dorakit-woodpecker-datasource
EXE := gpx_woodpecker_dora
GOARCH := $(shell uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')

.PHONY: test test-rust test-frontend dist backend-dist frontend-dist package bench clean

## Every test: Rust (fmt, clippy, unit, property, gRPC, golden) and frontend
## (typecheck, lint, Jest, the editors in Chromium).
test: test-rust test-frontend

test-rust:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo test --all-targets

## The browser suite needs Debian's Chromium at /usr/bin/chromium (.ci/run installs it).
test-frontend:
	cd frontend && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && npm run typecheck && npm run lint && npm test && npm run test:browser && npm run build && npm run check-dist

## The plugin folder Grafana loads: frontend build, then the backend binary.
dist: frontend-dist backend-dist

frontend-dist:
	cd frontend && npm ci --no-audit --no-fund && npm run build

backend-dist:
	cargo build --release
	mkdir -p dist
	install -m 0755 target/release/$(EXE) dist/$(EXE)_linux_$(GOARCH)

## The zip Grafana users install: dist-pkg/<id>-<version>.zip (one folder, the
## plugin id) and its .sha256, from the dist/ just built.
package: dist
	python3 scripts/package.py dist dist-pkg

bench:
	cargo bench

clean:
	rm -rf dist dist-pkg target frontend/node_modules frontend/browser-output
