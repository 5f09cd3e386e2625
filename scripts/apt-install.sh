#!/usr/bin/env bash
# apt_install PKG...: install Debian packages quietly, as root or through sudo, where
# apt-get exists; does nothing elsewhere (the caller's check then says what is missing).
# Sourced by the ensure-*.sh scripts, which use it only as a fallback.
apt_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || return 0
        sudo=sudo
    fi
    command -v apt-get >/dev/null || return 0
    ($sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >/dev/null
}
