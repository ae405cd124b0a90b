#!/usr/bin/env bash
# Starts a throw-away Kubernetes 1.20 control plane on loopback for the cluster tests:
# etcd (Debian's etcd-server), kube-apiserver and kube-controller-manager (tests/cluster/build.sh).
#
#   tests/cluster/start.sh [DIR]
#
# Everything lives in DIR (default: a new temp dir, removed on exit): certificates made with openssl,
# a service-account signing key, an admin token file, etcd's data, the logs. Every port is a free
# loopback port; nothing listens beyond 127.0.0.1. When the API server answers /readyz and the token
# controller has filled a token Secret, it writes DIR/env (shell syntax):
#   KUBEVAULT_CLUSTER_SERVER=https://127.0.0.1:PORT  KUBEVAULT_CLUSTER_TOKEN=<admin token>
#   KUBEVAULT_CLUSTER_CA=DIR/pki/ca.crt              KUBECONFIG=DIR/kubeconfig
# and prints `READY DIR` on stdout. It then stays in the foreground until its stdin closes (the
# test process holding the pipe ended, however it ended), it gets INT/TERM/HUP, or one of its
# processes dies; on every one of those paths it stops each process it started, by PID.
#
# Binaries: $KUBEVAULT_CLUSTER_BIN, else the cache tests/cluster/build.sh fills
# ($KUBEVAULT_CLUSTER_CACHE/bin, default ~/.cache/kubevault-cluster/bin); etcd from PATH.
set -euo pipefail

log() { printf 'tests/cluster/start.sh: %s\n' "$*" >&2; }
CACHE=${KUBEVAULT_CLUSTER_CACHE:-$HOME/.cache/kubevault-cluster}
BIN=${KUBEVAULT_CLUSTER_BIN:-$CACHE/bin}
for b in "$BIN/kube-apiserver" "$BIN/kube-controller-manager"; do
  [[ -x "$b" ]] || { log "missing $b: run tests/cluster/build.sh first"; exit 2; }
done
ETCD=$(command -v etcd || true)
[[ -n "$ETCD" ]] || { log "etcd is not on PATH (apt-get install etcd-server)"; exit 2; }

OWN_DIR=0
if [[ $# -ge 1 ]]; then
  DIR=$1
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/kubevault-cluster.XXXXXX")
  OWN_DIR=1
fi
DIR=$(cd "$DIR" && pwd)

PIDS=()
WATCH=
ETCD_DATA=
cleanup() {
  local status=$?
  # A second signal must not cut the clean-up short.
  trap '' INT TERM HUP
  trap - EXIT
  [[ -z "$WATCH" ]] || kill "$WATCH" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [[ -z "$ETCD_DATA" ]] || rm -rf "$ETCD_DATA"
  if ((OWN_DIR)); then rm -rf "$DIR"; else rm -f "$DIR/env"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

started() { # <name> <pid>
  PIDS+=("$2")
  echo "$1 $2" >>"$DIR/pids"
}
: >"$DIR/pids"

# --- ports: four distinct free loopback ports, found by binding port 0 ---------------------------
read -r P_ETCD P_PEER P_API P_KCM < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
PY
)

# --- certificates, keys, tokens ------------------------------------------------------------------
PKI="$DIR/pki"
mkdir -p "$PKI"
(
  cd "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=kubevault-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
    -subj "/CN=kube-apiserver" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc" \
    "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.crt 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  chmod 600 ./*.key
)
ADMIN_TOKEN=$(openssl rand -hex 24)
umask 077
printf '%s,admin,admin,system:masters\n' "$ADMIN_TOKEN" >"$PKI/tokens.csv"
SERVER="https://127.0.0.1:$P_API"
cat >"$DIR/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $SERVER
    certificate-authority: $PKI/ca.crt
users:
- name: admin
  user:
    token: $ADMIN_TOKEN
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
KUBECONFIG
umask 022

# etcd's data on tmpfs when there is one: every write is an fsync, slow on a busy disk.
if [[ -d /dev/shm && -w /dev/shm ]]; then
  ETCD_DATA=$(mktemp -d /dev/shm/kubevault-etcd.XXXXXX)
else
  ETCD_DATA="$DIR/etcd"
fi

# --- processes ---------------------------------------------------------------------------------------
"$ETCD" --name kubevault --data-dir "$ETCD_DATA" \
  --listen-client-urls "http://127.0.0.1:$P_ETCD" --advertise-client-urls "http://127.0.0.1:$P_ETCD" \
  --listen-peer-urls "http://127.0.0.1:$P_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$P_PEER" \
  --initial-cluster "kubevault=http://127.0.0.1:$P_PEER" --listen-metrics-urls "" \
  </dev/null >"$DIR/etcd.log" 2>&1 &
started etcd $!

"$BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$P_ETCD" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$P_API" \
  --cert-dir "$PKI" --tls-cert-file "$PKI/server.crt" --tls-private-key-file "$PKI/server.key" \
  --client-ca-file "$PKI/ca.crt" \
  --authorization-mode RBAC --token-auth-file "$PKI/tokens.csv" --anonymous-auth=false \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --service-account-issuer https://kubernetes.default.svc --api-audiences https://kubernetes.default.svc \
  --service-cluster-ip-range 10.96.0.0/24 --allow-privileged=false \
  --endpoint-reconciler-type none --profiling=false --v=1 \
  </dev/null >"$DIR/kube-apiserver.log" 2>&1 &
started kube-apiserver $!

curl_api() { curl -sS --max-time 5 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" "$@"; }
ready=0
for _ in $(seq 600); do
  if [[ "$(curl_api "$SERVER/readyz" 2>/dev/null || true)" == ok ]]; then ready=1; break; fi
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { log "a process died during start-up; logs in $DIR:"; tail -n 30 "$DIR"/*.log >&2; exit 1; }
  done
  sleep 0.1
done
((ready)) || { log "kube-apiserver not ready after 60 s"; tail -n 30 "$DIR/kube-apiserver.log" >&2; exit 1; }

"$BIN/kube-controller-manager" \
  --kubeconfig "$DIR/kubeconfig" \
  --controllers serviceaccount-token,serviceaccount \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --use-service-account-credentials=false --leader-elect=false \
  --bind-address 127.0.0.1 --secure-port "$P_KCM" --port 0 \
  --authentication-kubeconfig "$DIR/kubeconfig" --authorization-kubeconfig "$DIR/kubeconfig" \
  --profiling=false --v=1 \
  </dev/null >"$DIR/kube-controller-manager.log" 2>&1 &
started kube-controller-manager $!

# Ready when the token controller works: the `default` ServiceAccount of `default` has a filled token.
ready=0
for _ in $(seq 600); do
  if curl_api "$SERVER/api/v1/namespaces/default/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token" 2>/dev/null \
    | jq -e '[.items[] | select(.data.token != null)] | length > 0' >/dev/null 2>&1; then
    ready=1; break
  fi
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { log "a process died during start-up; logs in $DIR:"; tail -n 30 "$DIR"/*.log >&2; exit 1; }
  done
  sleep 0.1
done
((ready)) || { log "the token controller filled no token within 60 s"; tail -n 30 "$DIR/kube-controller-manager.log" >&2; exit 1; }

cat >"$DIR/env.tmp" <<ENV
KUBEVAULT_CLUSTER_SERVER=$SERVER
KUBEVAULT_CLUSTER_TOKEN=$ADMIN_TOKEN
KUBEVAULT_CLUSTER_CA=$PKI/ca.crt
KUBECONFIG=$DIR/kubeconfig
ENV
mv "$DIR/env.tmp" "$DIR/env"
log "ready: $SERVER (kubeconfig $DIR/kubeconfig); stops on end of stdin, INT or TERM"
echo "READY $DIR"

# Stay up until stdin ends (the owner is gone) or any process of the trio exits.
exec 3<&0
(while read -r _ <&3; do :; done) &
WATCH=$!
set +e
wait -n "$WATCH" "${PIDS[@]}"
set -e
kill "$WATCH" 2>/dev/null || true
for pid in "${PIDS[@]}"; do
  kill -0 "$pid" 2>/dev/null || { log "process $pid ($(grep " $pid\$" "$DIR/pids" | cut -d' ' -f1)) exited; stopping"; exit 1; }
done
exit 0
