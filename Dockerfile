# syntax=docker/dockerfile:1
# gatehouse container image: a release build in the Rust image, copied into a distroless runtime (glibc + CA
# certificates, no shell) running as a non-root user. Build: `docker build -t gatehouse .` from the repository root.
# Mount the config at /etc/gatehouse/gatehouse.yaml (a Kubernetes ConfigMap; see deploy/kubernetes/) and set
# `admin: 0.0.0.0:9090` in it so probes and Prometheus reach /readyz, /healthz and /metrics.

ARG RUST_VERSION=1.95

# --- build -------------------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the target dir between builds; the binary is copied out of the cached target.
# --locked: the build uses exactly the committed Cargo.lock or fails.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p gatehouse --bin gatehouse \
    && install -D -m 0755 target/release/gatehouse /out/gatehouse \
    && /out/gatehouse check examples/demo.yaml

# --- runtime -----------------------------------------------------------------------------------------------------
# distroless/cc: glibc, libgcc and /etc/ssl/certs (read by rustls-native-certs); the :nonroot tag runs as 65532.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
ENV GATEHOUSE_CONFIG=/etc/gatehouse/gatehouse.yaml \
    GATEHOUSE_LOG=info \
    GATEHOUSE_LOG_FORMAT=json
USER 65532:65532
# 8080: data plane (listen); 9090: admin (/healthz, /readyz, /metrics, /status) for probes and scraping.
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/gatehouse"]
