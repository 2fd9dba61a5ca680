#!/bin/sh
# Builds and runs hello.c against cthreading as a user would, outside the
# source tree: in a fresh temporary directory, from an installed prefix
# (pkg-config, find_package), from the Debian package (deb: make package's
# .deb, unpacked) or from the sources (add_subdirectory, FetchContent). From an installed prefix, hello.cpp too: the same program
# in C++, built by the first C++ compiler found ($CXX, c++, g++, clang++),
# or skipped with a message if there is none.
#
# CXX, when given, names the C++ compiler to use ("none": none, as in a
# cross or musl build with no C++ compiler of its own); "auto" or nothing
# searches as said. A cross build's programs run under $CT_TEST_EMULATOR.
#
#   run.sh MODE SOURCE_DIR BUILD_DIR CC CMAKE [CXX]
set -eu
mode=$1 src=$2 build=$3 cc=$4 cmake=$5 cxx=${6-auto}
emulator=${CT_TEST_EMULATOR:-}
if [ "$cxx" = auto ]; then
	cxx=""
	for c in "${CXX:-}" c++ g++ clang++; do
		if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then
			cxx=$(command -v "$c")
			break
		fi
	done
elif [ "$cxx" = none ]; then
	cxx=""
fi
no_cxx() {
	echo "no C++ compiler found (\$CXX, c++, g++, clang++): hello.cpp skipped"
}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

install_prefix() {
	"$cmake" --install "$build" --prefix "$tmp/prefix" >/dev/null
}

# pkg-config is not on every fresh machine: without it, evaluate the .pc
# file's variables and fields here (enough for ours), which still checks
# what the file says.
pc() {
	pcfile="$tmp/prefix/lib/pkgconfig/cthreading.pc"
	[ -f "$pcfile" ] || pcfile=$(find "$tmp/prefix" -name cthreading.pc | head -n 1)
	if command -v pkg-config >/dev/null 2>&1; then
		PKG_CONFIG_PATH=$(dirname "$pcfile") pkg-config "$@" cthreading
	else
		awk -v dir="$(dirname "$pcfile")" -v want="$*" '
			function expand(s,   k) { for (k in v) gsub("\\$\\{" k "\\}", v[k], s); return s }
			BEGIN { v["pcfiledir"] = dir }
			/^[a-z_]+=/ { i = index($0, "="); v[substr($0, 1, i - 1)] = expand(substr($0, i + 1)) }
			/^Cflags:/ && want ~ /cflags/ { sub(/^Cflags: */, ""); out = out " " expand($0) }
			/^Libs:/ && want ~ /libs/ { sub(/^Libs: */, ""); out = out " " expand($0) }
			/^Libs.private:/ && want ~ /static/ { sub(/^Libs.private: */, ""); out = out " " expand($0) }
			END { print out }' "$pcfile"
	fi
}

# Runs a build of hello.c: ten buyers, three items, as in the tutorial.
run() {
	# shellcheck disable=SC2086 # the emulator's words
	$emulator "$1" >"$tmp/out"
	cat "$tmp/out"
	if [ "$(grep -c 抢购成功 "$tmp/out")" != 3 ] || [ "$(grep -c 抢购失败 "$tmp/out")" != 7 ]; then
		echo "$1: expected 3 sold and 7 refused" >&2
		exit 1
	fi
}

case $mode in
pkg-config)
	install_prefix
	cflags=$(pc --cflags)
	libs=$(pc --libs)
	libdir=$(echo "$libs" | sed -n 's/.*-L\([^ ]*\).*/\1/p')
	# shellcheck disable=SC2086
	"$cc" -std=c11 -Wall -Werror $cflags "$here/hello.c" $libs -Wl,-rpath,"$libdir" -o "$tmp/hello"
	run "$tmp/hello"
	# A fully static program, from what `pkg-config --static` says alone
	# (Libs.private must carry everything the static library needs).
	static_libs=$(pc --static --libs)
	# shellcheck disable=SC2086
	"$cc" -std=c11 -Wall -Werror -static $cflags "$here/hello.c" $static_libs -o "$tmp/hello_static"
	run "$tmp/hello_static"
	# By hand, as static libraries are often linked: the archive and
	# -pthread, nothing else. The whole library comes with it, the
	# debugging layer included, which reads CTHREADING at start-up
	# although hello.c never calls it.
	# shellcheck disable=SC2086
	"$cc" -std=c11 -Wall -Werror $cflags "$here/hello.c" "$libdir/libcthreading.a" -pthread \
		-o "$tmp/hello_by_hand"
	run "$tmp/hello_by_hand"
	# shellcheck disable=SC2086
	CTHREADING=no-such-setting $emulator "$tmp/hello_by_hand" >/dev/null 2>"$tmp/err"
	if ! grep -q 'setting "no-such-setting" not understood' "$tmp/err"; then
		cat "$tmp/err"
		echo "hello_by_hand: the static library did not read CTHREADING" >&2
		exit 1
	fi
	if [ -n "$cxx" ]; then
		# shellcheck disable=SC2086
		"$cxx" -std=c++11 -Wall -Wextra -Werror -pedantic $cflags "$here/hello.cpp" $libs \
			-Wl,-rpath,"$libdir" -o "$tmp/hello_cpp"
		run "$tmp/hello_cpp"
		# shellcheck disable=SC2086
		"$cxx" -std=c++11 -Wall -Wextra -Werror -pedantic $cflags "$here/hello.cpp" \
			"$libdir/libcthreading.a" -pthread -lm -o "$tmp/hello_cpp_static"
		run "$tmp/hello_cpp_static"
	else
		no_cxx
	fi
	;;
find_package)
	install_prefix
	cp "$here/find_package/CMakeLists.txt" "$here/hello.c" "$tmp/"
	"$cmake" -S "$tmp" -B "$tmp/b" -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
	"$cmake" --build "$tmp/b" >/dev/null
	run "$tmp/b/hello_shared"
	run "$tmp/b/hello_static"
	# 0.x minors break the API: this version satisfies a request for its
	# own minor version only, neither an older nor a newer one.
	version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$(find "$tmp/prefix" -name cthreadingConfigVersion.cmake)")
	major=${version%%.*} rest=${version#*.} minor=${rest%%.*}
	if [ "$major" = 0 ]; then
		for want in "0.$minor:1" "0.$((minor + 1)):0" "0.$((minor - 1)):0"; do
			[ "${want%%.*}" = 0 ] && [ "${want#0.-}" = "$want" ] || continue
			rm -rf "$tmp/v" && mkdir "$tmp/v"
			printf 'cmake_minimum_required(VERSION 3.20)\nproject(v C)\nfind_package(cthreading %s CONFIG QUIET)\nif(NOT "${cthreading_FOUND}" STREQUAL "%s")\n  message(FATAL_ERROR "request %s, installed %s: found=${cthreading_FOUND}")\nendif()\n' \
				"${want%:*}" "$([ "${want#*:}" = 1 ] && echo 1 || echo 0)" "${want%:*}" "$version" >"$tmp/v/CMakeLists.txt"
			"$cmake" -S "$tmp/v" -B "$tmp/v/b" -DCMAKE_C_COMPILER="$cc" \
				-DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
		done
	fi
	if [ -n "$cxx" ]; then
		mkdir "$tmp/cxx"
		cp "$here/find_package_cxx/CMakeLists.txt" "$here/hello.cpp" "$tmp/cxx/"
		"$cmake" -S "$tmp/cxx" -B "$tmp/cxx/b" -DCMAKE_CXX_COMPILER="$cxx" \
			-DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror -pedantic" \
			-DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
		"$cmake" --build "$tmp/cxx/b" >/dev/null
		run "$tmp/cxx/b/hello_cpp_shared"
		run "$tmp/cxx/b/hello_cpp_static"
	else
		no_cxx
	fi
	;;
deb)
	# The Debian package (make package), unpacked as dpkg would install
	# it, but into the temporary directory: its pkg-config file must
	# lead a build of hello.c to its headers and library.
	if ! command -v dpkg-deb >/dev/null 2>&1; then
		echo "no dpkg-deb (not a Debian system): the package test is skipped"
		exit 77
	fi
	(cd "$build" && "$(dirname "$cmake")/cpack" -G DEB -B "$tmp/pkg" >/dev/null)
	deb=$(ls "$tmp"/pkg/*.deb)
	echo "$(basename "$deb"): $(dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' ')"
	dpkg-deb -x "$deb" "$tmp/prefix"
	cflags=$(pc --cflags)
	libs=$(pc --libs)
	incdir=$(echo "$cflags" | sed -n 's/.*-I\([^ ]*\).*/\1/p')
	if [ "$(cd "$incdir" && pwd -P)" != "$(cd "$tmp/prefix/usr/include" && pwd -P)" ]; then
		echo "the package's pkg-config file points elsewhere: $cflags" >&2
		exit 1
	fi
	libdir=$(echo "$libs" | sed -n 's/.*-L\([^ ]*\).*/\1/p')
	# shellcheck disable=SC2086
	"$cc" -std=c11 -Wall -Werror $cflags "$here/hello.c" $libs -Wl,-rpath,"$libdir" -o "$tmp/hello"
	run "$tmp/hello"
	;;
add_subdirectory | fetchcontent)
	cp "$here/$mode/CMakeLists.txt" "$here/hello.c" "$tmp/"
	"$cmake" -S "$tmp" -B "$tmp/b" -DCMAKE_C_COMPILER="$cc" -DCT_SOURCE_DIR="$src" >/dev/null
	"$cmake" --build "$tmp/b" -j2 >/dev/null
	run "$tmp/b/hello"
	;;
*)
	echo "unknown mode $mode" >&2
	exit 2
	;;
esac
