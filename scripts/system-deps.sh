#!/usr/bin/env bash
# The system programs some tests need, from Debian's packages: OpenSSH's server (`cnn-edge deploy`
# is tested against a real sshd on 127.0.0.1) and Chromium (the live page's browser test).
# As root with apt-get they are installed (about 20-30 s, once); otherwise one line says which
# tests will be skipped and the command that installs what they need. Sourced by scripts/test.sh
# and .ci/run; sets CNN_EDGE_REQUIRE_SSHD=1 when sshd is there, so a broken sshd fails the deploy
# tests instead of skipping them.
missing() {
    local packages=()
    command -v chromium >/dev/null 2>&1 || packages+=(chromium)
    [ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || packages+=(openssh-server)
    echo "${packages[@]}"
}
need="$(missing)"
if [ -n "$need" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing $need (Debian) for the deploy and browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null) \
        || echo "== $need could not be installed"
    need="$(missing)"
fi
if [ -n "$need" ]; then
    skipped=""
    case " $need " in *" openssh-server "*) skipped="the deploy tests (no sshd)" ;; esac
    case " $need " in *" chromium "*) skipped="${skipped:+$skipped and }the live page's browser test (no chromium)" ;; esac
    echo "== will skip $skipped: install with 'sudo apt-get install $need'"
else
    export CNN_EDGE_REQUIRE_SSHD=1
fi
