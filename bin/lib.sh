# Shared by bin/demo and bin/test: system packages, services and the virtualenv.
# Sourced, not run.

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages: venv, WeasyPrint's Pango, CJK fonts (a sans face, and the Ming/Song and
# Kai faces a bulletin's masthead and body are set in), poppler's pdftotext, gettext, and
# the chromium that the browser tests drive through Playwright.
SYSTEM_PACKAGES=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
                 fonts-wqy-microhei fonts-arphic-uming fonts-arphic-ukai poppler-utils gettext chromium)

ensure_system_packages() {
  local missing=()
  for package in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "Installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

ensure_virtualenv() {
  local stamp="$VENV/.requirements.sha256"
  local want
  want=$(sha256sum requirements.txt | cut -d' ' -f1)
  [ -x "$PY" ] || { say "Creating the virtualenv"; python3 -m venv "$VENV"; }
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "Installing Python requirements"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
    echo "$want" >"$stamp"
  fi
}

# PostgreSQL and Redis as the production shape has them; started if they are down.
ensure_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    say "Starting PostgreSQL"
    if ! command -v pg_ctlcluster >/dev/null; then
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
}

ensure_redis() {
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "Starting Redis"
    command -v redis-server >/dev/null || \
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/duban.log
    for _ in $(seq 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 1; done
  fi
}
