set terminal pngcairo size 1000,348 font "sans,10"
set output "out.png"
set termoption noenhanced
set multiplot
set lmargin 20
set rmargin 3
set size 1,0.5402
set origin 0,0.4598
set title "a small trace"
set xlabel "time (ms)"
set xrange [0:2.000]
set yrange [1.5:-0.5]
set ytics ("MainThread" 0, "consumer" 1)
set grid xtics
set style fill solid 1.0 noborder
set key outside below horizontal
$other_wait << EOD
1.875 0 1.750 2.000 -0.30 0.30
EOD
$queue_wait << EOD
0.500 1 0.250 0.750 0.70 1.30
EOD
$gil_wait << EOD
1.625 0 1.500 1.750 -0.30 0.30
EOD
$gil_hold << EOD
0.750 0 0.000 1.500 -0.30 0.30
EOD
$task << EOD
1.500 1 1.000 2.000 0.58 0.68
EOD
plot $other_wait using 1:2:3:4:5:6 with boxxyerror lc rgb "#9e9e9e" title "waits on something else", \
     $queue_wait using 1:2:3:4:5:6 with boxxyerror lc rgb "#fb8c00" title "waits on a queue", \
     $gil_wait using 1:2:3:4:5:6 with boxxyerror lc rgb "#e53935" title "waits for the GIL", \
     $gil_hold using 1:2:3:4:5:6 with boxxyerror lc rgb "#2e7d32" title "holds the GIL", \
     $task using 1:2:3:4:5:6 with boxxyerror lc rgb "#1e88e5" title "runs a task"
set size 1,0.4598
set origin 0,0
unset title
unset xlabel
set autoscale y
set yrange [0:*]
set offsets 0, 0, graph 0.3, 0
set ytics auto
set ylabel "depth"
set key inside top right
$depth0 << EOD
0.100 1
EOD
plot $depth0 using 1:2 with steps lw 2 title "queue \"jobs\" depth"
unset multiplot
