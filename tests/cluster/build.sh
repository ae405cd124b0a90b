#!/usr/bin/env bash
# Builds (or reuses a cached build of) the Kubernetes 1.20.2 control plane the cluster tests run:
# kube-apiserver and kube-controller-manager from Debian's `kubernetes` source package, built with
# Debian's Go 1.19 in GOPATH mode; etcd is Debian's etcd-server, used as installed.
#
# The build lives outside the repository, in $KUBEVAULT_CLUSTER_CACHE (default
# ~/.cache/kubevault-cluster); a second run with the binaries present does nothing. On success it
# prints the directory holding kube-apiserver and kube-controller-manager (also the file
# $KUBEVAULT_CLUSTER_CACHE/bin-dir) on stdout; everything else goes to stderr.
#
# Needs root for apt-get (only when something is missing). Takes ~6-8 minutes of 2 cores and
# ~1.4 GiB of memory per compile process when building from scratch.
set -euo pipefail

CACHE=${KUBEVAULT_CLUSTER_CACHE:-$HOME/.cache/kubevault-cluster}
K8S_VERSION=1.20.2
BIN="$CACHE/bin"
GO_ROOT=/usr/lib/go-1.19
# Bump when the recipe below changes, so a stale cached build is rebuilt.
RECIPE=1
STAMP="$BIN/.recipe-$K8S_VERSION-$RECIPE"

log() { printf 'tests/cluster/build.sh: %s\n' "$*" >&2; }

if [[ -x "$BIN/kube-apiserver" && -x "$BIN/kube-controller-manager" && -f "$STAMP" ]]; then
  log "reusing the cached build in $BIN"
  echo "$BIN"
  exit 0
fi

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
    log "need root for: $*"; exit 1
  fi
}

# --- apt: the source package, the Go toolchain, the replacement sources, build tools, etcd ---------
SRC_LIST=/etc/apt/sources.list.d/kubevault-bookworm-src.sources
need_update=0
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  log "adding a deb-src entry for bookworm ($SRC_LIST)"
  as_root tee "$SRC_LIST" >/dev/null <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  need_update=1
fi
PKGS=(golang-1.19-go golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev
  dpkg-dev rsync jq make etcd-server openssl curl python3)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((need_update)) || ((${#missing[@]})) || ! apt-cache showsrc kubernetes >/dev/null 2>&1; then
  as_root apt-get update -qq
fi
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- the source tree ---------------------------------------------------------------------------------
mkdir -p "$CACHE/src"
cd "$CACHE/src"
# Debian names the tree kubernetes-1.20.5+really1.20.2.
find_tree() { find . -maxdepth 1 -type d -name "kubernetes-*$K8S_VERSION" | head -n1; }
TREE=$(find_tree)
if [[ -z "$TREE" || ! -f "$TREE/Makefile" ]]; then
  rm -rf ./kubernetes-* ./kubernetes_*
  log "apt-get source kubernetes ($K8S_VERSION)"
  apt-get source -qq "kubernetes" >&2
  TREE=$(find_tree)
  [[ -n "$TREE" ]] || { log "apt-get source did not give kubernetes $K8S_VERSION"; ls >&2; exit 1; }
fi
TREE=$(cd "$TREE" && pwd)

# The vendored reflect2 1.0.1 / json-iterator 1.1.10 crash under Go >= 1.18 on the first request
# (reflect2 reads runtime internals that changed); Debian's newer sources are API-compatible.
replace_vendored() { # <import path> <debian package>
  local from="/usr/share/gocode/src/$1" to="$TREE/vendor/$1"
  [[ -d "$from" ]] || { log "missing $from (package $2)"; exit 1; }
  rm -rf "$to"
  mkdir -p "$to"
  # Only the Go sources of the package itself: no tests, no sub-packages' testdata.
  (cd "$from" && find . -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' -o -name LICENSE \) \
    ! -name '*_test.go' -exec cp {} "$to/" \;)
}
replace_vendored github.com/modern-go/reflect2 golang-github-modern-go-reflect2-dev
replace_vendored github.com/json-iterator/go golang-github-json-iterator-go-dev

# --- the build -----------------------------------------------------------------------------------------
export PATH="$GO_ROOT/bin:$PATH"
export GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local
export GOCACHE="$CACHE/go-build" CGO_ENABLED=0
# As Debian's own debian/rules does: a GOPATH inside the tree with k8s.io/kubernetes -> the tree.
export GOPATH="$TREE/.go"
mkdir -p "$GOPATH/src/k8s.io"
[[ -L "$GOPATH/src/k8s.io/kubernetes" ]] || ln -s ../../.. "$GOPATH/src/k8s.io/kubernetes"
# Two compile jobs at most (the machine may be shared); each needs ~1.4 GiB.
export GOMAXPROCS=${GOMAXPROCS:-2}
log "building kube-apiserver and kube-controller-manager with $(go version) (several minutes)"
(cd "$TREE" && make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" \
  KUBE_BUILD_PLATFORMS=linux/amd64 GOFLAGS= >&2)

OUT="$TREE/_output/bin"
[[ -x "$OUT/kube-apiserver" ]] || OUT="$TREE/_output/local/bin/linux/amd64"
mkdir -p "$BIN"
for b in kube-apiserver kube-controller-manager; do
  [[ -x "$OUT/$b" ]] || { log "build produced no $b under $OUT"; exit 1; }
  cp -f "$OUT/$b" "$BIN/$b.tmp" && mv -f "$BIN/$b.tmp" "$BIN/$b"
done
rm -f "$BIN"/.recipe-*
touch "$STAMP"
echo "$BIN" >"$CACHE/bin-dir"
log "built: $("$BIN/kube-apiserver" --version)"
echo "$BIN"
