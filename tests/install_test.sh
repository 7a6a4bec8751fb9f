#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a small
# project that finds it with find_package(sandbox), and the installed
# sandbox-run with its installed default policy. A second argument names
# the sanitizers the build has (SANDBOX_SANITIZE): the consumer links their
# runtimes too.
set -euo pipefail
build=$1
sanitize=${2:-}
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sandbox-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

cmake --install "$build" --prefix "$work/prefix" >/dev/null
# The schemas a user writes policies and reads Results against.
for f in policy.proto result.proto; do
  test -f "$work/prefix/include/sandbox/$f" || { echo "not installed: $f"; exit 1; }
done
# Only the public headers, each whole on its own: none may need one that is
# not installed.
if [ -e "$work/prefix/include/sandbox/internal" ]; then
  echo "internal headers installed" >&2
  exit 1
fi
for header in "$work/prefix/include/sandbox/"*.h; do
  echo "#include \"sandbox/$(basename "$header")\"" |
    c++ -std=c++17 -fsyntax-only -I"$work/prefix/include" -x c++ - ||
    { echo "installed $(basename "$header") does not compile alone" >&2; exit 1; }
done
consumer_flags=()
if [ -n "$sanitize" ]; then
  consumer_flags=(-DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitize")
fi
cmake -S "$src/install_consumer" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$work/prefix" "${consumer_flags[@]}" >/dev/null
cmake --build "$work/consumer" -j2 >/dev/null
"$work/consumer/consumer" "$work/prefix/share/sandbox/policies/default.textproto"
if [ "$(id -u)" -eq 0 ]; then
  # The same installed library used by an unprivileged host.
  chmod -R a+rX "$work"
  (cd /tmp && setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$work/consumer/consumer" "$work/prefix/share/sandbox/policies/default.textproto")
fi

status=0
"$work/prefix/bin/sandbox-run" -- /bin/sh -c 'exit 5' || status=$?
if [ "$status" -ne 5 ]; then
  echo "installed sandbox-run: expected exit 5, got $status" >&2
  exit 1
fi
echo "installed sandbox-run found its default policy"
