#!/usr/bin/env bash
# Installs what the test suite needs, lints (npm run lint), builds Lading, and runs every test.
# System packages: Debian's docker-registry (a real OCI registry), mmdebstrap (a real Debian root
# filesystem for the end-to-end SBOM test), rpm and db5.3-util (real rpm databases), openssl (TLS tests),
# postgresql (the vulnerability database on PostgreSQL; tests start throwaway servers on 127.0.0.1),
# chromium (the web UI's end-to-end tests drive it headless through playwright-core), libxml2-utils
# (xmllint checks CycloneDX XML against the official XSD).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v openssl >/dev/null || need+=(openssl)
[ -x /usr/bin/mmdebstrap ] || need+=(mmdebstrap)
[ -x /usr/bin/rpmbuild ] || need+=(rpm)
[ -x /usr/bin/db5.3_load ] || need+=(db5.3-util)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v xmllint >/dev/null || need+=(libxml2-utils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test.sh: warning: ${need[*]} missing and cannot be installed here (not root or no apt-get); tests that need them are skipped" >&2
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent lint
npm run --silent build

dirs=(src); for d in ui deploy; do [ -d "$d" ] && dirs+=("$d"); done
mapfile -t files < <(find "${dirs[@]}" -name '*.test.ts' -not -path '*/node_modules/*' | LC_ALL=C sort)
exec node --import tsx --test --test-reporter=spec "${files[@]}"
