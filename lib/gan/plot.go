package gan

import (
	"fmt"
	"math"
	"strings"

	"github.com/iagen-course/iagen/lib/train"
)

// curveColors are the line colours of CurvesSVG, one per key in order.
var curveColors = []string{"#1f4e9c", "#c0392b", "#27864a", "#8e44ad", "#d68910"}

// CurvesSVG draws the metrics keys of a training history (log.jsonl records) against the step
// as an SVG line chart of width×height pixels, with a legend and the y range written on the axis.
// Records missing a key are skipped for that line.
func CurvesSVG(history []train.Record, keys []string, width, height int) string {
	const pad = 40
	lo, hi := math.Inf(1), math.Inf(-1)
	maxStep := 1
	for _, r := range history {
		maxStep = max(maxStep, r.Step)
		for _, k := range keys {
			if v, ok := r.Values[k]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	if hi-lo < 1e-9 {
		hi = lo + 1
	}
	x := func(step int) float64 { return pad + float64(step)/float64(maxStep)*float64(width-2*pad) }
	y := func(v float64) float64 { return float64(height-pad) - (v-lo)/(hi-lo)*float64(height-2*pad) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`, width, height)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, pad, height-pad, width-pad, height-pad)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, pad, pad, pad, height-pad)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%.3g</text>`, pad-3, pad+4, hi)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%.3g</text>`, pad-3, height-pad, lo)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">paso %d</text>`, width-pad, height-pad+15, maxStep)
	for i, k := range keys {
		c := curveColors[i%len(curveColors)]
		var pts []string
		for _, r := range history {
			if v, ok := r.Values[k]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(r.Step), y(v)))
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`, pad+10+i*110, pad-10, c, k)
	}
	b.WriteString("</svg>")
	return b.String()
}
