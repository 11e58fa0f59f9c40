#!/usr/bin/env bash
# Installs PostgreSQL 15 with pgvector >= 0.7 (sparsevec) from Debian packages, starts a local
# cluster on 127.0.0.1 and prints its connection URL on stdout (everything else goes to stderr).
#
#   bash .ci/postgres.sh          install if needed, start, print the URL
#   bash .ci/postgres.sh stop     stop the cluster this script started
#
# Environment: SPLADE_PG_CLUSTER/_DB/_USER/_PASSWORD, SPLADE_PG_URL_FILE, SPLADE_PGVECTOR_SUITE
# (Debian release whose pgvector source is built, default trixie), SPLADE_PGVECTOR_FORCE_BUILD=1
# (rebuild pgvector even when a new enough one is installed).
#
# Idempotent: every step checks before it acts. Must run as root (CI does).
# The URL is also written to $SPLADE_PG_URL_FILE (default /tmp/splade-test-pg.url), which the
# tests read when SPLADE_TEST_PG is not set.
#
# Why a source build: Debian 12 (bookworm) ships no pgvector for PostgreSQL 15 with sparsevec
# (added in pgvector 0.7), so the script fetches Debian's own pgvector source package from a newer
# release (deb-src only, no binary from that release is installed) and builds it against
# PostgreSQL 15's pg_config.
set -euo pipefail

PG_MAJOR=15
CLUSTER=${SPLADE_PG_CLUSTER:-splade}
DB=${SPLADE_PG_DB:-splade}
DB_USER=${SPLADE_PG_USER:-splade}
DB_PASS=${SPLADE_PG_PASSWORD:-splade}
URL_FILE=${SPLADE_PG_URL_FILE:-/tmp/splade-test-pg.url}
SRC_SUITE=${SPLADE_PGVECTOR_SUITE:-trixie}
BUILD_DIR=${SPLADE_PGVECTOR_BUILD_DIR:-/var/tmp/splade-pgvector-build}
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
EXT_DIR=/usr/share/postgresql/$PG_MAJOR/extension

log() { echo "[postgres.sh] $*" >&2; }
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (installs packages and manages a cluster)"; exit 1
fi

if [ "${1:-}" = "stop" ]; then
  if pg_lsclusters -h 2>/dev/null | awk '{print $1, $2, $4}' | grep -q "^$PG_MAJOR $CLUSTER online"; then
    pg_ctlcluster "$PG_MAJOR" "$CLUSTER" stop >&2
    log "stopped cluster $PG_MAJOR/$CLUSTER"
  else
    log "cluster $PG_MAJOR/$CLUSTER is not running"
  fi
  exit 0
fi

# pgvector's default_version from its control file, empty when absent.
pgvector_version() {
  sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$EXT_DIR/vector.control" 2>/dev/null || true
}

# True when version $1 >= $2 (dpkg ordering).
version_ge() { dpkg --compare-versions "$1" ge "$2"; }

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq >&2
    apt_updated=1
  fi
}

# 1. PostgreSQL 15 server and build dependencies.
need=()
for p in postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR build-essential dpkg-dev; do
  # postgresql-server-dev must match the installed server's minor version, so both are
  # (re)installed together whenever either is missing.
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt_update_once
  log "apt-get install ${need[*]} (with postgresql-$PG_MAJOR kept at the same version)"
  apt-get install -y -qq --no-install-recommends postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR \
    postgresql-contrib build-essential dpkg-dev >&2
fi

# 2. pgvector >= 0.7 built from Debian's source package of a newer release.
current=$(pgvector_version)
if [ -n "$current" ] && version_ge "$current" 0.7.0 && [ "${SPLADE_PGVECTOR_FORCE_BUILD:-0}" != "1" ]; then
  log "pgvector $current already installed for PostgreSQL $PG_MAJOR"
else
  src_list=/etc/apt/sources.list.d/splade-pgvector-src.sources
  if [ ! -f "$src_list" ]; then
    log "adding deb-src entry for $SRC_SUITE ($src_list)"
    cat > "$src_list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $SRC_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_updated=0
  fi
  apt_update_once
  rm -rf "$BUILD_DIR" && mkdir -p "$BUILD_DIR"
  # apt downloads as the unprivileged _apt user when it may write the folder.
  chown _apt:root "$BUILD_DIR" 2>/dev/null || true
  log "apt-get source pgvector (from $SRC_SUITE)"
  (cd "$BUILD_DIR" && apt-get source -qq "pgvector/$SRC_SUITE" >&2)
  src=$(find "$BUILD_DIR" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  if [ -z "$src" ]; then log "no pgvector source tree under $BUILD_DIR"; exit 1; fi
  log "building $(basename "$src") against $PG_BIN/pg_config"
  # OPTFLAGS empty: portable code (the upstream default is -march=native).
  make -C "$src" -s PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" >&2
  make -C "$src" -s PG_CONFIG="$PG_BIN/pg_config" install >&2
  current=$(pgvector_version)
  if [ -z "$current" ] || ! version_ge "$current" 0.7.0; then
    log "pgvector build installed version '$current', need >= 0.7.0"; exit 1
  fi
  log "pgvector $current installed"
fi

# 3. A dedicated cluster on 127.0.0.1 (the first free port from 5432 up, chosen once at creation).
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -q "^$PG_MAJOR $CLUSTER$"; then
  port=5432
  while pg_lsclusters -h | awk '{print $3}' | grep -qx "$port" || \
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  log "creating cluster $PG_MAJOR/$CLUSTER on port $port"
  pg_createcluster "$PG_MAJOR" "$CLUSTER" --port="$port" \
    -- --auth-host=scram-sha-256 --auth-local=peer >&2
  # Debian's postgresql.conf includes conf.d/; settings for a throwaway test and benchmark server
  # (durability traded for load speed: fsync off).
  cat > "/etc/postgresql/$PG_MAJOR/$CLUSTER/conf.d/splade.conf" <<CONF
listen_addresses = '127.0.0.1'
shared_buffers = 512MB
maintenance_work_mem = 1GB
max_wal_size = 4GB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
fi
port=$(pg_lsclusters -h | awk -v v="$PG_MAJOR" -v c="$CLUSTER" '$1==v && $2==c {print $3}')
if ! pg_lsclusters -h | awk '{print $1, $2, $4}' | grep -q "^$PG_MAJOR $CLUSTER online"; then
  log "starting cluster $PG_MAJOR/$CLUSTER"
  pg_ctlcluster "$PG_MAJOR" "$CLUSTER" start >&2
fi
for _ in $(seq 1 30); do
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
"$PG_BIN/pg_isready" -h 127.0.0.1 -p "$port" >&2

# 4. Role, database (owned by the role, so it may create tables) and the extension.
psql_admin() { PGOPTIONS='-c client_min_messages=warning' runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != "1" ]; then
  psql_admin -c "CREATE ROLE \"$DB_USER\" LOGIN PASSWORD '$DB_PASS'" >&2
fi
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE \"$DB\" OWNER \"$DB_USER\"" >&2
fi
psql_admin -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS vector" >&2
psql_admin -d "$DB" -c "ALTER EXTENSION vector UPDATE" >&2
log "vector extension: $(psql_admin -d "$DB" -tAc "SELECT extversion FROM pg_extension WHERE extname = 'vector'")"

url="postgres://$DB_USER:$DB_PASS@127.0.0.1:$port/$DB"
printf '%s\n' "$url" > "$URL_FILE"
chmod 0644 "$URL_FILE"
log "connection URL written to $URL_FILE (export SPLADE_TEST_PG to override)"
echo "$url"
