# SPDX-License-Identifier: GPL-2.0-or-later
# Start-up time vs NUMA node count, from the data file report.py writes.
#   gnuplot -e "datafile='...'; outfile='...'; subtitle='...'" tests/bench/plot.gp
# Columns: nodes; wall ms (median, p25, p75) for unpatched, patched (no
# memmap-type), patched with mixed memmap-types; then the same for CPU ms.
if (!exists("subtitle")) subtitle = ""
# SVG: text, deterministic for the same data, and shown by any browser
# or forge straight from the repository
set terminal svg size 1200,540 font "sans,10"
set output outfile
set multiplot layout 1,2 title "QEMU start-up, launch -> QMP ready -> quit (-S, qtest accelerator)\n{/*0.85 ".subtitle."}"
set xlabel "NUMA nodes (node 0: 2 GiB; others: 1 GiB each above 4 GiB)"
set key top left box opaque
set grid ytics
set xrange [-4:136]
set xtics (1, 16, 32, 64, 96, 128)
set yrange [0:*]
set datafile missing "NaN"
set title "wall clock (client side)"
set ylabel "median ms (bars: p25-p75)"
plot datafile using ($1-1.5):2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" title "unpatched", \
     ''       using 1:5:6:7       with yerrorlines lw 2 pt 5 lc rgb "#d62728" title "patched, no memmap-type", \
     ''       using ($1+1.5):8:9:10 with yerrorlines lw 2 dt 2 pt 9 lc rgb "#2ca02c" title "patched, mixed memmap-types"
set title "CPU time of the QEMU process (user + sys)"
plot datafile using ($1-1.5):11:12:13 with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" title "unpatched", \
     ''       using 1:14:15:16      with yerrorlines lw 2 pt 5 lc rgb "#d62728" title "patched, no memmap-type", \
     ''       using ($1+1.5):17:18:19 with yerrorlines lw 2 dt 2 pt 9 lc rgb "#2ca02c" title "patched, mixed memmap-types"
unset multiplot
