#!/usr/bin/env bash
# Builds the kubevault image offline with buildah: a locally built static binary is handed in as
# the Dockerfile's `build` stage (--build-context), so no base image is pulled.
# Usage: examples/container/build-image.sh   (image name: $KUBEVAULT_IMAGE, default localhost/kubevault:dev)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=examples/container/env.sh
. "$here/env.sh"
target="$(uname -m)-unknown-linux-gnu"
target_dir=${CARGO_TARGET_DIR:-$repo/target}

RUSTFLAGS='-C target-feature=+crt-static' \
  cargo build --locked --release --target "$target" --manifest-path "$repo/Cargo.toml"
binary="$target_dir/$target/release/kubevault"
if ldd "$binary" 2>&1 | grep -q '=>'; then
  echo "error: $binary is dynamically linked; the image has no libc" >&2
  exit 1
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/out/usr/local/bin"
cp -R "$repo/docker/rootfs/." "$context/out/"
cp "$binary" "$context/out/usr/local/bin/kubevault"

buildah bud --build-context build="$context" --target final \
  --build-arg VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)" \
  -t "$KUBEVAULT_IMAGE" "$repo"
echo "built $KUBEVAULT_IMAGE"
