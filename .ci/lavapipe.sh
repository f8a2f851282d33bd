#!/usr/bin/env bash
# Mesa's software Vulkan driver (lavapipe), new enough for Dawn, for the webgpu suite on machines
# without a GPU. Debian 12's own Mesa (22.3) is refused by Dawn (it lacks
# shaderUniform*ArrayDynamicIndexing); bookworm-backports has Mesa 25. The backports suite is read
# from this machine's own apt sources (its first entry for the release, with the suite renamed),
# into a private apt state, so no host is written here and the system's Mesa is left as it is.
# The package is unpacked under $GANSTUDIO_CACHE (default ~/.cache/gan-studio)/lavapipe.
# Prints the ICD file to point VK_DRIVER_FILES at; exits non-zero with one line if it cannot.
set -euo pipefail
dest="${GANSTUDIO_CACHE:-$HOME/.cache/gan-studio}/lavapipe"
icd="$dest/lvp_icd.json"
if [ -f "$icd" ]; then
  echo "$icd"
  exit 0
fi
. /etc/os-release
codename="${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial"
sources=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -n "$sources" ]; then
  # deb822: the first stanza whose Suites name the release itself, with the suite renamed.
  awk -v want="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
    $0 ~ ("Suites:[^\n]*[ \t]" want "([ \t\n]|$)") {
      gsub(/Suites:[^\n]*/, "Suites: " want "-backports"); print; exit }' \
    $sources > "$work/parts/backports.sources"
else
  # One-line format: the first "deb URI <release> …" line, with the suite renamed.
  awk -v want="$codename" '$1 == "deb" && $3 == want { $3 = want "-backports"; print; exit }' \
    /etc/apt/sources.list > "$work/parts/backports.list"
fi
if [ ! -s "$work/parts/backports.sources" ] && [ ! -s "$work/parts/backports.list" ]; then
  echo "error: no apt source for $codename to derive $codename-backports from" >&2
  exit 1
fi
apt_private=(-o Dir::Etc::SourceParts="$work/parts" -o Dir::Etc::SourceList=/dev/null
  -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root)
apt-get -q "${apt_private[@]}" update >/dev/null
(cd "$work" && apt-get -q "${apt_private[@]}" download mesa-vulkan-drivers >/dev/null)
deb=$(ls "$work"/mesa-vulkan-drivers_*.deb)
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest/root"
lib=$(find "$dest/root" -name libvulkan_lvp.so | head -n 1)
if [ -z "$lib" ]; then
  echo "error: $(basename "$deb") holds no libvulkan_lvp.so" >&2
  exit 1
fi
printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" > "$icd"
echo "$icd"
