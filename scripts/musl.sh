#!/bin/sh
# autonomy against musl, the C library of OpenWrt and RutOS, on a Debian machine.
#
#   scripts/musl.sh headers DIR   DIR/include: the kernel headers and the Debian
#                                 headers of autonomy's libraries, for musl-gcc, which
#                                 searches neither /usr/include nor its multiarch
#                                 directory. Enough to compile every source (make
#                                 musl-check); no network.
#   scripts/musl.sh libs DIR      DIR/include and DIR/lib: libev, json-c, nghttp2,
#                                 protobuf-c, libmicrohttpd, mbedtls, libcurl and
#                                 libmosquitto built with musl-gcc from Debian's source
#                                 packages, configured as OpenWrt packages them
#                                 (libmicrohttpd-no-ssl, libcurl with mbedtls,
#                                 libmosquitto-nossl). Needs deb.debian.org; about two
#                                 minutes; done once (DIR/lib/.done).
#
# libmnl's source package is not served by the mirror this was written against, so
# DIR/lib holds Debian's own libmnl.so.0 with DIR/lib/libglibccompat.so, which gives
# it the one glibc symbol it needs that musl lacks (__fprintf_chk, used only by its
# debug printer). autonomyd opens libcurl and libmosquitto only when a notifier or a
# broker is configured (src/core/dl.h); they are built too, with what they need.
set -eu

mode=${1:-}
dir=${2:-}
case "$mode" in
headers | libs) [ -n "$dir" ] || { echo "usage: $0 headers|libs DIR" >&2; exit 2; } ;;
*) echo "usage: $0 headers|libs DIR" >&2; exit 2 ;;
esac
command -v musl-gcc >/dev/null 2>&1 || {
	echo "musl: musl-gcc is missing (apt-get install musl-tools)" >&2
	exit 1
}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
inc=$dir/include
multi=/usr/include/$(gcc -dumpmachine)

# Links, so the headers stay Debian's. Kernel headers first: musl has none.
link() { # target name
	[ -e "$1" ] || { echo "musl: $1 is missing (scripts/deps.sh build)" >&2; exit 1; }
	ln -sfn "$1" "$inc/$2"
}
mkdir -p "$inc"
link /usr/include/linux linux
link /usr/include/asm-generic asm-generic
link "$multi/asm" asm
if [ "$mode" = headers ]; then
	link "$multi/curl" curl
	for h in json-c libmnl nghttp2 protobuf-c ev.h microhttpd.h mosquitto.h; do
		link "/usr/include/$h" "$h"
	done
	exit 0
fi

lib=$dir/lib
[ -f "$lib/.done" ] && exit 0
# The libraries install their headers into DIR/include: not through links to Debian's.
[ -L "$inc/curl" ] && { echo "musl: $dir holds the links of 'headers'; use another DIR" >&2; exit 1; }
link /usr/include/libmnl libmnl
src=$dir/src
apt=$dir/apt
mkdir -p "$src" "$apt/lists/partial" "$apt/etc" "$lib/pkgconfig"

suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
# A private deb-src list: the machine's apt configuration is left alone.
cat >"$apt/etc/src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
aptq() {
	apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt/etc" \
		-o Dir::State::Lists="$apt/lists" -o APT::Sandbox::User=root "$@"
}
aptq update >"$dir/apt.log" 2>&1 || { cat "$dir/apt.log" >&2; exit 1; }
cd "$src"
aptq source --download-only libev json-c nghttp2 protobuf-c libmicrohttpd mbedtls curl mosquitto \
	>>"$dir/apt.log" 2>&1 ||
	{ tail -5 "$dir/apt.log" >&2; exit 1; }

# Upstream sources, as OpenWrt builds them (its feeds apply few patches to these).
unpack() { # package → prints the directory
	d=$(find . -maxdepth 1 -name "$1_*.dsc" | head -n 1)
	[ -n "$d" ] || { echo "musl: no source of $1" >&2; exit 1; }
	out=$1-src
	rm -rf "$out"
	# apt checked the files against the signed index; dpkg-source has no keyring.
	dpkg-source --skip-debianization -x "$d" "$out" >>"$log" 2>&1
	echo "$src/$out"
}
log=$dir/build.log
: >"$log"
run() { "$@" >>"$log" 2>&1 || { tail -20 "$log" >&2; echo "musl: failed: $*" >&2; exit 1; }; }
cflags="-Os -isystem $inc"

autotools() { # package configure-args…
	d=$(unpack "$1")
	shift
	cd "$d"
	run env CC=musl-gcc CFLAGS="$cflags" LDFLAGS="-L$lib -Wl,-rpath,$lib" \
		./configure -q --prefix="$dir" --disable-static "$@"
	run make -j2
	run make install
	cd "$src"
}
cmake_lib() { # package cmake-args…
	d=$(unpack "$1")
	shift
	run cmake -S "$d" -B "$d/b" -DCMAKE_C_COMPILER=musl-gcc -DCMAKE_C_FLAGS="$cflags" \
		-DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_INSTALL_PREFIX="$dir" "$@"
	run make -C "$d/b" -j2
	run make -C "$d/b" install
}

autotools libev
cmake_lib json-c -DBUILD_STATIC_LIBS=OFF -DBUILD_TESTING=OFF -DDISABLE_WERROR=ON
cmake_lib nghttp2 -DENABLE_LIB_ONLY=ON -DENABLE_STATIC_LIB=OFF -DENABLE_SHARED_LIB=ON
autotools protobuf-c --disable-protoc
autotools libmicrohttpd --disable-https --without-gnutls --disable-curl --disable-doc \
	--disable-examples --disable-nls
# What autonomyd opens when a notifier or a broker is configured: libcurl with mbedtls
# (OpenWrt's default TLS library), libmosquitto as OpenWrt's libmosquitto-nossl.
cmake_lib mbedtls -DUSE_SHARED_MBEDTLS_LIBRARY=ON -DUSE_STATIC_MBEDTLS_LIBRARY=OFF \
	-DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF
autotools curl --with-mbedtls="$dir" --without-libpsl --without-zstd --without-brotli \
	--without-libidn2 --without-nghttp2 --without-zlib --disable-ldap --disable-manual \
	--disable-ntlm --without-librtmp --without-libssh2 --without-ca-bundle \
	--with-ca-path=/etc/ssl/certs --disable-docs
cmake_lib mosquitto -DWITH_TLS=OFF -DWITH_BROKER=OFF -DWITH_APPS=OFF -DWITH_CLIENTS=OFF \
	-DDOCUMENTATION=OFF -DWITH_CJSON=OFF -DWITH_STATIC_LIBRARIES=OFF -DWITH_LIB_CPP=OFF \
	-DWITH_PLUGINS=OFF

# libmnl: Debian's build, see above.
mnl=$(readlink -f "/usr/lib/$(gcc -dumpmachine)/libmnl.so.0")
cp "$mnl" "$lib/libmnl.so.0"
ln -sfn libmnl.so.0 "$lib/libmnl.so"
run musl-gcc -Os -shared -fPIC -o "$lib/libglibccompat.so" "$root/bench/musl-compat.c"
cat >"$lib/pkgconfig/libmnl.pc" <<EOF
Name: libmnl
Description: Debian's libmnl with a glibc shim for musl
Version: 1.0.4
Libs: -L$lib -lglibccompat -lmnl
Cflags: -I$inc
EOF
touch "$lib/.done"
