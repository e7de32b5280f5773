# syntax=docker/dockerfile:1
# Railyard's container image: `docker build -t railyard .`, then
#   docker run --rm -v "$PWD:/work" railyard check . --guardrails https://git.example.com/security/guardrails.git
# (docs/ci.md, "Container image").

# ---- build: the release binary only (not the benchmark tools) -------------------------------
FROM rust:1-slim-bookworm AS build
# git2's https transport links OpenSSL; pkg-config finds it. Debian's versions are not pinned:
# the base image's release already fixes them, and pins would go stale with its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, against a stub crate: this layer is rebuilt only when Cargo.toml or
# Cargo.lock change, not on every source edit. The stubs are the targets Cargo.toml names.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src/bin benches \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > src/bin/railyard-fleet.rs \
    && echo 'fn main() {}' > benches/check.rs \
    && touch src/lib.rs \
    && cargo build --release --locked --bin railyard \
    && rm -rf src benches
COPY . .
# The stub's fingerprints are older than the real sources: make cargo rebuild the crate itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin railyard \
    && install -m 0755 target/release/railyard /usr/local/bin/railyard

# ---- runtime: git (workload and guardrails repos) and CA certificates (https) ---------------
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git libssl3 openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --user-group railyard \
    # A mounted workspace belongs to the host's user, not this one: let git (and libgit2,
    # which reads the same setting) open it. Railyard only reads a workload.
    && git config --system safe.directory '*'
COPY --from=build /usr/local/bin/railyard /usr/local/bin/railyard
# The bundled guardrails and examples, so that `docker run railyard demo` works.
COPY guardrails /usr/share/railyard/guardrails
COPY examples /usr/share/railyard/examples
ENV RAILYARD_HOME=/usr/share/railyard \
    RAILYARD_CACHE_DIR=/home/railyard/.cache/railyard
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001
WORKDIR /work
ENTRYPOINT ["railyard"]
CMD ["--help"]
