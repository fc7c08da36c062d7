# syntax=docker/dockerfile:1
#
# hotfix-guard: build with the Rust toolchain, run on a slim Debian.
# Base images are named in full (registry/namespace/name) so that podman and
# buildah, which refuse unqualified short names, build it as Docker does.
#   docker build -t hotfix-guard .     (or: podman build -t hotfix-guard .)
#   docker run -p 8080:8080 -e GITHUB_APP_ID=… -e GITHUB_WEBHOOK_SECRET=… \
#     -e GITHUB_PRIVATE_KEY="$(cat key.pem)" hotfix-guard

FROM docker.io/library/rust:1-slim-bookworm AS builder
WORKDIR /build

# Dependencies first, against stub sources, so that a change to our own code
# does not rebuild them. Cargo wants every declared target to exist, the
# `ingest` bench included.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/ingest.rs \
    && cargo build --release --locked \
    && rm -rf src benches

# Our code (src/server/setup.rs embeds app-manifest.json at compile time).
# Touch the roots so cargo does not take the stubs' build as current. The
# release profile (Cargo.toml) leaves out debug info and strips it, so the
# binary copied below is the small one; `ls -l` in the build log shows it.
COPY app-manifest.json ./
COPY src ./src
COPY benches ./benches
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && ls -l target/release/hotfix-guard \
    && cp target/release/hotfix-guard /usr/local/bin/hotfix-guard

FROM docker.io/library/debian:bookworm-slim
# TLS to api.github.com needs the CA bundle; nothing else is needed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 hotfix-guard \
    && useradd --system --uid 10001 --gid hotfix-guard --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin hotfix-guard
COPY --from=builder /usr/local/bin/hotfix-guard /usr/local/bin/hotfix-guard
USER 10001:10001
ENV PORT=8080 \
    RUST_LOG=info,octocrab=off
EXPOSE 8080
# Liveness through the binary itself (the image has no curl): GET /healthz
# on $PORT. /readyz is for load balancers that should wait for GitHub.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["hotfix-guard", "healthcheck"]
ENTRYPOINT ["hotfix-guard"]
CMD ["serve"]
