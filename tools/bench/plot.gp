# SPDX-License-Identifier: GPL-2.0
#
# Plots of one msgbox-bench CSV (tools/bench/msgbox-bench.c writes it,
# tools/vm/msgbox-vm bench runs this):
#
#   gnuplot -e "csv='bench.csv'; png='bench.png'; title='6.1.0-56-amd64'" plot.gp
#
# Six panels: round-trip median by size (one CPU, two CPUs), one-way MB/s by
# size (one CPU, two CPUs), one-way throughput relative to POSIX mq by size
# (two CPUs), and aggregate throughput of 1, 2 and 4 pairs.  msgbox lines
# are thicker, the floors grey.

if (!exists("csv")) csv = 'bench.csv'
if (!exists("png")) png = 'bench.png'
if (!exists("title")) title = ''

# The libgd png terminal: a palette image a fifth of pngcairo's size.
set terminal png size 1400,1500 font "DejaVuSans,10" linewidth 1.5
set output png
set datafile separator ","
set key outside right top font ",9" spacing 1.1
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set logscale x 2
set xrange [12:140000]

mechs = "msgbox-ioctl msgbox-rw msgbox-batch msgbox-uring msgbox-ring msgbox-call msgbox-call-poll mq sysv pipe seqpacket zmq eventfd memcpy"
colors = "#d62728 #ff7f0e #8c564b #e377c2 #e6ab02 #000000 #555555 #1f77b4 #2ca02c #9467bd #17becf #bcbd22 #7f7f7f #4d4d4d"
dash(i) = (i <= 7 ? 1 : (i <= 12 ? 2 : 3))
width(i) = (i <= 7 ? 2.5 : 1.5)
sel(kind, m, cpus, x) = (strcol(1) eq kind && strcol(2) eq m && $4 == cpus && $6 > 0 ? x : NaN)

set multiplot layout 3,2 title "msgbox-bench ".title font ",13"

set logscale y 10
set format y "%.0s%c"
set xlabel "message size (bytes)"
set ylabel "round trip, median (ns)"
set xtics ("16" 16, "64" 64, "" 100, "1K" 1024, "10K" 10240, "100K" 102400)
do for [pn = 1:2] {
	set title sprintf("round trip, %s", pn == 1 ? "one CPU" : "two CPUs")
	plot for [i = 1:words(mechs)] csv using (sel("rtt", word(mechs, i), pn, $3)):10 \
		with linespoints lc rgb word(colors, i) dt dash(i) lw width(i) pt 7 ps 0.6 \
		title word(mechs, i)
}

set ylabel "one-way throughput (MB/s)"
set xtics ("16" 16, "100" 100, "1K" 1024, "10K" 10240, "100K" 102400)
do for [pn = 1:2] {
	set title sprintf("one-way stream, %s", pn == 1 ? "one CPU" : "two CPUs")
	plot for [i = 1:words(mechs)] csv using (sel("stream", word(mechs, i), pn, $3)):9 \
		with linespoints lc rgb word(colors, i) dt dash(i) lw width(i) pt 7 ps 0.6 \
		title word(mechs, i)
}

set title "one-way stream, two CPUs, relative to POSIX mq"
set ylabel "messages/s / POSIX mq's"
set format y "%g"
plot for [i = 1:words(mechs) - 2] csv using (sel("stream", word(mechs, i), 2, $3)):($12 > 0 ? $12 : NaN) \
	with linespoints lc rgb word(colors, i) dt dash(i) lw width(i) pt 7 ps 0.6 \
	title word(mechs, i)

set title "independent pairs, 100 B one-way, unpinned"
set xlabel "pairs"
set ylabel "aggregate messages/s"
set format y "%.0s%c"
unset logscale x
set xrange [0.8:4.2]
set xtics (1, 2, 4)
plot for [i = 1:words(mechs) - 2] csv using (sel("scaling", word(mechs, i), 0, $5)):8 \
	with linespoints lc rgb word(colors, i) dt dash(i) lw width(i) pt 7 ps 0.6 \
	title word(mechs, i)

unset multiplot
