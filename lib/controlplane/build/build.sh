#!/usr/bin/env bash
# Builds the sandbox's programs from the Go module proxy, in groups:
#   kubernetes   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
#                kubectl (one go build: they share most packages)
#   etcd, kwok   the control plane's store and the kubelet stand-in
#   containerd   containerd, containerd-shim-runc-v2, ctr
#   cni-plugins  bridge, host-local, loopback, portmap
#   coredns      coredns (only the plugins the node's Corefile uses), and an OCI image archive of it
#   pause        pause (gcc, from pause.c in k8s.io/kubernetes), and an OCI image archive of it
#   kube-router  kube-router, the real node's NetworkPolicy controller (its firewall alone)
#   dapr         daprd, operator, injector, sentry, placement, scheduler (one go build), an OCI
#                image archive of each; only when asked for (not in the default set)
#   traefik      traefik (the real node's ingress controller), and an OCI image archive of it
#   registry     registry (cmd/registry of the CNCF Distribution registry), for the prod path;
#                only when asked for (not in the default set)
# Versions come from versions.env beside this file (the one place they are pinned). Each group
# goes to a cache folder named for its version, outside the repo so fresh clones reuse it:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/controlplane/<group>-<version>/{bin,complete,build.log}
# A group is skipped when its folder's stamp (`complete`) records the versions it needs.
#
# Usage: build.sh [--force] [--pin] [--check] [--print-bin-dir] [--print-layout] [--help] [GROUP...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Everything runs inside main, which bash parses whole before running: editing this file
# while a build runs cannot change what that build does.
main() {
usage() {
  cat <<'EOF'
Usage: lib/controlplane/build/build.sh [options] [GROUP...]

Builds the sandbox's programs at the versions pinned in lib/controlplane/build/versions.env
into ${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/controlplane/<group>-<version>/.
A group already built for its pinned versions is skipped.

Groups (default: all):
  kubernetes    kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
                kube-proxy, kubectl (one go build)
  etcd          etcd
  kwok          kwok (simulated pods)
  containerd    containerd, containerd-shim-runc-v2, ctr
  cni-plugins   bridge, host-local, loopback, portmap
  coredns       coredns (the Corefile's plugins only), and coredns.oci.tar
                (registry.k8s.io/coredns/coredns:v<version>)
  pause         pause, and pause.oci.tar (registry.k8s.io/pause:<version>)
  kube-router   kube-router (the real node's NetworkPolicy controller: firewall only)
  dapr          daprd, operator, injector, sentry, placement, scheduler (one go build), and
                dapr-<program>.oci.tar of each (todo-deploy.local/dapr/<program>:<version>);
                built only when named (no GROUP builds every group but this one)
  traefik       traefik, and traefik.oci.tar (docker.io/library/traefik:v<version>): the
                real node's ingress controller
  registry      registry (github.com/distribution/distribution/v3 cmd/registry): the
                sandbox's image registry, which the prod-path suite pushes to; built only
                when named
  controlplane  = etcd kubernetes kwok
  node          = kubernetes containerd cni-plugins coredns pause kube-router traefik (and checks runc)

Options:
  --force           rebuild the groups even when they are current
  --pin             rewrite the go.mod/go.sum of the build modules to match versions.env
                    (run after editing it, then commit), then rebuild the groups; with
                    groups named, only their modules
                    (with --check: rewrite, then report, building nothing)
  --check           say which groups are missing or stale, and whether runc matches;
                    exit 1 when something is missing, build nothing
  --print-bin-dir   print the folders of the programs people run (kubernetes, etcd, kwok,
                    containerd), PATH-style: export PATH="$(build.sh --print-bin-dir):$PATH"
  --print-layout    print each group's folder, the stamp it needs, its outputs and its
                    recipe number (for the tests)
  -h, --help        show this help
Environment: GOFLAGS, GOPROXY and the Go caches are honoured as usual; the full output of
each build goes to build.log in its group's folder.
EOF
}

force=0 pin=0 check=0 print_dir=0 print_layout=0
requested=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --pin) pin=1 ;;
    --check) check=1 ;;
    --print-bin-dir) print_dir=1 ;;
    --print-layout) print_layout=1 ;;
    -h|--help) usage; exit 0 ;;
    controlplane) requested+=(etcd kubernetes kwok) ;;
    node) requested+=(kubernetes containerd cni-plugins coredns pause kube-router traefik runc) ;;
    kubernetes|etcd|kwok|containerd|cni-plugins|coredns|pause|kube-router|traefik|dapr|registry) requested+=("$arg") ;;
    *) echo "build.sh: unknown option or group '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

# shellcheck source=versions.env
source "$here/versions.env"
for key in K8S_VERSION ETCD_VERSION KWOK_VERSION CONTAINERD_VERSION RUNC_VERSION CNI_PLUGINS_VERSION COREDNS_VERSION PAUSE_VERSION KUBE_ROUTER_VERSION DAPR_VERSION TRAEFIK_VERSION DISTRIBUTION_VERSION; do
  [[ -n ${!key:-} ]] || { echo "build.sh: lib/controlplane/build/versions.env must set $key (see the comments there)." >&2; exit 2; }
done
# k8s.io/kubernetes v1.X.Y publishes its staging modules as v0.X.Y.
STAGING_VERSION="0.${K8S_VERSION#1.}"

# The groups, in build order (cheap and independent ones first, so a failure in a long build
# does not hold back the rest). Keep in step with GROUPS in lib/controlplane/versions.ts.
# dapr and registry are not built by default: the test command builds every default group, and
# only a real node that installs Dapr needs dapr, only the prod path (a sandbox with --registry,
# the prod-path suite) the registry. traefik is a default group: every sandbox up with real
# pods deploys it (the real-node suite does), as the sandbox's ingress controller. kube-router is
# one too: the real-node suite's NetworkPolicy test runs it.
all_groups=(etcd kwok pause cni-plugins containerd coredns registry kube-router traefik kubernetes dapr)
default_groups=(etcd kwok pause cni-plugins containerd coredns kube-router traefik kubernetes)
declare -A group_version=(
  [kubernetes]=$K8S_VERSION [etcd]=$ETCD_VERSION [kwok]=$KWOK_VERSION [containerd]=$CONTAINERD_VERSION
  [cni-plugins]=$CNI_PLUGINS_VERSION [coredns]=$COREDNS_VERSION [pause]=$PAUSE_VERSION [dapr]=$DAPR_VERSION
  [kube-router]=$KUBE_ROUTER_VERSION [traefik]=$TRAEFIK_VERSION [registry]=$DISTRIBUTION_VERSION
)
# The versions each group is built from: its stamp records them (pause.c ships in k8s.io/kubernetes).
declare -A group_inputs=(
  [kubernetes]="K8S_VERSION" [etcd]="ETCD_VERSION" [kwok]="KWOK_VERSION" [containerd]="CONTAINERD_VERSION"
  [cni-plugins]="CNI_PLUGINS_VERSION" [coredns]="COREDNS_VERSION" [pause]="PAUSE_VERSION K8S_VERSION" [dapr]="DAPR_VERSION"
  [kube-router]="KUBE_ROUTER_VERSION" [traefik]="TRAEFIK_VERSION" [registry]="DISTRIBUTION_VERSION"
)
# Bumped when a group's build recipe changes (flags, version strings, CoreDNS's plugins), so its
# stamp goes stale. Keep in step with `recipe` in GROUPS of lib/controlplane/versions.ts.
declare -A group_recipe=([kubernetes]=1 [etcd]=2 [kwok]=1 [containerd]=1 [cni-plugins]=1 [coredns]=2 [pause]=1 [kube-router]=1 [dapr]=2 [traefik]=1 [registry]=1)
# The Dapr programs, each an image of its own named as the Dapr chart composes it
# (<global.registry>/<name>:<global.tag>) under a registry name that says it was built here.
dapr_programs=(daprd operator injector sentry placement scheduler)
DAPR_IMAGE_REGISTRY=todo-deploy.local/dapr
declare -A group_outputs=(
  [kubernetes]="bin/kube-apiserver bin/kube-controller-manager bin/kube-scheduler bin/kubelet bin/kube-proxy bin/kubectl"
  [etcd]="bin/etcd" [kwok]="bin/kwok"
  [containerd]="bin/containerd bin/containerd-shim-runc-v2 bin/ctr"
  [cni-plugins]="bin/bridge bin/host-local bin/loopback bin/portmap"
  [coredns]="bin/coredns coredns.oci.tar" [pause]="bin/pause pause.oci.tar"
  [dapr]="$(for p in "${dapr_programs[@]}"; do printf 'bin/%s dapr-%s.oci.tar ' "$p" "$p"; done)chart/dapr/Chart.yaml"
  [kube-router]="bin/kube-router" [traefik]="bin/traefik traefik.oci.tar" [registry]="bin/registry"
)
# What a first build takes on 2 idle cores with empty Go caches (measured in a cold `.ci/run`,
# lib/controlplane/build/README.md, rounded up; a busy machine takes several times as long),
# shown until this machine has a time of its own.
declare -A group_typical=([kubernetes]=420 [etcd]=60 [kwok]=120 [containerd]=90 [cni-plugins]=30 [coredns]=90 [pause]=2 [kube-router]=180 [dapr]=600 [traefik]=540 [registry]=210)
on_path=(kubernetes etcd kwok containerd)

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/controlplane"
group_dir() { printf '%s/%s-%s' "$cache_root" "$1" "${group_version[$1]}"; }
stamp_text() { # the stamp a current build of group $1 has
  local key
  printf 'RECIPE=%s\n' "${group_recipe[$1]}"
  for key in ${group_inputs[$1]}; do printf '%s=%s\n' "$key" "${!key}"; done
}

if [[ $print_dir == 1 ]]; then
  dirs=()
  for g in "${on_path[@]}"; do dirs+=("$(group_dir "$g")/bin"); done
  (IFS=:; echo "${dirs[*]}")
  exit 0
fi
if [[ $print_layout == 1 ]]; then
  for g in "${all_groups[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$g" "$(group_dir "$g")" "$(stamp_text "$g" | grep -v '^RECIPE=' | tr '\n' ' ' | sed 's/ $//')" "${group_outputs[$g]}" "${group_recipe[$g]}"
  done
  exit 0
fi

# Which groups this run is about (runc is a check, not a group).
want_runc=0
named=${#requested[@]}
if [[ $named == 0 ]]; then requested=("${default_groups[@]}" runc); fi
groups=()
for g in "${all_groups[@]}"; do
  for r in "${requested[@]}"; do [[ $r == "$g" ]] && { groups+=("$g"); break; }; done
done
for r in "${requested[@]}"; do [[ $r == runc ]] && want_runc=1; done

log() { printf '[controlplane build] %s\n' "$*"; }
fmt() { local s=$1; if ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi; }

is_current() {
  local g=$1 dir out
  dir="$(group_dir "$g")"
  [[ -f $dir/complete && "$(cat "$dir/complete")" == "$(stamp_text "$g")" ]] || return 1
  for out in ${group_outputs[$g]}; do [[ -e $dir/$out ]] || return 1; done
}

# runc is Debian's (package runc, which docker.io pulls in), not built: say what is there.
runc_problem() {
  local out got
  if ! out="$(runc --version 2>&1)"; then
    echo "runc is not installed (the real node needs runc $RUNC_VERSION): apt-get install runc"
    return
  fi
  got="$(sed -n 's/^runc version v\{0,1\}\([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p' <<<"$out" | head -1)"
  if [[ $got != "$RUNC_VERSION" ]]; then
    echo "runc on PATH ($(command -v runc)) is ${got:-unrecognised}, but versions.env pins RUNC_VERSION=$RUNC_VERSION: install Debian 12's runc (apt-get install runc), or change RUNC_VERSION after checking the node works with this runc"
  fi
}

# --check: what is built, what is missing or stale, and runc.
report() {
  local bad=0 g problem
  for g in "${groups[@]}"; do
    if is_current "$g"; then log "$g ${group_version[$g]}: built ($(group_dir "$g"))"; else log "$g ${group_version[$g]}: missing or stale ($(group_dir "$g"))"; bad=1; fi
  done
  if [[ $want_runc == 1 ]]; then
    problem="$(runc_problem)"
    if [[ -n $problem ]]; then log "$problem"; bad=1; else log "runc $RUNC_VERSION: found ($(command -v runc))"; fi
  fi
  return "$bad"
}
if [[ $check == 1 && $pin == 0 ]]; then if report; then exit 0; else exit 1; fi; fi

command -v go >/dev/null || { echo "build.sh: the Go toolchain is not on PATH; install Go 1.26 or newer (Debian: golang from backports, or the machine's Go) and run again." >&2; exit 1; }

# Never let the go command fetch another toolchain (no internet beyond the module proxy);
# never stamp VCS info (the build runs inside this repo but builds other modules).
export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# The oldest Go the pinned modules accept; go mod init would otherwise write the local patch
# release and demand it of every machine (go get raises it where a module needs more).
GO_LINE=1.26.0

# One build at a time per cache: a second run (another clone, a test run) waits, then finds
# the groups built.
mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
if ! flock -n 9; then
  log "another build.sh is building into $cache_root; waiting for it to finish"
  flock 9
fi

# Starts the build module in the current folder afresh, at the pinned Go line.
new_module() {
  rm -f go.mod go.sum
  go mod init "todo-deploy/lib/controlplane/build/$1" >/dev/null 2>&1
  go mod edit -go="$GO_LINE"
}

# A build module holding one upstream module's programs as tools: pin_tools <dir> <tool@version...>
pin_tools() {
  local dir=$1; shift
  log "pinning $dir/ to $*"
  mkdir -p "$here/$dir"
  (
    cd "$here/$dir"
    new_module "$dir"
    go get -tool "$@"
    go mod tidy
  )
}

# --pin: regenerate the build modules from versions.env.
# --pin with groups named rewrites only their modules (kube/ is kubernetes' and pause's);
# without, every module, dapr/ and registry/ included.
pin_wanted() {
  local g w
  [[ $named == 0 ]] && return 0
  for w in "$@"; do for g in "${groups[@]}"; do [[ $g == "$w" ]] && return 0; done; done
  return 1
}
pin_modules() {
  pin_wanted kubernetes pause && pin_kube
  pin_wanted etcd && pin_tools etcd "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  pin_wanted kwok && pin_tools kwok "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  pin_wanted containerd && pin_tools containerd "github.com/containerd/containerd/v2/cmd/containerd@v$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@v$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@v$CONTAINERD_VERSION"
  pin_wanted cni-plugins && pin_tools cni-plugins "github.com/containernetworking/plugins/plugins/main/bridge@v$CNI_PLUGINS_VERSION" \
    "github.com/containernetworking/plugins/plugins/ipam/host-local@v$CNI_PLUGINS_VERSION" \
    "github.com/containernetworking/plugins/plugins/main/loopback@v$CNI_PLUGINS_VERSION" \
    "github.com/containernetworking/plugins/plugins/meta/portmap@v$CNI_PLUGINS_VERSION"
  pin_wanted coredns && pin_coredns
  pin_wanted registry && pin_tools registry "github.com/distribution/distribution/v3/cmd/registry@v$DISTRIBUTION_VERSION"
  pin_wanted kube-router && pin_tools kube-router "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@v$KUBE_ROUTER_VERSION"
  pin_wanted dapr && pin_dapr
  pin_wanted traefik && pin_traefik
  return 0
}
# CoreDNS is our own main package (coredns/main.go: coremain and the Corefile's plugins), so
# its module requires only what those plugins import.
pin_coredns() {
  log "pinning coredns/ to github.com/coredns/coredns v$COREDNS_VERSION"
  (
    cd "$here/coredns"
    new_module coredns
    go get "github.com/coredns/coredns@v$COREDNS_VERSION"
    go mod tidy
  )
}
pin_kube() {
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
    local m c tools=()
    for m in $staging; do go mod edit -replace="$m=$m@v$STAGING_VERSION"; done
    go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
    for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
      tools+=("k8s.io/kubernetes/cmd/$c@v$K8S_VERSION")
    done
    go get -tool "${tools[@]}"
    go mod tidy
  )
}

# The replace directives of a go.mod, one "old[@version] new[@version]" line each (either form:
# a single line or a block). go.mod files on the proxy are gofmt'ed, which this relies on.
go_mod_replaces() {
  awk '
    { sub(/[[:space:]]*\/\/.*$/, "") }
    /^replace[[:space:]]*\($/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    /^replace[[:space:]]/ { sub(/^replace[[:space:]]+/, ""); one = 1 }
    (block || one) && /=>/ {
      split($0, side, /[[:space:]]*=>[[:space:]]*/)
      n = split(side[1], o, /[[:space:]]+/); m = split(side[2], r, /[[:space:]]+/)
      # leading blanks make an empty first field
      oi = (o[1] == "") ? 2 : 1
      print o[oi] (n > oi ? "@" o[oi + 1] : "") " " r[1] (m > 1 ? "@" r[2] : "")
    }
    { one = 0 }
  ' "$1"
}

# dapr/: github.com/dapr/dapr's six programs as tools. Its go.mod replaces some modules, which
# only the main module's go.mod can do, so this module carries the same replace directives.
pin_dapr() {
  log "pinning dapr/ to github.com/dapr/dapr v$DAPR_VERSION (with its replace directives)"
  local dapr_mod old new p tools=()
  dapr_mod="$(go mod download -json "github.com/dapr/dapr@v$DAPR_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f $dapr_mod ]] || { echo "build.sh: could not download github.com/dapr/dapr@v$DAPR_VERSION from the module proxy" >&2; exit 1; }
  mkdir -p "$here/dapr"
  (
    cd "$here/dapr"
    new_module dapr
    while read -r old new; do
      # A replacement by a folder of Dapr's own repository cannot be carried outside it.
      [[ $new == .* || $new == /* ]] && { echo "build.sh: github.com/dapr/dapr@v$DAPR_VERSION replaces $old with the folder $new, which this build module cannot carry; build that Dapr release from its repository instead." >&2; exit 1; }
      go mod edit -replace="$old=$new"
    done < <(go_mod_replaces "$dapr_mod")
    for p in "${dapr_programs[@]}"; do tools+=("github.com/dapr/dapr/cmd/$p@v$DAPR_VERSION"); done
    go get -tool "${tools[@]}"
    go mod tidy
  )
}

# Traefik's go.mod replaces three modules with Containous forks and excludes one version;
# replace and exclude count only in the main module, so the build module carries them, read
# from the pinned release's own go.mod. A replace to a local path cannot be carried: the
# v3.7 releases have one (github.com/traefik/traefik/dynamic/ext => ./pkg/config/dynamic/ext,
# a nested module left out of the module zip and not on the proxy), hence the pin on 3.6.
pin_traefik() {
  local mod=github.com/traefik/traefik/v3 gomod directives
  log "pinning traefik/ to $mod v$TRAEFIK_VERSION (with its replace and exclude directives)"
  gomod="$(go mod download -json "$mod@v$TRAEFIK_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f $gomod ]] || { echo "build.sh: could not download $mod@v$TRAEFIK_VERSION from the module proxy" >&2; exit 1; }
  # -replace=old[@v]=new[@v] and -exclude=path@v flags for go mod edit, one a line.
  directives="$(go mod edit -json "$gomod" | node -e '
    const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const at = (x) => x.Path + (x.Version ? "@" + x.Version : "");
    for (const r of m.Replace ?? []) {
      if (!r.New.Version) { console.error(`${r.Old.Path} => ${r.New.Path} (a local path)`); process.exit(3); }
      console.log(`-replace=${at(r.Old)}=${at(r.New)}`);
    }
    for (const e of m.Exclude ?? []) console.log(`-exclude=${e.Path}@${e.Version}`);
  ' 2>&1)" || {
    echo "build.sh: $mod v$TRAEFIK_VERSION replaces a module with a local path ($directives), which no build module outside its repository can supply. Pin a release without one in versions.env (3.6.x; see lib/controlplane/build/README.md)." >&2
    exit 1
  }
  mkdir -p "$here/traefik"
  (
    cd "$here/traefik"
    new_module traefik
    # shellcheck disable=SC2086 # one flag a line, none with spaces
    [[ -z $directives ]] || go mod edit $directives
    go get -tool "$mod/cmd/traefik@v$TRAEFIK_VERSION"
    go mod tidy
  )
}

# The committed go.mod files must agree with versions.env, or the build would not be
# the one that versions.env (and the helper that prints it) claims.
check_pinned() {
  local dir=$1 module=$2 want=$3 got
  got="$(cd "$here/$dir" 2>/dev/null && go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$module" 2>/dev/null || true)"
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
check_pinned containerd github.com/containerd/containerd/v2 "$CONTAINERD_VERSION"
check_pinned cni-plugins github.com/containernetworking/plugins "$CNI_PLUGINS_VERSION"
check_pinned coredns github.com/coredns/coredns "$COREDNS_VERSION"
check_pinned dapr github.com/dapr/dapr "$DAPR_VERSION"
check_pinned kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION"
check_pinned traefik github.com/traefik/traefik/v3 "$TRAEFIK_VERSION"
check_pinned registry github.com/distribution/distribution/v3 "$DISTRIBUTION_VERSION"
if [[ $check == 1 ]]; then if report; then exit 0; else exit 1; fi; fi

build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
arch="$(go env GOARCH)"
tick="${TODO_DEPLOY_BUILD_TICK:-20}"

# Things to undo however the run ends: a running build, staging folders.
cleanup_pids=() cleanup_dirs=()
cleanup() {
  local p
  for p in "${cleanup_pids[@]}"; do
    pkill -TERM -P "$p" 2>/dev/null || true
    kill "$p" 2>/dev/null || true
  done
  for p in "${cleanup_dirs[@]}"; do rm -rf "$p"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# go build in a build module, output to a folder (or a file for a root main package).
gobuild() { # gobuild <module dir> <output> <go build args...>
  local dir=$1 out=$2; shift 2
  (cd "$here/$dir" && go build -mod=readonly -trimpath -o "$out" "$@")
}

# The Kubernetes version strings (hack/lib/version.sh sets the same variables). The module
# proxy carries no commit, so gitCommit stays empty; the tree is the released module, unmodified.
kube_ldflags() {
  local pkg minor=${K8S_VERSION#*.}
  minor=${minor%%.*}
  printf -- '-s -w'
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- ' -X %s.gitVersion=v%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitCommit= -X %s.gitTreeState=clean -X %s.buildDate=%s' \
      "$pkg" "$K8S_VERSION" "$pkg" "${K8S_VERSION%%.*}" "$pkg" "$minor" "$pkg" "$pkg" "$pkg" "$build_date"
  done
}

# A one-layer OCI image archive (an OCI image layout in a tar), importable with
# `ctr -n k8s.io images import`: oci_image <archive> <ref> <binary> <user or ''> [cmd] [account].
# The binary goes to /<its name>, which is the entrypoint, or with `cmd` the default command and
# no entrypoint (for images whose users give the program as the first argument, as Dapr's
# sidecar injector does). With an account name, /etc/passwd and /etc/group name the user
# `<uid>:<gid>` (as distroless's nonroot): the kubelet passes only the image's uid to the
# runtime, and containerd then takes the group from /etc/passwd, or 0 when there is none.
# Reproducible: fixed times and owners.
oci_image() {
  local archive=$1 ref=$2 binary=$3 user=$4 how=${5:-entrypoint} account=${6:-} work name config manifest run files
  local layer_digest layer_size config_digest config_size manifest_digest manifest_size
  name="$(basename "$binary")"
  # Inside the staging folder (next to the archive), which the main shell removes.
  work="$(dirname "$archive")/oci-work-$name"
  mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
  install -m 0755 "$binary" "$work/rootfs/$name"
  files=("$name")
  if [[ -n $account ]]; then
    mkdir -p "$work/rootfs/etc"
    printf '%s:x:%s:%s:%s:/:/sbin/nologin\n' "$account" "${user%%:*}" "${user##*:}" "$account" >"$work/rootfs/etc/passwd"
    printf '%s:x:%s:\n' "$account" "${user##*:}" >"$work/rootfs/etc/group"
    chmod 0644 "$work/rootfs/etc/passwd" "$work/rootfs/etc/group"
    files+=(etc)
  fi
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$work/rootfs" -cf "$work/layer.tar" "${files[@]}"
  blob() { # blob <file> -> prints "sha256:<hex> <size>", stores the file as a blob
    local hex size
    hex="$(sha256sum "$1" | cut -d' ' -f1)"
    size="$(stat -c %s "$1")"
    mv "$1" "$work/oci/blobs/sha256/$hex"
    printf 'sha256:%s %s\n' "$hex" "$size"
  }
  read -r layer_digest layer_size < <(blob "$work/layer.tar")
  if [[ $how == cmd ]]; then run="\"Cmd\":[\"/$name\"]"; else run="\"Entrypoint\":[\"/$name\"]"; fi
  config="{\"architecture\":\"$arch\",\"os\":\"linux\",\"config\":{$run,${user:+\"User\":\"$user\",}\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$layer_digest\"]},\"history\":[{\"created_by\":\"todo-deploy lib/controlplane/build/build.sh\"}]}"
  printf '%s' "$config" >"$work/config.json"
  read -r config_digest config_size < <(blob "$work/config.json")
  manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$config_digest\",\"size\":$config_size},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$layer_digest\",\"size\":$layer_size}]}"
  printf '%s' "$manifest" >"$work/manifest.json"
  read -r manifest_digest manifest_size < <(blob "$work/manifest.json")
  # containerd names the image from io.containerd.image.name; other tools read the OCI tag.
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_digest" "$manifest_size" "$arch" "$ref" "${ref##*:}" >"$work/oci/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$work/oci" -cf "$archive" oci-layout index.json blobs
  rm -rf "$work"
}

# Each group's build: build_<group> <staging folder>, producing the group's outputs there.
build_etcd() {
  # etcd's main package is the root of go.etcd.io/etcd/server/v3, so name its output. Its
  # version is compiled in; the module proxy carries no commit, which GitSHA then says.
  gobuild etcd "$1/bin/etcd" -ldflags="-s -w -X 'go.etcd.io/etcd/api/v3/version.GitSHA=unknown (built from the Go module proxy)'" go.etcd.io/etcd/server/v3
}
build_kwok() {
  gobuild kwok "$1/bin/" -ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
}
build_kubernetes() {
  local c pkgs=()
  for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  gobuild kube "$1/bin/" -ldflags="$(kube_ldflags)" "${pkgs[@]}"
}
build_containerd() {
  # Static (no cgo: leaves out only the btrfs snapshotter), one build for the three programs.
  local pkg=github.com/containerd/containerd/v2
  CGO_ENABLED=0 gobuild containerd "$1/bin/" -tags urfave_cli_no_docs \
    -ldflags="-s -w -X $pkg/version.Version=v$CONTAINERD_VERSION -X $pkg/version.Package=$pkg" \
    "$pkg/cmd/containerd" "$pkg/cmd/containerd-shim-runc-v2" "$pkg/cmd/ctr"
}
build_cni-plugins() {
  local m=github.com/containernetworking/plugins
  CGO_ENABLED=0 gobuild cni-plugins "$1/bin/" -ldflags="-s -w -X $m/pkg/utils/buildversion.BuildVersion=v$CNI_PLUGINS_VERSION" \
    "$m/plugins/main/bridge" "$m/plugins/ipam/host-local" "$m/plugins/main/loopback" "$m/plugins/meta/portmap"
}
build_coredns() {
  # coredns/main.go: upstream's command with only the plugins the node's Corefile uses
  # (upstream's full set pulls in cloud SDKs and took about 17 minutes from an empty cache).
  local m=github.com/coredns/coredns/coremain
  CGO_ENABLED=0 gobuild coredns "$1/bin/coredns" -ldflags="-s -w -X $m.gitTag=v$COREDNS_VERSION -X $m.buildDate=$build_date" .
  # Runs as root (no USER): it binds port 53 without file capabilities.
  oci_image "$1/coredns.oci.tar" "registry.k8s.io/coredns/coredns:v$COREDNS_VERSION" "$1/bin/coredns" ""
}
build_registry() {
  # Upstream's Makefile sets the same three variables; the module proxy carries no commit, so
  # the revision stays empty (`registry --version` then prints the version and the package).
  local m=github.com/distribution/distribution/v3
  CGO_ENABLED=0 gobuild registry "$1/bin/registry" \
    -ldflags="-s -w -X $m/version.version=v$DISTRIBUTION_VERSION -X $m/version.revision= -X $m/version.mainpkg=$m" "$m/cmd/registry"
}
build_kube-router() {
  # Static, as upstream's Makefile builds it (CGO_ENABLED=0), with its version variables.
  local m=github.com/cloudnativelabs/kube-router/v2
  CGO_ENABLED=0 gobuild kube-router "$1/bin/" -ldflags="-s -w -X $m/pkg/version.Version=v$KUBE_ROUTER_VERSION -X $m/pkg/version.BuildDate=$build_date" "$m/cmd/kube-router"
}
build_pause() {
  local src tag
  (cd "$here/kube" && go mod download k8s.io/kubernetes)
  src="$(cd "$here/kube" && go list -mod=readonly -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause"
  tag="$(sed -n 's/^TAG ?= *//p' "$src/Makefile")"
  if [[ $tag != "$PAUSE_VERSION" ]]; then
    echo "build.sh: k8s.io/kubernetes v$K8S_VERSION ships pause $tag (build/pause/Makefile), but versions.env says PAUSE_VERSION=$PAUSE_VERSION. Set PAUSE_VERSION=$tag." >&2
    return 1
  fi
  command -v gcc >/dev/null || { echo "build.sh: the pause image needs gcc and a static C library: apt-get install gcc libc6-dev" >&2; return 1; }
  # The flags of build/pause/Makefile.
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-k8s$K8S_VERSION" -o "$1/bin/pause" "$src/linux/pause.c"
  strip "$1/bin/pause"
  # The user of the upstream image (build/pause/Dockerfile).
  oci_image "$1/pause.oci.tar" "registry.k8s.io/pause:$PAUSE_VERSION" "$1/bin/pause" "65535:65535"
}

build_dapr() {
  local m=github.com/dapr/dapr src p pkgs=()
  # daprd's components are chosen at build time (see dapr/daprd-components/components.go): this
  # daprd registers only the four that file names. go build may not overlay files of the module
  # cache, so it builds Dapr from a copy of the module (the same files, checked against go.sum
  # on download) whose cmd/daprd/components holds that one file, through a go.mod that replaces
  # github.com/dapr/dapr with the copy. The copy's path stays the same from build to build so
  # that the Go build cache keeps serving Dapr's own packages.
  src="$(dirname "$1")/source"
  (cd "$here/dapr" && go mod download "$m")
  rm -rf "$src"
  cp -r "$(cd "$here/dapr" && go list -mod=readonly -m -f '{{.Dir}}' "$m")" "$src"
  chmod -R u+w "$src"
  rm -f "$src"/cmd/daprd/components/*.go
  cp "$here/dapr/daprd-components/components.go" "$src/cmd/daprd/components/"
  cp "$here/dapr/go.mod" "$1/go.mod"
  cp "$here/dapr/go.sum" "$1/go.sum"
  (cd "$here/dapr" && go mod edit -modfile="$1/go.mod" -replace="$m=$src")
  for p in "${dapr_programs[@]}"; do pkgs+=("$m/cmd/$p"); done
  # Static, as Dapr's own release build (CGO_ENABLED=0); the version strings of its Makefile.
  CGO_ENABLED=0 gobuild dapr "$1/bin/" -modfile="$1/go.mod" \
    -ldflags="-s -w -X $m/pkg/buildinfo.version=$DAPR_VERSION -X $m/pkg/buildinfo.gitversion=v$DAPR_VERSION -X $m/pkg/buildinfo.gitcommit= -X github.com/dapr/kit/logger.DaprVersion=$DAPR_VERSION" \
    "${pkgs[@]}"
  # The chart the module ships, as a release of it is packaged (its version and appVersion are
  # 0.0.0 in the source; the subcharts' stay, as their dependency entries name them).
  mkdir -p "$1/chart"
  cp -r "$src/charts/dapr" "$1/chart/dapr"
  sed -i -e "s/^version: .*/version: '$DAPR_VERSION'/" -e "s/^appVersion: .*/appVersion: '$DAPR_VERSION'/" "$1/chart/dapr/Chart.yaml"
  rm -rf "$src"
  # As Dapr's images (docker/Dockerfile, on distroless's nonroot): the program at /, user
  # 65532:65532 named in /etc/passwd and /etc/group (Dapr's programs refuse to run in Kubernetes
  # as anything but 65532:65532, and without the account the group was 0), no entrypoint (the
  # injector gives /daprd as the first argument).
  for p in "${dapr_programs[@]}"; do
    oci_image "$1/dapr-$p.oci.tar" "$DAPR_IMAGE_REGISTRY/$p:$DAPR_VERSION" "$1/bin/$p" "65532:65532" cmd nonroot
  done
}

build_traefik() {
  # Static, with the version strings of Traefik's Makefile (`traefik version` prints them).
  local m=github.com/traefik/traefik/v3
  CGO_ENABLED=0 gobuild traefik "$1/bin/traefik" \
    -ldflags="-s -w -X $m/pkg/version.Version=v$TRAEFIK_VERSION -X $m/pkg/version.BuildDate=$build_date" "$m/cmd/traefik"
  # Not root: its entry points listen on ports above 1024 (lib/cluster/ingress/traefik.yaml).
  oci_image "$1/traefik.oci.tar" "docker.io/library/traefik:v$TRAEFIK_VERSION" "$1/bin/traefik" "65532:65532"
}

# Sets cpu_now to the CPU seconds (user + sys) used so far by this shell's finished children.
# Called as a plain command: `times` must run in this shell (a command substitution would fork
# and count nothing), hence the file and the global.
children_cpu() {
  local line
  times >"$cache_root/.times.$$"
  line="$(tail -n 1 "$cache_root/.times.$$")"
  rm -f "$cache_root/.times.$$"
  # "0m12.345s 0m1.234s" -> 13
  cpu_now=$(awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } printf "%d\n", t }' <<<"$line")
}

# Runs one group's build with its output in build.log, printing which group it is, a line
# every $tick seconds with the elapsed time, and what it took last time (or typically).
build_group() {
  local g=$1 dir staging label last hint started cpu_before pid next status out
  dir="$(group_dir "$g")"
  label="$g ${group_version[$g]} ($(for out in ${group_outputs[$g]}; do basename "$out"; done | tr '\n' ' ' | sed 's/ $//' | sed 's/ /, /g'))"
  last="$(cat "$cache_root/build-times/$g" 2>/dev/null || true)"
  if [[ -n $last ]]; then hint="last time $(fmt "$last"); a first build with empty Go caches: about $(fmt "${group_typical[$g]}")"
  else hint="a first build with empty Go caches takes about $(fmt "${group_typical[$g]}") on 2 idle cores, longer on a busy machine"; fi
  mkdir -p "$dir"
  rm -f "$dir/complete"
  staging="$(mktemp -d "$dir/build.XXXXXX")"
  cleanup_dirs+=("$staging")
  mkdir -p "$staging/bin"
  log "building $label: $hint; full output in $dir/build.log"
  printf '# build.sh: %s, %s\n' "$label" "$(date -u +%FT%TZ)" >"$dir/build.log"
  # In the background so that set -e holds inside the build (it is off in a `|| status=` list)
  # and this shell can print the elapsed time while it runs.
  started=$SECONDS
  children_cpu
  cpu_before=$cpu_now
  ("build_$g" "$staging") >>"$dir/build.log" 2>&1 &
  pid=$!
  cleanup_pids+=("$pid")
  next=$((started + tick))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS >= next)); then
      log "  still building $g: $(fmt $((SECONDS - started))) so far ($hint)"
      next=$((next + tick))
    fi
  done
  status=0
  wait "$pid" || status=$?
  cleanup_pids=()
  local took=$((SECONDS - started))
  if [[ $status != 0 ]]; then
    {
      echo "build.sh: building $label failed after $(fmt "$took") (exit $status). The last lines of $dir/build.log:"
      tail -n 25 "$dir/build.log" | sed 's/^/    /'
      echo "build.sh: the full output is in $dir/build.log"
    } >&2
    exit 1
  fi
  # A folder of outputs (the dapr chart) moves whole; the output named is a file in it.
  if [[ -d $staging/chart ]]; then rm -rf "$dir/chart"; mv "$staging/chart" "$dir/chart"; fi
  for out in ${group_outputs[$g]}; do
    if [[ $out == chart/* ]]; then
      [[ -e $dir/$out ]] || { echo "build.sh: building $label produced no $out (see $dir/build.log)" >&2; exit 1; }
      continue
    fi
    [[ -e $staging/$out ]] || { echo "build.sh: building $label produced no $out (see $dir/build.log)" >&2; exit 1; }
    mkdir -p "$(dirname "$dir/$out")"
    mv -f "$staging/$out" "$dir/$out"
  done
  stamp_text "$g" >"$dir/complete"
  mkdir -p "$cache_root/build-times"
  echo "$took" >"$cache_root/build-times/$g"
  # CPU time says how much of the wall time was waiting for a busy machine.
  children_cpu
  log "built $g ${group_version[$g]} in $(fmt "$took") (CPU $(fmt $((cpu_now - cpu_before))))"
}

log "versions: kubernetes v$K8S_VERSION (staging modules v$STAGING_VERSION), etcd v$ETCD_VERSION, kwok v$KWOK_VERSION, containerd v$CONTAINERD_VERSION, CNI plugins v$CNI_PLUGINS_VERSION, CoreDNS v$COREDNS_VERSION, pause $PAUSE_VERSION, kube-router v$KUBE_ROUTER_VERSION, Dapr $DAPR_VERSION, Traefik v$TRAEFIK_VERSION, registry (Distribution) v$DISTRIBUTION_VERSION"
total_start=$SECONDS
built=() current=()
for g in "${groups[@]}"; do
  if [[ $force == 0 ]] && is_current "$g"; then current+=("$g"); continue; fi
  build_group "$g"
  built+=("$g")
done
if [[ ${#built[@]} == 0 ]]; then
  log "already built, nothing to do: ${current[*]:-no group asked for} (use --force to rebuild)"
else
  log "done in $(fmt $((SECONDS - total_start))): built ${built[*]}${current:+; already current: ${current[*]}} (in $cache_root)"
fi
if [[ $want_runc == 1 ]]; then
  problem="$(runc_problem)"
  if [[ -n $problem ]]; then log "warning: $problem"; else log "runc $RUNC_VERSION found ($(command -v runc))"; fi
fi
}

main "$@"; exit
