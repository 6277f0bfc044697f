# syntax=docker/dockerfile:1
#
# keel container image: keel-server built from this workspace, run as a non-root user.
#
#   docker build -t keel .
#   docker run --rm -p 6379:6379 keel                      # then: redis-cli -p 6379 ping
#   docker run --rm -p 7000:7000 -e KEEL_PORT=7000 keel --port 7000
#
# The container reads /etc/keel/keel.conf (deploy/keel.conf), which binds 0.0.0.0 so the published
# port reaches keel. Arguments after the image name are keel's `--name value` overrides.
# Data directory: /data (the working directory). Persistence is not implemented yet: data lives in
# memory only and is lost when the container stops. See docs/operations.md.

ARG RUST_VERSION=1.95

# --- build -----------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# The whole workspace is needed: cargo loads every member's manifest (see .dockerignore for what is
# left out of the context).
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p keel-net --bin keel-server --locked \
    && install -D -m 0755 target/release/keel-server /out/keel-server

# --- runtime ---------------------------------------------------------------------------------------
# Why debian:bookworm-slim and not gcr.io/distroless/cc-debian12:nonroot: the health check must send
# a real PING and check for PONG, and distroless has neither a shell nor redis-cli to do it with.
# bookworm-slim already has bash, whose /dev/tcp sends the PING with no extra package (installing
# redis-tools for redis-cli would add libraries for the scanner to flag and no capability), and it
# has the same glibc as the builder. The user is 65532, distroless' "nonroot" uid, so the Kubernetes
# manifests' runAsUser works with either base.
FROM debian:bookworm-slim AS runtime

RUN groupadd --system --gid 65532 keel \
    && useradd --system --uid 65532 --gid keel --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin keel \
    && mkdir -p /data /etc/keel \
    && chown keel:keel /data \
    && chmod 0750 /data

COPY --from=build /out/keel-server /usr/local/bin/keel-server
COPY deploy/keel.conf /etc/keel/keel.conf

LABEL org.opencontainers.image.title="keel" \
      org.opencontainers.image.description="A Redis-7.0-compatible key-value server in Rust" \
      org.opencontainers.image.licenses="BSD-3-Clause"

WORKDIR /data
USER 65532:65532

# The port the health check probes; set it when overriding keel's port (`--port`).
ENV KEEL_PORT=6379
EXPOSE 6379

# Sends PING over TCP with bash's /dev/tcp and expects +PONG within 2 s. Once keel enforces a
# password (the security issue), an unauthenticated PING is refused and this check must send AUTH.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\"${KEEL_PORT:-6379}\" && printf 'PING\\r\\n' >&3 && IFS= read -r -t 2 reply <&3 && [[ $reply == '+PONG'* ]]"]

ENTRYPOINT ["keel-server", "/etc/keel/keel.conf"]
