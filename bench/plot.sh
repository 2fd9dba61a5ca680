#!/bin/sh
# Draws the benchmark's plots from its CSV, next to it (ctbench runs this
# after a run with --csv; it can also be run by hand):
#
#   sh bench/plot.sh build/bench/latest.csv
#
#   family-NAME.png        each family of rows (locks, ping-pongs, queues,
#                          executors, ...): median ns per operation of each
#                          implementation, log scale, bars from the
#                          smallest to the largest run
#   curve-NAME.png         each curve (contended lock, bounded queue,
#                          executor map): median ns per operation by thread
#                          count, one line per implementation, with the
#                          spread of the runs
#   curve-NAME-fairness.png, curve-NAME-wait.png   for a curve that
#                          measures them (the contended lock): fairness
#                          (smallest per-thread share / largest) and the
#                          longest single wait, by thread count
#
# Needs gnuplot (apt-get install gnuplot-nox); without it, says so and
# draws nothing. Every implementation keeps its colour in every plot.
set -eu

csv=${1:?usage: plot.sh RESULTS.csv}
out=$(dirname "$csv")

if ! command -v gnuplot >/dev/null 2>&1; then
	echo "plots: skipped (gnuplot not installed: apt-get install gnuplot-nox)"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$out"/family-*.png "$out"/curve-*.png

# The columns (main.c): 1 workload, 2 family, 3 curve, 4 threads,
# 5 implementation, 6 ns_median, 7 ns_min, 8 ns_max, 9 runs, 10 ops,
# 11 fairness, 12 fairness_worst, 13 longest_wait_us,
# 14 longest_wait_us_worst, 15 note (quoted, last: the fields before it
# have no commas).

colour() {
	case $1 in
	cthreading) echo "#d62728" ;;
	pthread) echo "#1f77b4" ;;
	c11) echo "#9ecae1" ;;
	posix_sem) echo "#17becf" ;;
	glib) echo "#2ca02c" ;;
	libuv) echo "#98df8a" ;;
	tbb) echo "#ff7f0e" ;;
	tbb_auto) echo "#fdae6b" ;;
	ck) echo "#9467bd" ;;
	ck_spsc) echo "#c5b0d5" ;;
	boost) echo "#8c564b" ;;
	boost_spsc) echo "#c49c94" ;;
	moodycamel) echo "#e377c2" ;;
	moodycamel_blocking) echo "#f7b6d2" ;;
	atomic_queue) echo "#7f7f7f" ;;
	absl) echo "#bcbd22" ;;
	absl_notification) echo "#dbdb8d" ;;
	python) echo "#303030" ;;
	*) echo "#b0b0b0" ;;
	esac
}

# The implementations of the rows matching column $1 == $2, in the order
# they first appear.
impls() {
	awk -F, -v col="$1" -v key="$2" 'NR > 1 && $col == key && !seen[$5]++ { print $5 }' "$csv"
}

runs=$(awk -F, 'NR > 1 { print $9 }' "$csv" | sort -n | tail -1)
written=0

# ---- families: clustered bars, one cluster per workload --------------------
for family in $(awk -F, 'NR > 1 && $2 != "" && !seen[$2]++ { print $2 }' "$csv"); do
	names=$(impls 2 "$family" | tr '\n' ' ')
	n=$(echo "$names" | wc -w)
	# One line per workload: its name, then median, min and max of each
	# implementation ("?" where it has none).
	awk -F, -v family="$family" -v names="$names" '
		BEGIN { k = split(names, impl, " ") }
		NR > 1 && $2 == family {
			if (!($1 in row)) { order[++rows] = $1; row[$1] = 1 }
			if ($6 != "") { med[$1, $5] = $6; lo[$1, $5] = $7; hi[$1, $5] = $8 }
		}
		END {
			for (r = 1; r <= rows; r++) {
				w = order[r]; line = w
				for (i = 1; i <= k; i++)
					if ((w, impl[i]) in med)
						line = line " " med[w, impl[i]] " " lo[w, impl[i]] " " hi[w, impl[i]]
					else
						line = line " ? ? ?"
				print line
			}
		}' "$csv" >"$tmp/$family.dat"
	colours=""
	for i in $names; do colours="$colours $(colour "$i")"; done
	width=$((400 + $(wc -l <"$tmp/$family.dat") * (40 + 14 * n)))
	[ "$width" -lt 900 ] && width=900
	[ "$width" -gt 2400 ] && width=2400
	cat >"$tmp/$family.gp" <<EOF
set terminal pngcairo size $width,620 font "sans,10"
set output "$out/family-$family.png"
set title "$family: median ns per operation of $runs runs (log scale; bars: smallest to largest run)"
set datafile missing "?"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set ylabel "ns per operation"
set grid ytics
set key outside right top vertical
set xtics rotate by -20 noenhanced
set bars front
names = "$names"
colours = "$colours"
plot for [i=1:$n] "$tmp/$family.dat" using (column(3*i-1)):(column(3*i)):(column(3*i+1)):xtic(1) \
	title word(names, i) noenhanced lc rgb word(colours, i)
EOF
	gnuplot "$tmp/$family.gp"
	written=$((written + 1))
done

# ---- curves: one line per implementation over the thread counts ------------
# $1 curve, $2 what (ns, fairness, wait), $3 file suffix
curve_plot() {
	curve=$1 what=$2 suffix=$3
	names=$(impls 3 "$curve" | tr '\n' ' ')
	: >"$tmp/$curve$suffix.dat"
	used=""
	for i in $names; do
		awk -F, -v curve="$curve" -v impl="$i" -v what="$what" '
			NR > 1 && $3 == curve && $5 == impl {
				if (what == "ns" && $6 != "") print $4, $6, $7, $8
				if (what == "fairness" && $11 != "") print $4, $11, $12, $11
				if (what == "wait" && $13 != "") print $4, ($13 > 0 ? $13 : 0.1), ($13 > 0 ? $13 : 0.1), ($14 > 0 ? $14 : 0.1)
			}' "$csv" >"$tmp/one.dat"
		[ -s "$tmp/one.dat" ] || continue
		cat "$tmp/one.dat" >>"$tmp/$curve$suffix.dat"
		printf '\n\n' >>"$tmp/$curve$suffix.dat"
		used="$used $i"
	done
	[ -n "$used" ] || return 0
	n=$(echo "$used" | wc -w)
	colours=""
	for i in $used; do colours="$colours $(colour "$i")"; done
	# A tick at every thread count measured.
	ticks=$(awk -F, -v c="$curve" 'NR > 1 && $3 == c && !seen[$4]++ { print $4 }' "$csv" |
		sort -n | paste -sd, -)
	case $what in
	ns)
		title="$curve: median ns per operation by threads ($runs runs; bars: smallest to largest)"
		axis='set logscale y; set ylabel "ns per operation (log scale)"'
		;;
	fairness)
		title="$curve: fairness, smallest per-thread share / largest (median; bar down to the worst run)"
		axis='set yrange [0:1.05]; set ylabel "fairness (1: even shares)"'
		;;
	wait)
		title="$curve: longest single wait (median; bar up to the worst run)"
		axis='set logscale y; set ylabel "µs (log scale; 0 drawn at 0.1)"'
		;;
	esac
	cat >"$tmp/$curve$suffix.gp" <<EOF
set terminal pngcairo size 1000,620 font "sans,10"
set output "$out/curve-$curve$suffix.png"
set title "$title" noenhanced
set logscale x 2
set xtics ($ticks)
set offsets graph 0.03, graph 0.03, 0, 0
set xlabel "threads (queue: producers = consumers; executor: workers)"
$axis
set grid
set key outside right top vertical
set bars small
names = "$used"
colours = "$colours"
plot for [i=1:$n] "$tmp/$curve$suffix.dat" index (i-1) using 1:2:3:4 with yerrorlines \
	title word(names, i) noenhanced lc rgb word(colours, i) lw (word(names, i) eq "cthreading" ? 3 : 1.5) pt 7 ps 0.6
EOF
	gnuplot "$tmp/$curve$suffix.gp"
	written=$((written + 1))
}

for curve in $(awk -F, 'NR > 1 && $3 != "" && !seen[$3]++ { print $3 }' "$csv"); do
	curve_plot "$curve" ns ""
	if awk -F, -v c="$curve" 'NR > 1 && $3 == c && $11 != "" { found = 1 } END { exit !found }' "$csv"; then
		curve_plot "$curve" fairness -fairness
		curve_plot "$curve" wait -wait
	fi
done

echo "plots: $written written to $out/ (family-*.png, curve-*.png)"
