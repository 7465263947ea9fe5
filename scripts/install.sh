#!/usr/bin/env bash
# Installs xnet for builds outside Bazel:
#   PREFIX/lib/libxnet.a, libxnet.so (+ .so.0, .so.0.1)   the library (//:xnet)
#   PREFIX/include/xnet/...                              its headers, included as
#                                                        "stack/api/udp_socket.h" etc.
#   PREFIX/lib/pkgconfig/xnet.pc                         pkg-config --cflags --libs xnet
#   PREFIX/bin/xnet                                      the command
#   PREFIX/share/xnet/install_manifest.txt               every file above
# Nothing is written outside PREFIX (default /usr/local); scripts/install.sh
# --uninstall PREFIX removes what the manifest lists.
#
#   scripts/install.sh /opt/xnet
#   c++ -std=c++20 my_service.cc $(PKG_CONFIG_PATH=/opt/xnet/lib/pkgconfig pkg-config --cflags --libs xnet)
set -euo pipefail
usage() { echo "usage: scripts/install.sh [PREFIX]   |   scripts/install.sh --uninstall PREFIX" >&2; exit 2; }
[[ "${1:-}" == -h || "${1:-}" == --help ]] && { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
if [[ "${1:-}" == --uninstall ]]; then
  [[ $# -eq 2 ]] || usage
  manifest="$2/share/xnet/install_manifest.txt"
  [[ -f "$manifest" ]] || { echo "install.sh: no xnet installed in $2 ($manifest missing)" >&2; exit 1; }
  xargs -d '\n' rm -f <"$manifest"
  rm -f "$manifest"
  # Directories we made, now empty (deepest first); never the prefix itself.
  find "$2/include/xnet" "$2/share/xnet" -depth -type d -empty -delete 2>/dev/null || true
  exit 0
fi
[[ $# -le 1 ]] || usage
prefix="${1:-/usr/local}"
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

# Every library //:xnet is made of, as position-independent archives (one
# static library and one shared library are made from the same objects).
mapfile -t libs < <(bazel query --noshow_progress 'kind("cc_library", deps(//:xnet)) except //third_party/... except //:xnet' 2>/dev/null | grep '^//')
bazel build -c opt --force_pic "${libs[@]}" //tools:xnet
bin="$(bazel info -c opt --force_pic bazel-bin 2>/dev/null)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
archives=()
for l in "${libs[@]}"; do
  pkg="${l#//}"; pkg="${pkg%%:*}"; name="${l##*:}"
  # --force_pic: lib<name>.a holds PIC objects (some versions name it .pic.a).
  for a in "$bin/$pkg/lib$name.pic.a" "$bin/$pkg/lib$name.a"; do
    if [[ -f "$a" ]]; then
      archives+=("$a")
      break
    fi
  done  # header-only libraries have none
done
{ echo "CREATE $work/libxnet.a"; for a in "${archives[@]}"; do echo "ADDLIB $a"; done; echo SAVE; echo END; } | ar -M
sys_libs="$(pkg-config --libs libxdp libbpf liburing fmt libpcap libmnl) -lelf -lz -lpthread"
# shellcheck disable=SC2086
c++ -shared -o "$work/libxnet.so.0.1" -Wl,-soname,libxnet.so.0 \
  -Wl,--whole-archive "$work/libxnet.a" -Wl,--no-whole-archive $sys_libs

installed=()
put() {  # put SOURCE DEST [MODE]
  install -D -m "${3:-644}" "$1" "$2"
  installed+=("$2")
}
put "$work/libxnet.a" "$prefix/lib/libxnet.a"
put "$work/libxnet.so.0.1" "$prefix/lib/libxnet.so.0.1" 755
ln -sf libxnet.so.0.1 "$prefix/lib/libxnet.so.0" && installed+=("$prefix/lib/libxnet.so.0")
ln -sf libxnet.so.0 "$prefix/lib/libxnet.so" && installed+=("$prefix/lib/libxnet.so")
put "$bin/tools/xnet" "$prefix/bin/xnet" 755

# Headers: the hdrs of every library, at their paths in the tree (generated
# ones from bazel-bin).
while read -r h; do
  rel="${h#//}"; rel="${rel/://}"; rel="${rel#/}"
  src="$root/$rel"
  [[ -f "$src" ]] || src="$bin/$rel"
  put "$src" "$prefix/include/xnet/$rel"
done < <(bazel query --noshow_progress "labels(hdrs, set(${libs[*]}))" 2>/dev/null)

mkdir -p "$work/pc"
cat >"$work/pc/xnet.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include/xnet

Name: xnet
Description: userspace UDP/IPv4 over AF_XDP, with a C++20 coroutine socket API
Version: 0.1.0
Requires.private: libxdp libbpf liburing fmt libpcap libmnl
Libs: -L\${libdir} -lxnet
Libs.private: -lelf -lz -lpthread
Cflags: -I\${includedir}
PC
put "$work/pc/xnet.pc" "$prefix/lib/pkgconfig/xnet.pc"

mkdir -p "$prefix/share/xnet"
printf '%s\n' "${installed[@]}" >"$prefix/share/xnet/install_manifest.txt"
echo "xnet installed in $prefix (${#installed[@]} files; scripts/install.sh --uninstall $prefix removes them)"
