#!/bin/sh
# Installs the Debian/Ubuntu packages autonomy needs for a job, or says how.
#   scripts/deps.sh build   libraries and tools to compile
#   scripts/deps.sh demo    build + what the lab and the dashboard use
#   scripts/deps.sh test    build + lab + dashboard + what the tests use
#   scripts/deps.sh musl    build + what make musl needs (scripts/musl.sh)
# As root on a system with apt-get, missing packages are installed; otherwise the
# exact command is printed and the script exits 1.
set -eu

job=${1:-build}
build_pkgs="gcc make pkg-config libev-dev libjson-c-dev libmnl-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libmicrohttpd-dev libmosquitto-dev libcurl4-openssl-dev"
lab_pkgs="iproute2 nftables python3 util-linux procps python3-grpcio python3-protobuf python3-grpc-tools"
# The dashboard: make www (npm), its browser tests and icons (chromium).
www_pkgs="npm chromium"
# musl-tools: make test compiles every source against musl too (make musl-check).
musl_pkgs="musl-tools dpkg-dev cmake"
test_pkgs="musl-tools libcmocka-dev clang python3-pytest valgrind cppcheck shellcheck busybox curl mosquitto mosquitto-clients python3-paho-mqtt prometheus python3-aiosmtpd"

case "$job" in
build) want=$build_pkgs ;;
demo) want="$build_pkgs $lab_pkgs $www_pkgs" ;;
test) want="$build_pkgs $lab_pkgs $www_pkgs $test_pkgs" ;;
musl) want="$build_pkgs $musl_pkgs" ;;
*) echo "usage: $0 build|demo|test|musl" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian-like system; install the equivalents of: $want" >&2
	exit 0
fi

missing=""
for p in $want; do
	# Node.js builds from elsewhere (NodeSource) bring npm and conflict with Debian's.
	[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
}
