#!/bin/sh
# make ipk: an OpenWrt .ipk of autonomy for the host architecture, from the normal build.
#
#   sh scripts/mkipk.sh BUILD VERSION WITH_STARLINK
#
# Packs the stripped BUILD/autonomyd and BUILD/autonomyctl, BUILD/www (when `make www`
# built it) and packaging/openwrt/autonomy/files/ the way the SDK package
# (packaging/openwrt/autonomy/Makefile) installs them, into
# BUILD/ipk/autonomy_VERSION_ARCH.ipk (IPK_OUT=DIR: there instead): a gzip tar of
# ./debian-binary, ./control.tar.gz and ./data.tar.gz, as OpenWrt's ipkg-build writes
# it. Entries are owned by root (numeric 0/0), sorted, and dated SOURCE_DATE_EPOCH (else
# the last commit, else the top Makefile's mtime), so the same tree gives the same bytes.
#
# ARCH is the OpenWrt name for `uname -m` (x86_64, aarch64_generic, arm_cortex-a7, ...);
# IPK_ARCH overrides it. The binaries are linked against the host's C library and
# libraries: the package is for testing the packaging; routers get theirs from the SDK.
set -eu

BUILD=${1:?usage: mkipk.sh BUILD VERSION WITH_STARLINK}
VERSION=${2:?usage: mkipk.sh BUILD VERSION WITH_STARLINK}
STARLINK=${3:-1}
FILES=packaging/openwrt/autonomy/files
STRIP=${STRIP:-strip}

die() {
	echo "mkipk: $*" >&2
	exit 1
}

host_arch() {
	case $(uname -m) in
	x86_64 | amd64) echo x86_64 ;;
	i?86) echo i386_pentium4 ;;
	aarch64 | arm64) echo aarch64_generic ;;
	armv7*) echo arm_cortex-a7 ;;
	mips) echo mips_24kc ;;
	mipsel) echo mipsel_24kc ;;
	*) uname -m ;;
	esac
}

epoch() {
	if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
		echo "$SOURCE_DATE_EPOCH"
	elif t=$(git log -1 --format=%ct 2>/dev/null) && [ -n "$t" ]; then
		echo "$t"
	else
		date -r Makefile +%s
	fi
}

# tar of the current directory's ".", as ipkg-build makes it
pack() { # output.tar.gz
	tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
		--mtime="@$EPOCH" -cf - . | gzip -9 -n >"$1"
}

for f in "$BUILD/autonomyd" "$BUILD/autonomyctl"; do
	[ -x "$f" ] || die "$f is missing: run make first"
done
case $VERSION in
'' | *[!0-9A-Za-z.+~-]*) die "bad version '$VERSION'" ;;
esac
ARCH=${IPK_ARCH:-$(host_arch)}
EPOCH=$(epoch)
case $EPOCH in
'' | *[!0-9]*) die "bad SOURCE_DATE_EPOCH '$EPOCH'" ;;
esac

OUT=${IPK_OUT:-$BUILD/ipk}
WORK=$OUT/work
rm -rf "$WORK"
mkdir -p "$WORK/data" "$WORK/control"
umask 022

# ---- data.tar.gz: the files, with the modes the SDK package gives them ----
D=$WORK/data
install -d -m 0755 "$D/usr/sbin" "$D/usr/bin" "$D/etc/init.d" "$D/etc/config" \
	"$D/etc/uci-defaults" "$D/etc/hotplug.d/iface" "$D/usr/libexec/rpcd" \
	"$D/usr/share/rpcd/acl.d"
install -m 0755 "$BUILD/autonomyd" "$D/usr/sbin/autonomyd"
install -m 0755 "$BUILD/autonomyctl" "$D/usr/bin/autonomyctl"
"$STRIP" --strip-unneeded "$D/usr/sbin/autonomyd" "$D/usr/bin/autonomyctl"
install -m 0755 "$FILES/autonomy.init" "$D/etc/init.d/autonomy"
install -m 0600 "$FILES/autonomy.config" "$D/etc/config/autonomy"
install -m 0755 "$FILES/autonomy.defaults" "$D/etc/uci-defaults/50-autonomy"
install -m 0644 "$FILES/autonomy.hotplug" "$D/etc/hotplug.d/iface/30-autonomy"
install -m 0755 "$FILES/autonomy.rpcd" "$D/usr/libexec/rpcd/autonomy"
install -m 0644 "$FILES/autonomy.acl.json" "$D/usr/share/rpcd/acl.d/autonomy.json"
if [ -f "$BUILD/www/index.html" ]; then
	install -d -m 0755 "$D/usr/share/autonomy/www"
	cp -R "$BUILD/www/." "$D/usr/share/autonomy/www/"
	find "$D/usr/share/autonomy/www" -type d -exec chmod 0755 {} +
	find "$D/usr/share/autonomy/www" -type f -exec chmod 0644 {} +
else
	echo "mkipk: the dashboard is not built (make www), so not packaged" >&2
fi
find "$D" -exec touch -h -d "@$EPOCH" {} +
(cd "$D" && pack "../data.tar.gz")

# ---- control.tar.gz ----
C=$WORK/control
DEPENDS="libc, libev, libjson-c, libmnl, libmicrohttpd, libmosquitto, libcurl, kmod-nf-conntrack-netlink"
[ "$STARLINK" = 1 ] && DEPENDS="$DEPENDS, libnghttp2, libprotobuf-c"
SIZE=$(gzip -dc "$WORK/data.tar.gz" | wc -c | tr -d ' ')
cat >"$C/control" <<EOF
Package: autonomy
Version: $VERSION
Depends: $DEPENDS
Source: packaging/openwrt/autonomy
SourceName: autonomy
Section: net
SourceDateEpoch: $EPOCH
Architecture: $ARCH
Installed-Size: $SIZE
Description: Multi-uplink failover daemon (Starlink, cellular, wired, Wi-Fi):
 scores every uplink from probes and link telemetry and moves traffic before users
 notice. autonomyd with procd, UCI, hotplug and rpcd/ubus integration; autonomyctl.
EOF
echo /etc/config/autonomy >"$C/conffiles"
# What OpenWrt's package build generates: no-ops outside OpenWrt (no /lib/functions.sh).
cat >"$C/postinst" <<'EOF'
#!/bin/sh
[ "${IPKG_NO_SCRIPT:-}" = "1" ] && exit 0
[ -s "${IPKG_INSTROOT:-}/lib/functions.sh" ] || exit 0
# shellcheck source=/dev/null
. "${IPKG_INSTROOT:-}/lib/functions.sh"
default_postinst "$0" "$@"
EOF
cat >"$C/prerm" <<'EOF'
#!/bin/sh
[ -s "${IPKG_INSTROOT:-}/lib/functions.sh" ] || exit 0
# shellcheck source=/dev/null
. "${IPKG_INSTROOT:-}/lib/functions.sh"
default_prerm "$0" "$@"
EOF
chmod 0644 "$C/control" "$C/conffiles"
chmod 0755 "$C/postinst" "$C/prerm"
find "$C" -exec touch -h -d "@$EPOCH" {} +
(cd "$C" && pack "../control.tar.gz")

# ---- the .ipk ----
printf '2.0\n' >"$WORK/debian-binary"
touch -d "@$EPOCH" "$WORK/debian-binary" "$WORK/control.tar.gz" "$WORK/data.tar.gz"
IPK=$OUT/autonomy_${VERSION}_$ARCH.ipk
(cd "$WORK" && tar --format=gnu --numeric-owner --owner=0 --group=0 --mtime="@$EPOCH" \
	-cf - ./debian-binary ./control.tar.gz ./data.tar.gz) | gzip -9 -n >"$IPK.tmp"
mv "$IPK.tmp" "$IPK"
rm -rf "$WORK"
echo "mkipk: $IPK ($ARCH, $(wc -c <"$IPK" | tr -d ' ') bytes)"
