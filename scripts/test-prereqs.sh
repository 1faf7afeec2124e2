#!/usr/bin/env bash
# Makes sure a Debian machine has what Sallyport's tests need: OpenSSH (the harness runs its own
# private sshd), Chromium (browser tests), and Redis and
# PostgreSQL answering on 127.0.0.1. Idempotent; when everything is there it only checks.
set -euo pipefail

# command to look for -> Debian package that provides it
declare -A PACKAGES=(
  [/usr/sbin/sshd]=openssh-server
  [ssh-keygen]=openssh-client
  [/usr/bin/chromium]=chromium
  [less]=less
)

missing=()
for cmd in "${!PACKAGES[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PACKAGES[$cmd]}")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test-prereqs: missing packages: ${missing[*]} (run as root, or: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "test-prereqs: installing ${missing[*]}"
  # The tests run their own sshd; the package's system service must not start. invoke-rc.d
  # asks policy-rc.d, and exit code 101 means "do not start". Only add one if none exists.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]
  else
    timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379 && printf "PING\r\n" >&3 && read -r r <&3 && [[ $r == +PONG* ]]' 2>/dev/null
  fi
}

postgres_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    timeout 2 bash -c ': >/dev/tcp/127.0.0.1/5432' 2>/dev/null
  fi
}

# wait_for NAME CHECK: polls CHECK for up to 30 seconds.
wait_for() {
  local name=$1 check=$2
  for _ in $(seq 1 60); do
    "$check" && return 0
    sleep 0.5
  done
  echo "test-prereqs: $name does not answer on 127.0.0.1 after 30 s" >&2
  exit 1
}

if ! redis_up; then
  echo "test-prereqs: starting Redis"
  command -v redis-server >/dev/null || { echo "test-prereqs: redis-server is not installed" >&2; exit 1; }
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis_up
fi

if ! postgres_up; then
  echo "test-prereqs: starting PostgreSQL"
  # shellcheck disable=SC2046 # one cluster version directory, e.g. 15
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
  wait_for PostgreSQL postgres_up
fi
