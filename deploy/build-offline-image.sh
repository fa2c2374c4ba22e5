#!/usr/bin/env bash
# Builds the twinme image with podman (or docker) without a registry:
# a static binary from the host's Go toolchain on an empty (scratch) base,
# with the host's CA certificates and tzdata and a non-root user (65532).
#   deploy/build-offline-image.sh [tag]      # default localhost/twinme:offline
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-localhost/twinme:offline}"
engine="$(command -v podman || command -v docker)"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
root="$ctx/rootfs"
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/usr/share" "$root/tmp" "$ctx/data"
touch "$ctx/data/.keep"
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$root/usr/local/bin/twinme" .
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
cp -r /usr/share/zoneinfo "$root/usr/share/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/data:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
cp deploy/Containerfile.prebuilt "$ctx/Containerfile"
"$engine" build -t "$tag" -f "$ctx/Containerfile" "$ctx"
echo "built $tag"
