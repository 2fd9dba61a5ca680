#!/bin/sh
# Checks one Promela model with spin and says whether the verdict is the
# expected one. Used by CTest (tests/CMakeLists.txt, models.*) and by hand:
#
#   models/run.sh MODEL.pml MODE EXPECT [-DNAME ...]
#
#   MODE    safety   assertions and end states (a thread asleep for ever
#                    when every other thread is done is an invalid end
#                    state: a lost wake-up)
#           progress non-progress cycles under weak fairness (pan -l -f):
#                    some thread reaches a `progress` label infinitely often
#           ltl:NAME the model's LTL formula NAME under weak fairness
#   EXPECT  pass     spin must find no error (and search the whole space)
#           fail     spin must find an error: a mutant with a known bug
#
# Exit status 0 when the verdict is the expected one, 1 otherwise, 77 when
# spin or a C compiler is missing (CTest's SKIP_RETURN_CODE).
set -u
model=$1 mode=$2 expect=$3
shift 3
command -v spin >/dev/null 2>&1 || { echo "spin is not installed (apt-get install spin): skipped"; exit 77; }
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || { echo "no C compiler ($cc) for spin's verifier: skipped"; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/ctmodel.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cp "$model" "$dir/model.pml" || exit 1
cp "$(dirname "$model")"/*.pml "$dir/" 2>/dev/null
cd "$dir" || exit 1

case $mode in
safety) ccdefs="-DSAFETY -DNOCLAIM" panargs="" ;;
progress) ccdefs="-DNP -DNOCLAIM -DNOREDUCE" panargs="-l -f" ;;
ltl:*) ccdefs="-DNOREDUCE" panargs="-a -f -N ${mode#ltl:}" ;;
*) echo "unknown mode $mode"; exit 1 ;;
esac

spin -a "$@" model.pml >spin.out 2>&1 || { cat spin.out; echo "spin could not translate $model"; exit 1; }
# shellcheck disable=SC2086 # the flags are words
"$cc" -O0 -w $ccdefs -DVECTORSZ=4096 -DCOLLAPSE -o pan pan.c || { echo "the verifier did not compile"; exit 1; }
# shellcheck disable=SC2086
./pan -m1000000 $panargs >pan.out 2>&1
errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.out | head -n 1)
sed -n '/^pan:\|errors:\|states, stored\|elapsed time/p' pan.out
if [ -z "$errors" ]; then
	cat pan.out
	echo "no verdict from the verifier"
	exit 1
fi
if grep -q "max search depth too small" pan.out && [ "$errors" = 0 ]; then
	echo "the search was cut at its depth limit: not a proof"
	exit 1
fi
if [ "$expect" = pass ] && [ "$errors" = 0 ]; then
	echo "verified: $(basename "$model") $mode $*"
	exit 0
fi
if [ "$expect" = fail ] && [ "$errors" != 0 ]; then
	echo "rejected as it must be: $(basename "$model") $mode $*"
	# The counterexample, for the curious.
	if [ -f model.pml.trail ]; then spin -t -p "$@" model.pml 2>/dev/null | tail -n 25; fi
	exit 0
fi
echo "UNEXPECTED: $(basename "$model") $mode $* expected $expect, got $errors error(s)"
[ -f model.pml.trail ] && spin -t -p "$@" model.pml 2>/dev/null | tail -n 60
exit 1
