#!/usr/bin/env bash
# Builds the test control plane's programs from the Go module proxy:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok.
# Versions come from versions.env beside this file (the one place they are pinned).
# Output goes to a cache folder outside the repo so fresh clones reuse it:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/controlplane/<k8s>-<etcd>-<kwok>/bin
# A build is skipped when that folder already holds a complete set.
#
# Usage: build.sh [--force] [--pin] [--print-bin-dir] [--help]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Everything runs inside main, which bash parses whole before running: editing this file
# while a build runs cannot change what that build does.
main() {
usage() {
  cat <<'EOF'
Usage: lib/controlplane/build/build.sh [options]

Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok at the
versions pinned in lib/controlplane/build/versions.env, into
${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/controlplane/<k8s>-<etcd>-<kwok>/bin.
Does nothing when those binaries are already there.

Options:
  --force           rebuild even when the binaries are already there
  --pin             rewrite the go.mod/go.sum of kube/, etcd/ and kwok/ to match
                    versions.env (run after editing it, then commit), then build
  --print-bin-dir   print the binary folder for the pinned versions and exit
  -h, --help        show this help
Environment: GOFLAGS, GOPROXY and the Go caches are honoured as usual.
EOF
}

force=0 pin=0 print_dir=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --pin) pin=1 ;;
    --print-bin-dir) print_dir=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

# shellcheck source=versions.env
source "$here/versions.env"
: "${K8S_VERSION:?versions.env must set K8S_VERSION}"
: "${ETCD_VERSION:?versions.env must set ETCD_VERSION}"
: "${KWOK_VERSION:?versions.env must set KWOK_VERSION}"
# k8s.io/kubernetes v1.X.Y publishes its staging modules as v0.X.Y.
STAGING_VERSION="0.${K8S_VERSION#1.}"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/controlplane"
out_dir="$cache_root/${K8S_VERSION}-${ETCD_VERSION}-${KWOK_VERSION}"
bin_dir="$out_dir/bin"
stamp="$out_dir/complete"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

if [[ $print_dir == 1 ]]; then echo "$bin_dir"; exit 0; fi

log() { printf '[controlplane build] %s\n' "$*"; }

log "versions: kubernetes v$K8S_VERSION (staging modules v$STAGING_VERSION), etcd v$ETCD_VERSION, kwok v$KWOK_VERSION"
log "binary folder: $bin_dir"

command -v go >/dev/null || { echo "build.sh: the Go toolchain is not on PATH; install Go 1.26 or newer (Debian: golang from backports, or the machine's Go) and run again." >&2; exit 1; }

# Never let the go command fetch another toolchain (no internet beyond the module proxy);
# never stamp VCS info (the build runs inside this repo but builds other modules).
export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# The oldest Go the pinned etcd and kwok accept (their go.mod says go 1.26.0); go mod init
# would otherwise write the local patch release and demand it of every machine.
GO_LINE=1.26.0

# Starts the build module in the current folder afresh, at the pinned Go line.
new_module() {
  rm -f go.mod go.sum
  go mod init "todo-deploy/lib/controlplane/build/$1" >/dev/null 2>&1
  go mod edit -go="$GO_LINE"
}

# --pin: regenerate the three modules from versions.env.
pin_modules() {
  log "pinning kube/ to k8s.io/kubernetes v$K8S_VERSION"
  local kube_mod staging
  kube_mod="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f $kube_mod ]] || { echo "build.sh: could not download k8s.io/kubernetes@v$K8S_VERSION from the module proxy" >&2; exit 1; }
  # Every module that k8s.io/kubernetes requires at v0.0.0 is a staging module it replaces
  # with a local folder; outside its repo we replace them with their published versions.
  staging="$(awk '/^\t?k8s\.io\/[a-z0-9-]+ v0\.0\.0$/ {print $1}' "$kube_mod" | sort -u)"
  (
    cd "$here/kube"
    new_module kube
    local m
    for m in $staging; do go mod edit -replace="$m=$m@v$STAGING_VERSION"; done
    go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
    go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-scheduler@v$K8S_VERSION"
    go mod tidy
  )
  log "pinning etcd/ to go.etcd.io/etcd/server/v3 v$ETCD_VERSION"
  (
    cd "$here/etcd"
    new_module etcd
    go get -tool "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    go mod tidy
  )
  log "pinning kwok/ to sigs.k8s.io/kwok v$KWOK_VERSION"
  (
    cd "$here/kwok"
    new_module kwok
    go get -tool "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
    go mod tidy
  )
}

# The committed go.mod files must agree with versions.env, or the build would not be
# the one that versions.env (and the helper that prints it) claims.
check_pinned() {
  local dir=$1 module=$2 want=$3 got
  got="$(cd "$here/$dir" && go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$module" 2>/dev/null || true)"
  if [[ $got != "v$want" ]]; then
    echo "build.sh: lib/controlplane/build/$dir/go.mod pins $module at '${got:-nothing}', but versions.env says v$want. Run 'lib/controlplane/build/build.sh --pin' to rewrite the go.mod files from versions.env, and commit them." >&2
    exit 1
  fi
}

if [[ $pin == 1 ]]; then pin_modules; force=1; fi

check_pinned kube k8s.io/kubernetes "$K8S_VERSION"
check_pinned kube k8s.io/api "$STAGING_VERSION"
check_pinned etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
check_pinned kwok sigs.k8s.io/kwok "$KWOK_VERSION"

if [[ $force == 0 && -f $stamp ]]; then
  missing=0
  for b in "${binaries[@]}"; do [[ -x $bin_dir/$b ]] || missing=1; done
  if [[ $missing == 0 ]]; then
    log "already built, nothing to do (use --force to rebuild)"
    exit 0
  fi
fi

rm -f "$stamp"
mkdir -p "$bin_dir"
staging_dir="$(mktemp -d "$out_dir/build.XXXXXX")"
trap 'rm -rf "$staging_dir"' EXIT

build_flags=(-mod=readonly -trimpath -ldflags=-s\ -w)
total_start=$SECONDS

step() { # step <module dir> <label> <output file or folder/> <packages...>
  local dir=$1 label=$2 out=$3; shift 3
  local start=$SECONDS
  log "building $label (module lib/controlplane/build/$dir) ..."
  (cd "$here/$dir" && go build "${build_flags[@]}" -o "$out" "$@")
  log "built $label in $((SECONDS - start))s"
}

# etcd's main package is the root of go.etcd.io/etcd/server/v3, so name its output.
step etcd "etcd v$ETCD_VERSION" "$staging_dir/etcd" go.etcd.io/etcd/server/v3
step kwok "kwok v$KWOK_VERSION" "$staging_dir/" sigs.k8s.io/kwok/cmd/kwok
step kube "kube-apiserver, kube-controller-manager, kube-scheduler v$K8S_VERSION" "$staging_dir/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler

for b in "${binaries[@]}"; do
  [[ -x $staging_dir/$b ]] || { echo "build.sh: the build did not produce $b" >&2; exit 1; }
  mv -f "$staging_dir/$b" "$bin_dir/$b"
done
printf 'K8S_VERSION=%s\nETCD_VERSION=%s\nKWOK_VERSION=%s\n' "$K8S_VERSION" "$ETCD_VERSION" "$KWOK_VERSION" >"$stamp"
log "done in $((SECONDS - total_start))s: ${binaries[*]} in $bin_dir"
}

main "$@"
