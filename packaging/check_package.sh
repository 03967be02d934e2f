#!/usr/bin/env bash
# Builds the Debian package in a GUI-enabled build directory and checks it: control fields and
# dependencies (dpkg-deb -I), contents (dpkg-deb -c: both binaries, the .desktop entry, the SVG
# icon, the AppStream metainfo), the desktop entry (desktop-file-validate) and metainfo
# (appstreamcli validate) as installed, and that apt could install it here (a simulation: nothing
# is installed). Not part of ctest: packaging needs the full GUI build.
#
# usage: packaging/check_package.sh [BUILD_DIR]   (default: build; must have TRANSCURA_BUILD_GUI=ON)
set -euo pipefail

build="${1:-build}"
if ! grep -q '^TRANSCURA_BUILD_GUI:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    echo "check_package.sh: $build is not a GUI-enabled build directory" >&2
    exit 2
fi
cmake --build "$build" -j"${JOBS:-2}"
(cd "$build" && cpack -G DEB >/dev/null)
deb="$(ls -t "$build"/transcura_*.deb | head -1)"
echo "package  $deb ($(du -h "$deb" | cut -f1))"
failures=0
fail() { echo "FAIL     $*"; failures=$((failures + 1)); }

dpkg-deb -I "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\|Section\|Installed-Size\):/  \1:/p'
depends="$(dpkg-deb -f "$deb" Depends)"
for needed in libqt6widgets6 libhdf5 libvtk9 libgl1; do
    grep -q "$needed" <<<"$depends" || fail "Depends lacks $needed"
done

contents="$(dpkg-deb -c "$deb" | awk '{print $NF}')"
for path in ./usr/bin/transcura ./usr/bin/transcura-cli \
            ./usr/share/applications/org.transcura.Transcura.desktop \
            ./usr/share/icons/hicolor/scalable/apps/org.transcura.Transcura.svg \
            ./usr/share/metainfo/org.transcura.Transcura.metainfo.xml; do
    grep -qx "$path" <<<"$contents" && echo "contains $path" || fail "missing $path"
done

unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$unpacked/usr/share/applications/org.transcura.Transcura.desktop" \
        && echo "desktop-file-validate: ok" || fail "desktop-file-validate"
else
    echo "skip     desktop-file-validate (apt-get install desktop-file-utils)"
fi
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$unpacked/usr/share/metainfo/org.transcura.Transcura.metainfo.xml" \
        || fail "appstreamcli validate"
else
    echo "skip     appstreamcli (apt-get install appstream)"
fi
head -c 200 "$unpacked/usr/share/icons/hicolor/scalable/apps/org.transcura.Transcura.svg" | grep -q "<svg" \
    && echo "icon is SVG" || fail "icon is not SVG"
"$unpacked/usr/bin/transcura-cli" --version || fail "transcura-cli from the package does not run"

apt-get install --simulate -qq "$(realpath "$deb")" >/dev/null 2>&1 \
    && echo "apt-get install --simulate: ok (dependencies resolvable)" || fail "apt cannot install the package"

[[ $failures -eq 0 ]] && echo "package checks passed" || { echo "$failures package check(s) failed"; exit 1; }
