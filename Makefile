# Entry points used by the README and .ci/run.
.PHONY: test test-rust lint
test: test-rust

test-rust:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo test --all-targets

lint:
	cargo clippy --all-targets -- -D warnings
