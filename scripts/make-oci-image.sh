#!/usr/bin/env bash
# Writes an OCI image archive (for `ctr images import`) of wasm programs, as a plain image: one
# tar layer that holds each FILE at /<its base name>, the first one as the entry point.
#
#   scripts/make-oci-image.sh OUT.tar NAME FILE.wasm [FILE...]
#   e.g. scripts/make-oci-image.sh echo.tar docker.io/library/wasock-echo:test server.wasm client.wasm
#
# A plain image unpacks on any containerd (an image of wasm layers, as runwasi's oci-tar-builder
# writes, needs containerd >= 1.6.25 or 1.7.7). The config names the host's OS and architecture,
# as any image for the node does; the shim sees a .wasm entry point and runs it on wasock.
# Only sha256sum, tar and printf: no registry, no network.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 OUT.tar NAME FILE.wasm [FILE...]   (NAME as in docker.io/library/app:tag)" >&2
  exit 2
fi
out=$1 name=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root" "$work/image/blobs/sha256"
chmod 0755 "$work/root"  # the rootfs's / (mktemp made it 0700)
for f in "$@"; do
  [ -f "$f" ] || { echo "$0: $f is not a file" >&2; exit 1; }
  install -m 0644 "$f" "$work/root/$(basename "$f")"
done
entry=/$(basename "$1")

# blob FILE: stores FILE under its digest and prints "DIGEST SIZE".
blob() {
  local digest
  digest=$(sha256sum "$1" | cut -d' ' -f1)
  cp "$1" "$work/image/blobs/sha256/$digest"
  echo "$digest $(stat -c %s "$1")"
}
# Reproducible layer: fixed owner, mode and time.
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work/root" -cf "$work/layer.tar" .
read -r layer layer_size < <(blob "$work/layer.tar")
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["%s"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$arch" "$entry" "$layer" >"$work/config.json"
read -r config config_size < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
read -r manifest manifest_size < <(blob "$work/manifest.json")
# containerd names the imported image after io.containerd.image.name.
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$name" "${name##*:}" >"$work/image/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/image/oci-layout"
tar --numeric-owner --owner=0 --group=0 -C "$work/image" -cf "$out" oci-layout index.json blobs
