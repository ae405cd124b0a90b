# kubevault: one image for kpt/kustomize container functions, the Argo CD CMP sidecar and the
# initContainer that copies the binary (`kubevault install DIR`). The final image has no shell.
#
# Online:  docker build -t kubevault .
# Offline (CI, no base images): build the static binary locally and hand it in as the `build`
# stage, see examples/container/build-image.sh:
#   buildah bud --build-context build=DIR --target final -t kubevault .

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY vendor ./vendor
COPY docker/rootfs /out
# A static glibc binary: it runs on `scratch` and in any sidecar.
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN cargo build --locked --release --target "$(uname -m)-unknown-linux-gnu" \
 && mkdir -p /out/usr/local/bin \
 && cp "target/$(uname -m)-unknown-linux-gnu/release/kubevault" /out/usr/local/bin/kubevault

FROM scratch AS final
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="kubevault" \
      org.opencontainers.image.description="Renders a git-managed vault directory into Kubernetes Secrets, ServiceAccounts, tokens and RBAC; a KRM function and CLI" \
      org.opencontainers.image.version="${VERSION}"
# /out holds etc/passwd and etc/group (with nobody) and usr/local/bin/kubevault.
COPY --from=build /out/ /
USER 65534:65534
# Inside the container only what the orchestrator mounted exists: the container route
# (`vaultDir: /vault`, bind-mounted) needs a vault outside the package path (SPEC §9).
ENV KUBEVAULT_ALLOW_OUTSIDE=1
ENTRYPOINT ["kubevault"]
