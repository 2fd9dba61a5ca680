#!/bin/sh
# Static analysis of src/, run by CTest (static.*) in the normal build:
#   analyze.sh clang-tidy|cppcheck|fanalyzer SOURCE_DIR BUILD_DIR [CC]
# clang-tidy reads the repository's .clang-tidy (checks and the reason for
# each one turned off); cppcheck's suppressions are below, each with its
# reason; gcc -fanalyzer compiles every source of the build's
# compile_commands.json with the analyzer on and warnings as errors.
# Exit 0 when clean, 1 on a finding, 77 when the tool is not installed.
set -u
tool=$1 src=$2 build=$3 cc=${4:-gcc}
db=$build/compile_commands.json
[ -f "$db" ] || { echo "no $db (configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON)"; exit 1; }
# The library's own sources that this build compiles.
files=$(sed -n 's/^ *"file": "\(.*\)".*/\1/p' "$db" | grep "^$src/src/" | sort -u)
[ -n "$files" ] || { echo "no source of src/ in $db"; exit 1; }

case $tool in
clang-tidy)
	command -v clang-tidy >/dev/null 2>&1 || { echo "clang-tidy is not installed: skipped"; exit 77; }
	# shellcheck disable=SC2086 # one word per file
	clang-tidy -p "$build" --quiet $files
	;;
cppcheck)
	command -v cppcheck >/dev/null 2>&1 || { echo "cppcheck is not installed: skipped"; exit 77; }
	# Suppressions:
	#   missingIncludeSystem  cppcheck does not read the system headers
	#   unusedFunction        exported API, called by users, not by src/
	#   unmatchedSuppression  the list is the same for every file
	# shellcheck disable=SC2086
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
		--inline-suppr -I "$src/include" -I "$src/src" -D__linux__ -D_GNU_SOURCE \
		--suppress=missingIncludeSystem --suppress=unusedFunction \
		--suppress=unmatchedSuppression $files
	;;
fanalyzer)
	# gcc 10 and later have the analyzer; another compiler, or an older gcc,
	# rejects the option.
	echo 'int main(void) { return 0; }' | "$cc" -x c -fanalyzer -c -o /dev/null - 2>/dev/null ||
		{ echo "$cc has no -fanalyzer (gcc 10 or later has): skipped"; exit 77; }
	status=0
	for f in $files; do
		"$cc" -std=c11 -D_GNU_SOURCE -I "$src/include" -I "$src/src" -I "$build/include" \
			-O1 -fanalyzer -Werror -c -o /dev/null "$f" || status=1
	done
	exit $status
	;;
*)
	echo "unknown tool $tool"
	exit 1
	;;
esac
