# Every recipe sources .ci/env, so local builds share CI's target dir and ccache (DuckDB compiles once).
set shell := ["bash", "-euo", "pipefail", "-c"]

# Run the whole pipeline on the bundled demo organisation.
demo:
    . .ci/env && cargo run -- demo

# Run every test (what CI runs).
test:
    . .ci/env && cargo test

# Format and lint exactly as CI does.
lint:
    . .ci/env && cargo fmt --all -- --check && cargo clippy --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# The full CI script, locally.
ci:
    bash .ci/run

# Benchmarks (print figures; dev profile, so DuckDB is not rebuilt for release).
bench:
    . .ci/env && cargo run --example bench_collect
    . .ci/env && cargo run --example bench_ingest
    . .ci/env && cargo run --example bench_bundle
    . .ci/env && cargo run --example bench_report
    . .ci/env && cargo run --example bench_history
