#!/usr/bin/env bash
# qemu_cgroup_v2.sh COMMAND [ARGS...]
#
# Runs COMMAND ARGS as root inside a small qemu guest whose kernel has only
# cgroup v2 (cgroup2 at /sys/fs/cgroup, v1 disabled with cgroup_no_v1=all),
# in the same working directory as here, and exits with COMMAND's status.
# It exists to exercise the library's cgroup v2 backend on hosts whose
# memory/pids/cpu controllers are on v1 (a cgroup2 mount without
# controllers, as on this project's machines).
#
# How:
# - Kernel: Debian's current linux-image-<abi>-amd64 (named by the
#   linux-image-amd64 metapackage's Depends), fetched with `apt-get download`
#   and unpacked with `dpkg-deb -x` -- never installed, which would rebuild
#   the host's initrd. The bzImage is decompressed to a plain ELF vmlinux
#   (find the compressor's magic, decompress from there, like the kernel
#   tree's scripts/extract-vmlinux) because qemu boots that through PVH in
#   about 4 s instead of 7 s. The vmlinux and the few modules needed are
#   cached under ${SANDBOX_QEMU_CACHE:-$HOME/.cache/sandbox-qemu} (or
#   /tmp/sandbox-qemu-cache-$UID when HOME is not writable), one directory
#   per package version; other versions are removed when a new one arrives.
# - qemu-system-x86_64 -accel tcg -cpu max (this machine's /dev/kvm cannot
#   run a stock kernel; nothing run in the guest may use -march=native, the
#   emulated CPU has no AVX-512), serial console on stdout, -no-reboot.
# - Initramfs (busybox-static, built fresh each run, well under a second):
#   insmods virtio_pci, 9pnet_virtio, 9p and overlay with their dependencies
#   (read from each .ko's modinfo "depends=", as the package has no
#   modules.dep), mounts the host's / read-only over virtio 9p
#   (trans=virtio,version=9p2000.L), puts a tmpfs overlay on it so the guest
#   can write anywhere (writes are lost at power-off; the host is never
#   written), mounts /proc, /sys, /dev, /dev/pts, /dev/shm, /run and cgroup2,
#   and switch_roots into it (not chroot: unshare(CLONE_NEWUSER) fails in a
#   chroot). If overlayfs cannot be mounted it falls back to the read-only
#   share with a tmpfs on /tmp.
# - cgroups: "+memory +pids +cpu" in the root's cgroup.subtree_control, and
#   COMMAND alone in /sys/fs/cgroup/test (its cgroup.controllers lists the
#   three, its subtree_control is empty), like a systemd unit with
#   Delegate=yes: to give children controllers, the program must first move
#   itself into a leaf (no-internal-processes rule). SANDBOX_QEMU_CGROUP=/
#   runs COMMAND in the root cgroup instead, where it can enable them
#   directly.
# - qemu exits 0 even after a kernel panic (panic=-1 plus -no-reboot makes a
#   panic end qemu at once), so the guest prints SANDBOX-GUEST-EXIT=<status>
#   on the console after COMMAND and powers off; no marker means failure.
#
# Exit status: COMMAND's, or 1 when the guest did not report one (qemu
# failed, kernel panic, timeout), with a message saying which.
#
# Environment:
#   SANDBOX_QEMU_CACHE    cache directory (see above)
#   SANDBOX_QEMU_TIMEOUT  wall-time limit in seconds for the guest (600)
#   SANDBOX_QEMU_MEM      guest memory (1G);  SANDBOX_QEMU_SMP  CPUs (2)
#   SANDBOX_QEMU_CGROUP   COMMAND's cgroup under /sys/fs/cgroup (test)
#   SANDBOX_QEMU_VERBOSE  1: show the kernel's boot messages
# COMMAND sees PATH, HOME=/root, LANG=C.UTF-8, and this environment's GTEST_*
# and SANDBOX_* variables (SANDBOX_QEMU_* excepted); stdin is /dev/null.
#
# Host packages: qemu-system-x86, busybox-static, cpio, xz-utils (installed
# with apt-get when run as root and missing; otherwise it stops and says so).
set -euo pipefail

me=qemu_cgroup_v2
die() { echo "$me: error: $*" >&2; exit 1; }
note() { echo "$me: $*" >&2; }

if [ "$#" -eq 0 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  [ "$#" -eq 0 ] && exit 2 || exit 0
fi

timeout_s=${SANDBOX_QEMU_TIMEOUT:-600}
mem=${SANDBOX_QEMU_MEM:-1G}
smp=${SANDBOX_QEMU_SMP:-2}
cg=${SANDBOX_QEMU_CGROUP-test}
cg=${cg#/}; cg=${cg%/}
verbose=${SANDBOX_QEMU_VERBOSE:-0}

# ---- host packages ---------------------------------------------------------
pkgs=(qemu-system-x86 busybox-static cpio xz-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing host packages: ${missing[*]} (as root: apt-get install" \
        "--no-install-recommends ${missing[*]}, or bash tests/install-deps.sh)"
  fi
  note "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
for t in qemu-system-x86_64 cpio xz dpkg-deb apt-get timeout flock; do
  command -v "$t" >/dev/null || die "$t not found"
done
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox (busybox-static) not found"

# ---- cache directory -------------------------------------------------------
cache=${SANDBOX_QEMU_CACHE:-}
if [ -z "$cache" ]; then
  cache=${HOME:-/nonexistent}/.cache/sandbox-qemu
  if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    cache=/tmp/sandbox-qemu-cache-$(id -u)
  fi
fi
mkdir -p "$cache" || die "cannot create cache directory $cache"
[ -w "$cache" ] || die "cache directory $cache is not writable"

# ---- kernel: resolve, fetch, extract (cached by package version) -----------
resolve_kernel() {
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
         awk '!k && $1 == "Depends:" && $2 ~ /^linux-image-/ { k = $2 }
              END { print k }')
  kver=
  if [ -n "$kpkg" ]; then
    kver=$(apt-cache policy "$kpkg" 2>/dev/null |
           awk '!v && $1 == "Candidate:" { v = $2 } END { print v }')
    if [ "$kver" = "(none)" ]; then kver=; fi
  fi
}
resolve_kernel
if [ -z "$kver" ] && [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq || true
  resolve_kernel
fi
if [ -n "$kver" ]; then
  key="${kpkg}_${kver//[:\/]/_}"
else
  # No package lists (never updated, not root): use what is cached.
  key=$(cd "$cache" && ls -d linux-image-*/ 2>/dev/null | sed 's,/$,,' |
        sort -V | tail -1 || true)
  [ -n "$key" ] || die "cannot resolve linux-image-amd64 (run apt-get update" \
                       "as root) and nothing is cached in $cache"
  note "no apt package lists; using cached $key"
fi
kdir=$cache/$key

# Roots of the module closure loaded in the guest.
want_modules=(virtio_pci 9pnet_virtio 9p overlay)

extract_vmlinux() {  # bzImage -> ELF vmlinux
  local in=$1 out=$2 magic cmd off
  for spec in 'fd377a585a00 xz -dc' '28b52ffd zstd -dcq' '1f8b0800 gzip -dc'; do
    read -r magic cmd <<<"$spec"
    command -v "${cmd%% *}" >/dev/null || continue
    local pat
    pat=$(sed 's/../\\x&/g' <<<"$magic")
    for off in $(LC_ALL=C grep -aobUP "$pat" "$in" | cut -d: -f1); do
      tail -c +"$((off + 1))" "$in" | $cmd >"$out" 2>/dev/null || true
      if [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        return 0
      fi
    done
  done
  return 1
}

build_cache() {
  local tmp
  rm -rf "$cache"/.build.*  # left by an interrupted run (we hold the lock)
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  note "fetching $kpkg $kver into $cache"
  local aptopts=(-qq)
  [ "$(id -u)" -eq 0 ] && aptopts+=(-o APT::Sandbox::User=root)
  if ! (cd "$tmp" && apt-get "${aptopts[@]}" download "$kpkg=$kver"); then
    note "apt-get download $kpkg=$kver failed"
    rm -rf "$tmp"
    return 1
  fi
  dpkg-deb -x "$tmp"/*.deb "$tmp/x" ||
    { rm -rf "$tmp"; die "dpkg-deb -x failed"; }
  local vmlinuz moddir
  vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* | head -1)
  moddir=$(ls -d "$tmp"/x/lib/modules/*/ | head -1)
  mkdir -p "$tmp/out/modules"
  extract_vmlinux "$vmlinuz" "$tmp/out/vmlinux" ||
    { rm -rf "$tmp"; die "cannot decompress $vmlinuz"; }
  cp "$tmp"/x/boot/config-* "$tmp/out/config" 2>/dev/null || true
  # Load order: dependencies first (depth-first over modinfo depends=).
  local -A seen=()
  local order=()
  add_module() {
    local m=$1 f deps d
    [ -n "${seen[$m]:-}" ] && return 0
    seen[$m]=1
    f=$(find "$moddir/kernel" -name "$m.ko*" -print -quit)
    if [ -z "$f" ]; then
      f=$(find "$moddir/kernel" -name "${m//_/-}.ko*" -print -quit)
    fi
    if [ -z "$f" ]; then
      grep -qE "/(${m}|${m//_/-})\.ko" "$moddir/modules.builtin" 2>/dev/null &&
        return 0
      die "module $m neither in $kpkg nor built in"
    fi
    case $f in
      *.ko) ;;
      *.ko.xz) xz -dc "$f" >"$tmp/m.ko" && f=$tmp/m.ko ;;
      *.ko.zst) zstd -dcq "$f" >"$tmp/m.ko" && f=$tmp/m.ko ;;
      *) die "cannot handle $f" ;;
    esac
    deps=$(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | head -1)
    cp "$f" "$tmp/out/modules/$m.ko"
    for d in ${deps//,/ }; do add_module "$d"; done
    order+=("$m")
  }
  local m
  for m in "${want_modules[@]}"; do add_module "$m"; done
  printf '%s\n' "${order[@]}" >"$tmp/out/modules.order"
  echo "$kpkg $kver" >"$tmp/out/version"
  rm -rf "${kdir:?}"
  mv "$tmp/out" "$kdir"
  rm -rf "$tmp"
  # Keep only this version.
  local old
  for old in "$cache"/linux-image-*; do
    [ "$old" = "$kdir" ] || rm -rf "$old"
  done
}

exec 9>"$cache/.lock"
flock 9
if [ ! -s "$kdir/vmlinux" ] || [ ! -s "$kdir/modules.order" ]; then
  [ -n "$kver" ] || die "cache entry $kdir is incomplete"
  t0=$(date +%s)
  if build_cache; then
    note "kernel cached in $kdir ($(( $(date +%s) - t0 )) s)"
  else
    # Offline with newer package lists than the cache: use what is cached.
    key=$(cd "$cache" && ls -d linux-image-*/ 2>/dev/null | sed 's,/$,,' |
          sort -V | tail -1 || true)
    [ -n "$key" ] || die "cannot fetch the kernel and nothing is cached in $cache"
    kdir=$cache/$key
    note "using the cached $key instead"
  fi
fi
flock -u 9
exec 9>&-

# ---- the command -----------------------------------------------------------
cmd=("$@")
if [[ ${cmd[0]} != */* ]]; then
  p=$(type -P "${cmd[0]}") || die "${cmd[0]}: not found"
  cmd[0]=$p
fi
[ -x "${cmd[0]}" ] || die "${cmd[0]}: not an executable file"
cwd=$(pwd -P)

# ---- initramfs -------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-qemu.XXXXXX")
qemu_pid=
cleanup() {
  if [ -n "$qemu_pid" ]; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ird=$work/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,lower,rw,newroot,modules,sq}
cp "$busybox" "$ird/bin/busybox"
cp "$kdir"/modules/*.ko "$kdir/modules.order" "$ird/modules/"
cp "$busybox" "$ird/sq/busybox"

# Read by the guest's bash (the host's, through the share): the command, its
# directory and environment, quoted by this bash's printf %q.
{
  printf 'cmd=('; printf '%q ' "${cmd[@]}"; printf ')\n'
  printf 'cwd=%q\n' "$cwd"
  printf 'cg=%q\n' "$cg"
  while IFS= read -r v; do
    case $v in SANDBOX_QEMU_*) continue ;; esac
    printf 'export %s=%q\n' "$v" "${!v}"
  done < <(compgen -e | grep -E '^(GTEST_|SANDBOX_)' || true)
} >"$ird/sq/command"

cat >"$ird/sq/stage2" <<'EOF'
# Runs as PID 1 after switch_root, under the host's bash.
bb=/run/sandbox-qemu/busybox
. /run/sandbox-qemu/command
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
unset TERM
$bb hostname sandbox-qemu
$bb ip link set lo up 2>/dev/null
rc=
if ! cd "$cwd"; then
  echo "sandbox-qemu: cannot cd to $cwd in the guest"
  rc=126
else
  (
    if [ -n "$cg" ]; then
      echo "$BASHPID" >"/sys/fs/cgroup/$cg/cgroup.procs" || exit 125
    fi
    exec "${cmd[@]}"
  ) </dev/null
  rc=$?
fi
echo "SANDBOX-GUEST-EXIT=$rc"
$bb poweroff -f
echo o >/proc/sysrq-trigger
sleep 10
EOF

cat >"$ird/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() {
  echo "sandbox-qemu: init: $*"
  echo "SANDBOX-GUEST-INIT-FAILED"
  poweroff -f
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/modules.order); do
  insmod "/modules/$m.ko" || fail "insmod $m failed"
done
# virtio-9p-pci binds asynchronously: wait for the mount tag.
i=0
until mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose \
    hostroot /lower 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 100 ] || fail "cannot mount the host's root over 9p"
  sleep 0.05
done
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
if mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
    overlay /newroot; then
  overlay=1
else
  echo "sandbox-qemu: init: overlayfs failed; read-only root, tmpfs /tmp"
  mount --move /lower /newroot || fail "mount --move failed"
  overlay=0
  mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp || fail "mount /tmp failed"
fi
mount --move /proc /newroot/proc || fail "move /proc"
mount --move /sys /newroot/sys || fail "move /sys"
mount --move /dev /newroot/dev || fail "move /dev"
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=755 tmpfs /newroot/run || fail "mount /run"
mkdir -p /newroot/run/sandbox-qemu
cp /sq/* /newroot/run/sandbox-qemu/
mount -t cgroup2 -o nsdelegate cgroup2 /newroot/sys/fs/cgroup ||
  fail "mount cgroup2"
echo "+memory +pids +cpu" >/newroot/sys/fs/cgroup/cgroup.subtree_control ||
  fail "enabling memory, pids, cpu in the root cgroup"
cg=$(cat /sq/cgroup)
if [ -n "$cg" ]; then
  mkdir -p "/newroot/sys/fs/cgroup/$cg" || fail "mkdir cgroup $cg"
fi
bash=$(cat /sq/bash)
exec switch_root /newroot "$bash" /run/sandbox-qemu/stage2
EOF
chmod +x "$ird/init"
echo "$BASH" >"$ird/sq/bash"
printf '%s\n' "$cg" >"$ird/sq/cgroup"
[[ $BASH == /* ]] || die "cannot tell this bash's path"

(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) \
  >"$work/initramfs.cpio"

# ---- boot -------------------------------------------------------------------
append="console=ttyS0 panic=-1 cgroup_no_v1=all rdinit=/init"
append+=" mitigations=off 8250.nr_uarts=1 random.trust_cpu=on"
if [ "$verbose" = 1 ]; then append+=" loglevel=7"; else append+=" quiet loglevel=1"; fi

log=$work/console.log
note "booting $key (timeout ${timeout_s}s): ${cmd[*]}"
start=$(date +%s.%N)
# The console goes through a fifo to a filter (CRLF, the power-off line) and
# tee, so that qemu runs as a background job a signal trap can stop.
mkfifo "$work/console"
if [ "$verbose" = 1 ]; then
  filter=(sed -u 's/\r$//')
else
  filter=(sed -u -e 's/\r$//' -e '/^\[ *[0-9.]*\] reboot: Power down$/d')
fi
"${filter[@]}" <"$work/console" | tee "$log" &
filter_pid=$!
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
    -accel tcg -cpu max -m "$mem" -smp "$smp" \
    -nodefaults -no-user-config -display none -monitor none \
    -serial stdio -no-reboot \
    -kernel "$kdir/vmlinux" -initrd "$work/initramfs.cpio" -append "$append" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    </dev/null >"$work/console" 2>&1 &
qemu_pid=$!  # timeout's: it passes signals on to qemu
set +e
wait "$qemu_pid"
qrc=$?
qemu_pid=
wait "$filter_pid"
set -e
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

marker=$(grep -a '^SANDBOX-GUEST-EXIT=[0-9]*$' "$log" | tail -1 || true)
if [ -n "$marker" ]; then
  rc=${marker#SANDBOX-GUEST-EXIT=}
  note "guest exited after ${elapsed}s; command status $rc"
  exit "$rc"
fi
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
  note "FAILED: timed out after ${timeout_s}s with no exit status from the guest"
elif grep -aq 'Kernel panic' "$log"; then
  note "FAILED: the guest kernel panicked (${elapsed}s); no exit status"
elif grep -aq SANDBOX-GUEST-INIT-FAILED "$log"; then
  note "FAILED: the guest's init could not set up (see above)"
else
  note "FAILED: qemu exited with status $qrc after ${elapsed}s without the" \
       "guest reporting the command's exit status"
fi
exit 1
