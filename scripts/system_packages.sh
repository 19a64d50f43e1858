#!/usr/bin/env bash
# The Debian 12 packages a README command needs, installed only when missing.
#
#   bash scripts/system_packages.sh build   # Python 3.11 with venv, Node.js and npm
#   bash scripts/system_packages.sh test    # the above, and Chromium for the browser tests
#   bash scripts/system_packages.sh pdf     # Python 3.11, TeX Live and poppler for the PDF
#   bash scripts/system_packages.sh all     # everything .ci/run needs
#   bash scripts/system_packages.sh test --list   # the packages it checks, one a line
#
# Python, Node.js and npm may come from elsewhere (pyenv, nvm): any that
# provides the command will do. Everything else must be Debian's package.
# When nothing is missing this prints one line and installs nothing; otherwise
# it runs `apt-get update` and `apt-get install` (with sudo unless run as root).
set -euo pipefail

what="${1:-}"
list="${2:-}"
case "$what" in
  build|test|pdf|all) ;;
  *) echo "usage: bash scripts/system_packages.sh build|test|pdf|all (got '${what}')" >&2; exit 2 ;;
esac

checked=()
missing=()
need_command() {  # need_command PACKAGE COMMAND
  checked+=("$1")
  command -v "$2" >/dev/null 2>&1 || missing+=("$1")
}
need_package() {  # need_package PACKAGE
  checked+=("$1")
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" || missing+=("$1")
}

python_packages() {
  need_command python3.11 python3.11
  checked+=(python3.11-venv)
  python3.11 -c "import ensurepip" >/dev/null 2>&1 || missing+=(python3.11-venv)
}
node_packages() {
  need_command nodejs node
  need_command npm npm
}
browser_packages() {
  need_package chromium                  # tests/test_site_browser.py drives it headless
}
pdf_packages() {
  need_command make make                 # jupyter-book runs `make all-pdf` (scripts/latex/GNUmakefile)
  for package in texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
                 texlive-xetex latexmk fonts-freefont-otf fonts-dejavu-core fonts-dejavu-extra \
                 poppler-utils; do      # poppler: scripts/check_pdf.py reads the PDF
    need_package "$package"
  done
}

python_packages
case "$what" in
  build) node_packages ;;
  test)  node_packages; browser_packages ;;
  pdf)   pdf_packages ;;
  all)   node_packages; browser_packages; pdf_packages; need_command git git ;;
esac

if [ "$list" = "--list" ]; then
  printf '%s\n' "${checked[@]}"
  exit 0
fi
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages for '$what': all present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "This script installs them with apt-get (Debian 12); install them with your system's package manager." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing system packages for '$what': ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
