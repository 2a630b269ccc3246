# Every recipe goes through ./x, which shares CI's build settings (.ci/env) and DuckDB library.
set shell := ["bash", "-euo", "pipefail", "-c"]

# Run the whole pipeline on the bundled demo organisation.
demo:
    ./x demo

# Run every test (what CI runs); `just test demo::` runs one area.
test *args:
    ./x test {{args}}

# Format and lint exactly as CI does.
lint:
    ./x lint

# Format the code.
fmt:
    ./x fmt

# The full CI script, locally.
ci:
    ./x ci

# Benchmarks (print figures; release build); `just bench collect` runs one.
bench *args:
    ./x bench {{args}}

# Fuzz every parser and `verify` with mutated real inputs for a time budget (findings: $CARGO_TARGET_DIR/fuzz-findings).
fuzz seconds="60":
    ./x fuzz {{seconds}}
