#!/usr/bin/env bash
# bench/compare.sh: how long it takes to run /bin/true with the isolation of
# policies/default.textproto, side by side: bare fork+exec, this library
# (exec, zygote and prewarmed), bwrap, unshare, firejail and crun. Every tool runs
# once per round, in rotation, N rounds in one run, so that a slow minute of
# the machine hits every tool alike.
#
#   bash bench/compare.sh [OUT_DIR]
#
# Environment: N runs per tool (default 100); BUILD_DIR (default <repo>/build,
# configured and built here if build/bin/spawn_driver is missing). Results go
# to OUT_DIR (default: a new /tmp/sandbox-compare.XXXXXX): times.tsv (every
# run), table.txt (what is printed at the end), isolation.txt (what each tool
# really gave, probed from inside), compare.png (gnuplot), and the inputs
# made for the tools (filter.bpf, bundle/ for crun).
#
# Missing tools are installed with apt-get (as root, or through sudo -n).
# A tool that cannot run here stays in the table with the reason.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
N=${N:-100}
OUT=${1:-$(mktemp -d /tmp/sandbox-compare.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
DRIVER=$BUILD_DIR/bin/spawn_driver
SANDBOX_RUN=$BUILD_DIR/bin/sandbox-run

log() { printf '%s\n' "compare.sh: $*" >&2; }

# --- 1. What we need of our own ---
if [[ ! -x $DRIVER || ! -x $SANDBOX_RUN ]]; then
  log "building spawn_driver and sandbox-run in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" --target spawn_driver sandbox-run -j"$(nproc)" >/dev/null
fi

# --- 2. The other tools, from Debian ---
as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}
missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v unshare >/dev/null || missing+=(util-linux)
command -v firejail >/dev/null || missing+=(firejail)
command -v crun >/dev/null || missing+=(crun)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  if ! { as_root apt-get update -qq >/dev/null &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "${missing[@]}" >/dev/null; }; then
    log "apt-get failed: the table says which tools are missing"
  fi
fi

# --- 3. Inputs the tools need ---
"$DRIVER" seccomp-bpf "$OUT/filter.bpf"
"$DRIVER" oci-seccomp >"$OUT/seccomp.json"

# Host paths the default policy binds (symlinks resolved, as the library
# does), and the /etc files it binds when present.
BINDS=(/usr /lib /lib64 /bin /sbin)
ETC_FILES=(/etc/ld.so.cache /etc/ld.so.conf /etc/ld.so.conf.d /etc/localtime
           /etc/nsswitch.conf /etc/alternatives)

# bwrap: its root is always a fresh tmpfs; the default policy's filter is
# handed over as compiled BPF (--seccomp reads it from fd 10).
BWRAP=(bwrap --unshare-user --uid 1000 --gid 1000 --unshare-pid --unshare-net
       --unshare-ipc --unshare-uts --unshare-cgroup --hostname sandbox
       --die-with-parent --new-session --cap-drop ALL --clearenv
       --setenv PATH /usr/local/bin:/usr/bin:/bin --setenv HOME /tmp)
for path in "${BINDS[@]}"; do
  [[ -e $path ]] && BWRAP+=(--ro-bind "$(realpath "$path")" "$path")
done
for path in "${ETC_FILES[@]}"; do BWRAP+=(--ro-bind-try "$path" "$path"); done
BWRAP+=(--proc /proc --dev /dev --tmpfs /tmp --chdir /tmp --remount-ro /
        --seccomp 10)

# unshare (util-linux): namespaces and a private /proc only. It maps the
# inside uid to the caller's own uid (root here), cannot build a new root,
# drop the bounding set or install a filter.
UNSHARE=(unshare --user --map-user=1000 --map-group=1000 --pid --fork
         --kill-child --net --ipc --uts --mount --cgroup --mount-proc)

# firejail: its own namespaces and filesystem scheme, its default seccomp
# blacklist (not our allow-list).
FIREJAIL=(firejail --quiet --noprofile --net=none --ipc-namespace
          --hostname=sandbox --private --private-dev --private-tmp
          --caps.drop=all --nonewprivs --seccomp --nogroups)

# crun: an OCI bundle with the same namespaces, id mapping, read-only root,
# binds, masked /proc paths, rlimits, no capabilities, no_new_privs and the
# default policy's rules translated to OCI seccomp. No cgroup (the library
# makes none for this policy either).
BUNDLE=$OUT/bundle
rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/rootfs"/{proc,dev,tmp,etc}
mounts='{"destination":"/proc","type":"proc","source":"proc"},
 {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","noexec","mode=755","size=64k"]},
 {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777","size=64m"]}'
for path in "${BINDS[@]}" "${ETC_FILES[@]}"; do
  [[ -e $path ]] || continue
  if [[ -d $path ]]; then mkdir -p "$BUNDLE/rootfs$path"; else touch "$BUNDLE/rootfs$path"; fi
  mounts+=",
 {\"destination\":\"$path\",\"type\":\"bind\",\"source\":\"$(realpath "$path")\",\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\"]}"
done
cat >"$BUNDLE/config.json" <<EOF
{
 "ociVersion": "1.0.2",
 "process": {
  "terminal": false,
  "user": {"uid": 1000, "gid": 1000},
  "args": ["/bin/true"],
  "env": ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8"],
  "cwd": "/tmp",
  "capabilities": {"bounding": [], "effective": [], "inheritable": [], "permitted": [], "ambient": []},
  "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
              {"type": "RLIMIT_CPU", "hard": 61, "soft": 60},
              {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}],
  "noNewPrivileges": true
 },
 "root": {"path": "rootfs", "readonly": true},
 "hostname": "sandbox",
 "mounts": [$mounts],
 "linux": {
  "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                 {"type": "mount"}, {"type": "cgroup"}, {"type": "user"}],
  "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1},
                  {"containerID": 1000, "hostID": 65534, "size": 1}],
  "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 1},
                  {"containerID": 1000, "hostID": 65534, "size": 1}],
  "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/timer_list",
                  "/proc/sched_debug", "/proc/latency_stats", "/proc/sysrq-trigger",
                  "/proc/kallsyms", "/proc/kmsg", "/proc/acpi", "/proc/scsi", "/proc/asound",
                  "/proc/firmware", "/proc/driver", "/proc/tty", "/proc/interrupts",
                  "/proc/vmallocinfo", "/proc/pagetypeinfo", "/proc/slabinfo"],
  "readonlyPaths": ["/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq"],
  "seccomp": $(cat "$OUT/seccomp.json")
 }
}
EOF
CRUN_STATE=$OUT/crun-state
mkdir -p "$CRUN_STATE"
# crun 1.8 refuses hosts whose cgroup v2 mount (/sys/fs/cgroup/unified on a
# hybrid host) has controllers, even with --cgroup-manager=disabled. Then it
# runs in a private mount namespace without that mount (the host is not
# touched), and the table gets a "crun-wrapper" row: the same wrapper around
# /bin/true, to subtract.
CRUN_PREFIX=()
printf '#!/bin/sh\numount /sys/fs/cgroup/unified && exec "$@"\n' >"$OUT/crun-wrapper.sh"
chmod +x "$OUT/crun-wrapper.sh"
CRUN_WRAPPER=(unshare --mount --propagation private "$OUT/crun-wrapper.sh")
if command -v crun >/dev/null; then
  crun_check=$(crun --root "$CRUN_STATE" --cgroup-manager=disabled run \
    --bundle "$BUNDLE" "hybrid-check-$$" 2>&1 || true)
  [[ $crun_check == *"hybrid mode"* ]] && CRUN_PREFIX=("${CRUN_WRAPPER[@]}")
fi
CRUN=("${CRUN_PREFIX[@]}" crun --root "$CRUN_STATE" --cgroup-manager=disabled
      run --bundle "$BUNDLE")

# --- 4. Which tools run here, and what isolation they really give ---
PROBE='for ns in user pid net ipc uts mnt cgroup; do echo "ns.$ns=$(readlink /proc/self/ns/$ns)"; done
echo "uid=$(id -u)"; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\t" | sed "s/:/=/"
echo "root=$(ls / | tr "\n" " ")"; echo "hostname=$(cat /proc/sys/kernel/hostname)"'

# Runs tool $1's command line with $2... as the program (fd 10: the filter).
run_tool() {
  local tool=$1; shift
  case $tool in
    sandbox-exec) "$SANDBOX_RUN" -- "$@" ;;  # the default policy, as shipped
    bwrap) "${BWRAP[@]}" "$@" 10<"$OUT/filter.bpf" ;;
    unshare) "${UNSHARE[@]}" "$@" ;;
    firejail) "${FIREJAIL[@]}" "$@" ;;
    crun)
      # crun takes its program from config.json: probe with a copy.
      local probe_bundle=$OUT/bundle-probe
      rm -rf "$probe_bundle"; cp -a "$BUNDLE" "$probe_bundle"
      python3 - "$probe_bundle/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:]
config = json.load(open(path))
config["process"]["args"] = args
json.dump(config, open(path, "w"))
PY
      "${CRUN_PREFIX[@]}" crun --root "$CRUN_STATE" --cgroup-manager=disabled \
        run --bundle "$probe_bundle" "probe-$$-$RANDOM" ;;
  esac
}

host_ns() { readlink "/proc/self/ns/$1"; }
describe() {  # tool, probe output -> one line
  local out=$2 line new=() shared=() ns
  for ns in user pid net ipc uts mnt cgroup; do
    line=$(grep "^ns.$ns=" <<<"$out" | cut -d= -f2)
    if [[ -z $line ]]; then shared+=("$ns?"); elif [[ $line == "$(host_ns "$ns")" ]]; then shared+=("$ns"); else new+=("$ns"); fi
  done
  printf 'new ns: %s; shared: %s; %s; %s; %s; %s; root: %s\n' \
    "${new[*]:-none}" "${shared[*]:-none}" \
    "$(grep '^uid=' <<<"$out")" "$(grep '^CapEff=' <<<"$out")" \
    "$(grep '^NoNewPrivs=' <<<"$out")" "$(grep '^Seccomp=' <<<"$out")" \
    "$(grep '^root=' <<<"$out" | cut -d= -f2-)"
}

declare -A REASON ISOLATION
SPECS=("bare=builtin:fork-exec" "sandbox-exec=builtin:sandbox-exec"
       "sandbox-zygote=builtin:sandbox-zygote"
       "sandbox-cgroup=builtin:sandbox-exec-default"
       "sandbox-prewarmed=builtin:sandbox-prewarmed")
: >"$OUT/isolation.txt"
for tool in sandbox-exec bwrap unshare firejail crun; do
  bin=${tool%%-*}
  [[ $tool == sandbox-exec ]] && bin=$SANDBOX_RUN
  if ! command -v "$bin" >/dev/null; then
    REASON[$tool]="not installed (apt-get install failed or was not possible)"
    continue
  fi
  if ! err=$(run_tool "$tool" /bin/true 2>&1 >/dev/null); then
    REASON[$tool]="fails here: $(tr '\n' ' ' <<<"$err" | cut -c1-160)"
    continue
  fi
  if out=$(run_tool "$tool" /bin/sh -c "$PROBE" 2>&1); then
    ISOLATION[$tool]=$(describe "$tool" "$out")
  else
    ISOLATION[$tool]="probe failed: $(tr '\n' ' ' <<<"$out" | cut -c1-160)"
  fi
  printf '%s: %s\n' "$tool" "${ISOLATION[$tool]}" >>"$OUT/isolation.txt"
  case $tool in
    bwrap) SPECS+=("bwrap=@10=$OUT/filter.bpf ${BWRAP[*]} /bin/true") ;;
    unshare) SPECS+=("unshare=${UNSHARE[*]} /bin/true") ;;
    firejail) SPECS+=("firejail=${FIREJAIL[*]} /bin/true") ;;
    crun)
      SPECS+=("crun=${CRUN[*]} cmp-{i}")
      if ((${#CRUN_PREFIX[@]})); then
        SPECS+=("crun-wrapper=${CRUN_WRAPPER[*]} /bin/true")
      fi ;;
  esac
done

# --- 5. The interleaved run ---
log "N=$N rounds of: ${SPECS[*]%%=*}"
"$DRIVER" interleave "$N" "$OUT/times.tsv" "${SPECS[@]}" >"$OUT/driver.txt"

{
  echo "/bin/true, N=$N per tool, interleaved; $(uname -r), $(nproc) CPUs, $(date -u +%F)"
  cat "$OUT/driver.txt"
  for tool in bwrap unshare firejail crun; do
    [[ -n ${REASON[$tool]:-} ]] && printf '%-16s %s\n' "$tool" "${REASON[$tool]}"
  done
  echo
  echo "Isolation each tool really gave (probed from inside; host ns compared):"
  cat "$OUT/isolation.txt"
  echo
  echo "Command lines:"
  echo "  bare:           fork + execve(/bin/true) + waitpid (the driver's own launcher, as for every external tool)"
  echo "  sandbox-exec:   Sandbox::Spawn + Wait in the driver process, exec mode (fork server), policies/default.textproto"
  echo "                  without its cgroup caps (no tool here makes a cgroup either)"
  echo "  sandbox-zygote: the same with a registered no-op worker (InitForkServer in main)"
  echo "  sandbox-cgroup: sandbox-exec with policies/default.textproto as shipped: memory 1G and pids 512,"
  echo "                  so a cgroup per sandbox (v1 memory, pids, freezer, cpuacct here)"
  echo "  sandbox-prewarmed: sandbox-exec from a PrewarmPool of one (sandbox/prewarm.h), refilled while the"
  echo "                  other tools run: the latency only; the setup's CPU is spent all the same"
  echo "  bwrap:          ${BWRAP[*]} /bin/true  (fd 10: filter.bpf)"
  echo "  unshare:        ${UNSHARE[*]} /bin/true"
  echo "  firejail:       ${FIREJAIL[*]} /bin/true"
  echo "  crun:           ${CRUN[*]} <id>  (bundle/config.json)"
  if ((${#CRUN_PREFIX[@]})); then
    echo "  crun-wrapper:   ${CRUN_WRAPPER[*]} /bin/true"
    echo "                  (crun 1.8 refuses this hybrid cgroup host without it: \"cgroups in hybrid"
    echo "                  mode not supported\"; crun's own cost is about crun - crun-wrapper)"
  fi
} >"$OUT/table.txt"
cat "$OUT/table.txt"

# --- 6. The plot ---
awk 'NR > 1 && $1 != "" && $2 ~ /^[0-9.]+$/ && $2 > 0 { print $1, $2, $3, $4 }' \
  "$OUT/driver.txt" >"$OUT/medians.dat"
if command -v gnuplot >/dev/null; then
  gnuplot <<EOF
set terminal png size 800,420 font ",10"
set output "$OUT/compare.png"
set title "Spawn and wait for /bin/true (median, p10-p90 bars), N=$N interleaved, $(nproc) CPUs"
set ylabel "microseconds (log scale)"
set logscale y
set style fill solid 0.6 border -1
set boxwidth 0.6
set xtics nomirror rotate by -25
set bmargin 5
set grid ytics
unset key
plot "$OUT/medians.dat" using 0:2:xtic(1) with boxes lc rgb "#4477aa", \
     "" using 0:2:3:4 with yerrorbars lc rgb "black" pt 0, \
     "" using 0:(\$2*1.25):(sprintf("%.0f", \$2)) with labels
EOF
  log "plot: $OUT/compare.png"
else
  log "gnuplot missing: no plot"
fi
log "results in $OUT"
