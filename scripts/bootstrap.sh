# Sourced by scripts/test and scripts/demo: installs what a fresh Linux machine lacks.
# - system libraries Qt needs (apt-get, as root or through sudo), fonts, poppler-utils
# - uv (through pip), then the project's locked environment (.venv)
# Set ORDERDESK_SKIP_APT=1 to skip the system-package step.
set -euo pipefail
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-1}"
export UV_LINK_MODE="${UV_LINK_MODE:-copy}"

_od_pkgs="python3-venv libgl1 libegl1 libfontconfig1 fonts-dejavu-core fonts-noto-core fonts-noto-cjk \
libdbus-1-3 libglib2.0-0 libxkbcommon0 poppler-utils ${ORDERDESK_EXTRA_PKGS:-}"
if [ -z "${ORDERDESK_SKIP_APT:-}" ] && command -v dpkg-query >/dev/null 2>&1; then
  _od_missing=""
  for _p in $_od_pkgs; do
    dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q "install ok installed" \
      || _od_missing="$_od_missing $_p"
  done
  if [ -n "$_od_missing" ]; then
    echo "orderdesk: installing system packages:$_od_missing" >&2
    _sudo=""; [ "$(id -u)" = 0 ] || _sudo="sudo"
    $_sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $_sudo apt-get install -y -qq --no-install-recommends \
      $_od_missing >/dev/null
  fi
fi

export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "orderdesk: installing uv" >&2
  # pip --user, else (a Debian system Python refuses: PEP 668) a private venv for uv
  python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet uv 2>/dev/null \
    || { python3 -m venv "$HOME/.local/share/orderdesk-uv" \
         && "$HOME/.local/share/orderdesk-uv/bin/pip" install --quiet uv \
         && mkdir -p "$HOME/.local/bin" \
         && ln -sf "$HOME/.local/share/orderdesk-uv/bin/uv" "$HOME/.local/bin/uv"; }
  command -v uv >/dev/null 2>&1 || { echo "orderdesk: could not install uv" >&2; exit 1; }
fi
uv sync --locked --quiet
