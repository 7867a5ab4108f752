# syntax=docker/dockerfile:1
#
# One recipe for every Comanda binary:
#
#     docker build --target runtime --build-arg BIN=order-service -t comanda/order-service .
#
# BIN is one of auth-service, user-service, order-service, product-service, payment-service,
# sandbox-provider, gateway, outbox-relay. Nothing before the `runtime` stage depends on BIN:
# the dependency layer (cargo-chef "cook") and ONE `cargo build --release --locked` of all
# eight binaries are the same for every image, so the eight images of docker-compose.yml
# share them (BuildKit runs
# identical steps of concurrent builds once; the classic builder reuses its cache), and
# each image only copies its own binary. Building per image instead compiled and linked
# the shared crates six times in parallel: about six times slower, and at risk of running
# out of memory on an 8 GB host. The cost of that one build is in README ("Docker").

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# --- toolchain + cargo-chef ------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
# rdkafka-sys builds librdkafka from source (make, a C/C++ compiler, perl and python3 for its
# configure scripts; zlib for compression). libssl-dev and cmake cover rdkafka features a
# later build may switch on.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential cmake perl python3 pkg-config libssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

# --- the dependency recipe: changes only when a manifest or Cargo.lock changes ------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# --- dependencies (cached), then every binary in one build -------------------------------
FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
# The deployable binaries (every workspace member with a src/main.rs except xtask; a test in
# xtask/tests/stack keeps this list complete). Each lands in /out with the listener port of
# its embedded defaults, for the HEALTHCHECK.
ENV COMANDA_BINARIES="auth-service user-service order-service product-service payment-service sandbox-provider outbox-relay gateway"
RUN cargo build --release --locked --bin auth-service --bin user-service --bin order-service --bin product-service --bin payment-service --bin sandbox-provider --bin outbox-relay --bin gateway \
    && mkdir /out \
    && for bin in ${COMANDA_BINARIES}; do \
        cp "target/release/${bin}" /out/ \
        && sed -n 's/^port *= *\([0-9]*\).*/\1/p' "${bin}/config/default.toml" | head -n 1 > "/out/${bin}.port" \
        && test -s "/out/${bin}.port" || exit 1; \
    done

# --- runtime: slim Debian, non-root, one binary ---------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin comanda
# Declared here, after the shared layers: only the COPY below differs between the images.
ARG BIN
RUN test -n "${BIN}" || { echo "build with --build-arg BIN=<binary>" >&2; exit 1; }
COPY --from=builder /out/${BIN} /usr/local/bin/${BIN}
COPY --from=builder /out/${BIN}.port /etc/comanda/default-port
# A fixed entrypoint name, so ENTRYPOINT (exec form, no variable expansion) fits every BIN.
RUN ln -s "/usr/local/bin/${BIN}" /usr/local/bin/comanda-service
# In a container the listener must not be loopback only; COMANDA__HTTP__PORT may override
# the binary's default port, and the HEALTHCHECK follows it.
ENV COMANDA__HTTP__HOST=0.0.0.0 \
    RUST_LOG=info
USER comanda
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${COMANDA__HTTP__PORT:-$(cat /etc/comanda/default-port)}/health" > /dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/comanda-service"]
