#!/bin/sh
# The public headers in every language and standard they promise, with
# every C and C++ compiler found (the build's, then gcc, clang, g++ and
# clang++ from the PATH):
#
#   - each header alone, and cxx_headers_use.c (every static initializer,
#     scoped form and inline function), as C11 and C17, and as C++11, 14,
#     17, 20 and 23 (c++2b where the compiler has no c++23 yet), with
#     -Wall -Wextra -Werror -pedantic -Wshadow;
#   - the layout of every public struct (cxx_layout.c) compiled as C++ in
#     each standard against the same compiled as C by each C compiler: any
#     difference in a size, an alignment or an offset fails.
#
# Exits 77 (skipped) when no C++ compiler is found.
#
#   cxx_headers.sh SOURCE_DIR [CC] [CXX]
set -eu
src=$1 cc=${2:-} cxx=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
warn="-Wall -Wextra -Werror -pedantic -Wshadow"
inc="-I$src/include -I$src/tests"

# The distinct compilers among the candidates that exist.
pick() {
	seen=""
	for c in "$@"; do
		[ -n "$c" ] || continue
		p=$(command -v "$c" 2>/dev/null) || continue
		r=$(readlink -f "$p")
		case " $seen " in *" $r "*) continue ;; esac
		seen="$seen $r"
		echo "$p"
	done
}
ccs=$(pick "$cc" gcc clang)
cxxs=$(pick "$cxx" g++ clang++)
if [ -z "$cxxs" ]; then
	echo "no C++ compiler found: the C++ header checks are skipped"
	exit 77
fi

# One file per header, each including it alone.
headers=""
for h in "$src"/include/cthreading.h "$src"/include/cthreading/*.h; do
	rel=${h#"$src"/include/}
	f="$tmp/alone_$(echo "$rel" | tr '/.' '__').c"
	echo "#include <$rel>" >"$f"
	headers="$headers $f"
done

fail=0
check() { # what, command...
	what=$1
	shift
	if ! out=$("$@" 2>&1); then
		echo "FAILED: $what"
		echo "$out" | head -n 20
		fail=1
	fi
}

n=0
for c in $ccs; do
	for std in c11 c17; do
		# shellcheck disable=SC2086
		check "$c -std=$std" "$c" -x c -std=$std $warn -Wstrict-prototypes $inc -fsyntax-only \
			$headers "$src/tests/cxx_headers_use.c"
		n=$((n + 1))
	done
	# The C half of the layout comparison, and its main.
	id=$(basename "$c")
	check "$c layout" "$c" -std=c11 $inc -c "$src/tests/cxx_layout.c" -o "$tmp/layout_$id.o"
	printf '%s\n' '#include "cxx_layout.h"' \
		'int main(void) { return ct_layout_mismatches(stdout) != 0; }' >"$tmp/main.c"
	check "$c layout main" "$c" -std=c11 $inc -c "$tmp/main.c" -o "$tmp/main_$id.o"
done

for x in $cxxs; do
	for std in c++11 c++14 c++17 c++20 c++23; do
		if [ $std = c++23 ] && ! echo | "$x" -x c++ -std=c++23 -fsyntax-only - 2>/dev/null; then
			std=c++2b
		fi
		# shellcheck disable=SC2086
		check "$x -std=$std" "$x" -x c++ -std=$std $warn $inc -fsyntax-only $headers \
			"$src/tests/cxx_headers_use.c"
		n=$((n + 1))
		check "$x -std=$std layout" "$x" -std=$std $inc -c "$src/tests/cxx_layout.cpp" \
			-o "$tmp/layout_cxx.o"
		for c in $ccs; do
			id=$(basename "$c")
			check "$x -std=$std layout against $c" "$x" "$tmp/layout_$id.o" \
				"$tmp/layout_cxx.o" "$tmp/main_$id.o" -o "$tmp/layout"
			check "$x -std=$std layout against $c: the two agree" "$tmp/layout"
		done
	done
done
echo "checked the headers in $n compiler and standard pairs:" $ccs $cxxs
exit $fail
