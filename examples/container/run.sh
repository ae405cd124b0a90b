#!/usr/bin/env bash
# Runs this example on the real image: kpt starts the kubevault container under podman, with the
# vault bind-mounted at /vault, as the current user, and prints the rendered package.
# Build the image first with build-image.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=examples/container/env.sh
. "$here/env.sh"
cd "$here"
KPT_FN_RUNTIME=podman kpt fn eval . \
  --image "$KUBEVAULT_IMAGE" --image-pull-policy never \
  --mount "type=bind,src=$here/vault,dst=/vault" --as-current-user \
  --fn-config fn-config.yaml -o unwrap
