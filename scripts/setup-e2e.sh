#!/usr/bin/env bash
# Installs what the browser and VS Code tests need, offline-friendly (see shared/VSCODE-E2E.md):
# Debian's Chromium for Playwright, and code-server 4.100.3 (VS Code 1.100.3) in its own folder.
# Run as root. Idempotent: skips what is already there.
set -euo pipefail
CODE_SERVER_DIR="${CODE_SERVER_DIR:-/opt/mptcp-lens-e2e/code-server}"
export DEBIAN_FRONTEND=noninteractive

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
if [ ! -x "$CODE_SERVER_DIR/node_modules/.bin/code-server" ]; then
  for p in build-essential python3 libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev ripgrep; do
    dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
  done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$CODE_SERVER_DIR/node_modules/.bin/code-server" ]; then
  # @vscode/ripgrep downloads ripgrep unless its cache holds the tarball: give it Debian's rg.
  tmp="${TMPDIR:-/tmp}"
  cache="$tmp/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$cache"
  if [ ! -f "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
    d=$(mktemp -d); cp /usr/bin/rg "$d/rg"
    tar -C "$d" -czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg
    rm -rf "$d"
  fi
  mkdir -p "$CODE_SERVER_DIR"
  cd "$CODE_SERVER_DIR"
  # npm 11 runs a dependency's install scripts only when allowed: code-server's postinstall sets up VS Code.
  echo '{"name":"mptcp-lens-e2e-code-server","private":true,"allowScripts":{"code-server":true,"argon2":true,"@vscode/ripgrep":true,"node-pty":true,"kerberos":true,"@parcel/watcher":true,"native-watchdog":true,"@vscode/spdlog":true,"@vscode/sqlite3":true}}' > package.json
  npm_config_nodedir=/usr npm_config_yes=true npm install --unsafe-perm --no-audit --no-fund code-server@4.100.3 >/dev/null
fi
echo "e2e setup: chromium $(chromium --version 2>/dev/null | awk '{print $2}'), code-server in $CODE_SERVER_DIR"
