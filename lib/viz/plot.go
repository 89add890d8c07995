package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iagen-course/iagen/lib/atomicfile"
	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one named set of points (X[i], Y[i]): a curve of LineChart or a point group of
// Scatter. A nil X stands for 0, 1, 2, …; otherwise X and Y have the same length.
type Series struct {
	Name string
	X, Y []float64
}

// ChartOptions are a chart's size in pixels (zero: 640×320) and its scales: with LogX or LogY
// that axis is logarithmic and points with a coordinate ≤ 0 on it are skipped.
type ChartOptions struct {
	Width, Height int
	LogX, LogY    bool
}

// Chart is a plot made by LineChart, Scatter or HeatMap, ready to render as SVG or PNG at its
// size (see SaveChart and ShowChart).
type Chart struct {
	plot          *plot.Plot
	width, height int // pixels
	// side draws a legend or a colour bar in a strip sideWidth wide right of the plot, given
	// the strip and the plot's data area to align with; nil means no strip.
	side      func(strip, data draw.Canvas)
	sideWidth vg.Length
}

// dpi is the resolution of PNG renders: one pixel is 0.75 pt, the size a browser gives an
// SVG pixel, so both renders have the same size in pixels.
const dpi = 96

func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / dpi }

// seriesColors tell series apart (the "tab10" colours of matplotlib: ten digits, ten colours).
var seriesColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 255}, color.RGBA{0xff, 0x7f, 0x0e, 255}, color.RGBA{0x2c, 0xa0, 0x2c, 255},
	color.RGBA{0xd6, 0x27, 0x28, 255}, color.RGBA{0x94, 0x67, 0xbd, 255}, color.RGBA{0x8c, 0x56, 0x4b, 255},
	color.RGBA{0xe3, 0x77, 0xc2, 255}, color.RGBA{0x7f, 0x7f, 0x7f, 255}, color.RGBA{0xbc, 0xbd, 0x22, 255},
	color.RGBA{0x17, 0xbe, 0xcf, 255},
}

// LineChart draws each series as a curve of its own colour, with a legend of the named ones.
// Points whose x or y is NaN or infinite are skipped; so is a series left with no point. It
// fails when no series has a point to draw or when a series' X and Y lengths differ.
func LineChart(title, xLabel, yLabel string, series []Series, opts ...ChartOptions) (*Chart, error) {
	return xyChart("viz.LineChart", title, xLabel, yLabel, series, opts, func(xys plotter.XYs, c color.Color) (xyPlotter, error) {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle.Color, l.LineStyle.Width = c, vg.Points(1.5)
		if len(xys) > dottedPoints {
			return l, nil
		}
		dots, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		dots.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		return dottedLine{l, dots}, nil
	})
}

// dottedPoints is the most points a curve has for LineChart to mark each with a dot: sparse
// curves (an evaluation every few thousand steps, a single final evaluation) stay visible.
const dottedPoints = 30

// dottedLine is a curve with a dot at each point.
type dottedLine struct {
	*plotter.Line
	dots *plotter.Scatter
}

func (d dottedLine) Plot(c draw.Canvas, p *plot.Plot) {
	d.Line.Plot(c, p)
	d.dots.Plot(c, p)
}

// Scatter draws the points of each group as dots of the group's colour, with a legend of the
// named groups — a 2-D latent space coloured by digit, or samples of a 2-D toy distribution.
// Non-finite points are skipped; it fails like LineChart.
func Scatter(title, xLabel, yLabel string, groups []Series, opts ...ChartOptions) (*Chart, error) {
	return xyChart("viz.Scatter", title, xLabel, yLabel, groups, opts, func(xys plotter.XYs, c color.Color) (xyPlotter, error) {
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
		return s, nil
	})
}

// xyPlotter is a curve or point set that can also draw its legend thumbnail.
type xyPlotter interface {
	plot.Plotter
	plot.Thumbnailer
}

// xyChart builds a LineChart or a Scatter: one plotter per series with points, made by
// newPlotter in the series' colour.
func xyChart(name, title, xLabel, yLabel string, series []Series, opts []ChartOptions,
	newPlotter func(plotter.XYs, color.Color) (xyPlotter, error)) (*Chart, error) {
	o, err := chartOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := newPlot(title, xLabel, yLabel)
	if o.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	if o.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	legend := newLegend()
	drawn := 0
	for i, s := range series {
		xys, err := finitePoints(s, o.LogX, o.LogY)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(xys) == 0 {
			continue
		}
		pl, err := newPlotter(xys, seriesColors[i%len(seriesColors)])
		if err != nil {
			return nil, fmt.Errorf("%s: series %q: %w", name, s.Name, err)
		}
		p.Add(pl)
		if s.Name != "" {
			legend.Add(s.Name, pl)
		}
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%s: no finite point to draw", name)
	}
	c := &Chart{plot: p, width: o.Width, height: o.Height}
	if legend.Rectangle(draw.Canvas{}).Size().X > 0 {
		c.side, c.sideWidth = legendSide(legend)
	}
	return c, nil
}

// finitePoints returns the points of s whose coordinates are finite (and positive on a log
// scale).
func finitePoints(s Series, logX, logY bool) (plotter.XYs, error) {
	if s.X != nil && len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	var xys plotter.XYs
	for i, y := range s.Y {
		x := float64(i)
		if s.X != nil {
			x = s.X[i]
		}
		if finite(x) && finite(y) && (!logX || x > 0) && (!logY || y > 0) {
			xys = append(xys, plotter.XY{X: x, Y: y})
		}
	}
	return xys, nil
}

// HeatMap draws grid as coloured cells, row i from the top labelled yLabels[i], column j from
// the left labelled xLabels[j] (nil labels: the indices), with a colour bar: light for low
// values, dark blue for high ones, luminance linear in the value — a 2-D density, an attention
// map. NaN cells are left blank. It fails on an empty or ragged grid, on labels of the wrong
// length, and on a grid with no finite value.
func HeatMap(title string, grid [][]float64, xLabels, yLabels []string, opts ...ChartOptions) (*Chart, error) {
	o, err := chartOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("viz.HeatMap: %w", err)
	}
	if len(grid) == 0 || len(grid[0]) == 0 {
		return nil, fmt.Errorf("viz.HeatMap: empty grid")
	}
	rows, cols := len(grid), len(grid[0])
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, row := range grid {
		if len(row) != cols {
			return nil, fmt.Errorf("viz.HeatMap: ragged grid: row %d has %d values, row 0 has %d", i, len(row), cols)
		}
		for _, v := range row {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if (xLabels != nil && len(xLabels) != cols) || (yLabels != nil && len(yLabels) != rows) {
		return nil, fmt.Errorf("viz.HeatMap: %d x and %d y labels for a %d×%d grid", len(xLabels), len(yLabels), rows, cols)
	}
	if lo > hi {
		return nil, fmt.Errorf("viz.HeatMap: no finite value")
	}
	if lo == hi { // a constant grid: mid-palette cells
		lo, hi = lo-0.5, hi+0.5
	}

	colors := heatColors(lo, hi)
	pal := colors.Palette(256)
	h := plotter.NewHeatMap(matrix(grid), pal)
	h.Min, h.Max = lo, hi
	h.Underflow, h.Overflow = pal.Colors()[0], pal.Colors()[255] // −Inf, +Inf
	p := newPlot(title, "", "")
	p.Add(h)
	// Tick labels small enough to fit the cells (0.75 × the cell size, estimated before layout).
	cell := min(pixels(o.Width)/vg.Length(cols+8), pixels(o.Height)/vg.Length(rows+6))
	size := max(min(0.75*cell, vg.Points(10)), vg.Points(5))
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = size, size
	p.X.Tick.Marker = cellTicks(xLabels, cols, func(j int) float64 { return float64(j) })
	p.Y.Tick.Marker = cellTicks(yLabels, rows, func(i int) float64 { return float64(rows - 1 - i) })

	c := &Chart{plot: p, width: o.Width, height: o.Height}
	c.side, c.sideWidth = colorBarSide(colors)
	return c, nil
}

// matrix is a grid as plotter.GridXYZ: cell (c, r) at x = c, y = r, with row 0 of the grid
// on top (the highest y).
type matrix [][]float64

func (m matrix) Dims() (c, r int)   { return len(m[0]), len(m) }
func (m matrix) Z(c, r int) float64 { return m[len(m)-1-r][c] }
func (m matrix) X(c int) float64    { return float64(c) }
func (m matrix) Y(r int) float64    { return float64(r) }

// cellTicks labels n cells at positions at(i) with labels, or — for nil labels — with their
// indices, about ten of them.
func cellTicks(labels []string, n int, at func(int) float64) plot.ConstantTicks {
	var ticks plot.ConstantTicks
	step := 1
	if labels == nil {
		step = max(1, (n+9)/10)
	}
	for i := 0; i < n; i += step {
		label := strconv.Itoa(i)
		if labels != nil {
			label = labels[i]
		}
		ticks = append(ticks, plot.Tick{Value: at(i), Label: label})
	}
	return ticks
}

// heatColors is the colour map of HeatMap over [lo, hi]: Brewer's "Blues" as control colours,
// from near-white to dark blue with luminance falling linearly.
func heatColors(lo, hi float64) palette.ColorMap {
	dark2light, err := moreland.NewLuminance([]color.Color{
		color.RGBA{0x08, 0x30, 0x6b, 255}, color.RGBA{0x21, 0x71, 0xb5, 255}, color.RGBA{0x6b, 0xae, 0xd6, 255},
		color.RGBA{0xc6, 0xdb, 0xef, 255}, color.RGBA{0xf7, 0xfb, 0xff, 255},
	})
	if err != nil {
		panic(err) // the control colours above are in increasing luminance
	}
	dark2light.SetMin(lo)
	dark2light.SetMax(hi)
	return palette.Reverse(dark2light)
}

// chartOptions returns the options given (at most one), with the default size filled in.
func chartOptions(opts []ChartOptions) (ChartOptions, error) {
	var o ChartOptions
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		return o, fmt.Errorf("%d ChartOptions, want at most one", len(opts))
	}
	if o.Width == 0 {
		o.Width = 640
	}
	if o.Height == 0 {
		o.Height = 320
	}
	if o.Width < 0 || o.Height < 0 {
		return o, fmt.Errorf("size %d×%d", o.Width, o.Height)
	}
	return o, nil
}

// newPlot returns a plot with the given texts, in a sans-serif font.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	for _, s := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle, &p.X.Tick.Label, &p.Y.Tick.Label} {
		s.Font.Variant = "Sans"
	}
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = vg.Points(10), vg.Points(10)
	return p
}

// newLegend returns an empty legend, entries listed downwards with their icons on the left.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Variant, l.TextStyle.Font.Size = "Sans", vg.Points(10)
	l.Top, l.Left = true, true
	return l
}

// gap separates the plot from the strip right of it.
const gap = vg.Length(8)

// legendSide draws legend in the strip, level with the top of the plot's data area.
func legendSide(legend plot.Legend) (func(strip, data draw.Canvas), vg.Length) {
	width := legend.Rectangle(draw.Canvas{}).Size().X
	return func(strip, data draw.Canvas) {
		legend.Draw(draw.Crop(strip, gap, 0, 0, data.Max.Y-strip.Max.Y))
	}, gap + width + gap
}

// colorBarSide draws a vertical colour bar of colors in the strip, as tall as the plot's data
// area, its ticks on the left.
func colorBarSide(colors palette.ColorMap) (func(strip, data draw.Canvas), vg.Length) {
	bar := newPlot("", "", "")
	bar.HideX()
	bar.Add(&plotter.ColorBar{ColorMap: colors, Vertical: true})
	var labels vg.Length
	for _, t := range bar.Y.Tick.Marker.Ticks(colors.Min(), colors.Max()) {
		labels = max(labels, bar.Y.Tick.Label.Width(t.Label))
	}
	const barWidth = vg.Length(12)
	return func(strip, data draw.Canvas) {
		c := draw.Crop(strip, gap, 0, 0, 0)
		d := bar.DataCanvas(c)
		bar.Draw(draw.Crop(c, 0, 0, data.Min.Y-d.Min.Y, data.Max.Y-d.Max.Y))
	}, gap + labels + bar.Y.Tick.Length + bar.Y.Padding + barWidth + gap
}

// draw lays the chart out on cv; a panic of gonum/plot on degenerate input becomes an error.
func (c *Chart) draw(cv vg.CanvasSizer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("viz: drawing a chart: %v", r)
		}
	}()
	dc := draw.New(cv)
	main := draw.Crop(dc, 0, -c.sideWidth, 0, 0)
	if c.side != nil {
		strip := draw.Crop(dc, main.Max.X-dc.Min.X, 0, 0, 0)
		c.side(strip, c.plot.DataCanvas(main))
	}
	c.plot.Draw(main)
	return nil
}

// SVG renders the chart as an <svg> element of its size in pixels. It has no XML prolog, so it
// can be inlined in HTML as it is, and saved as an .svg file.
func (c *Chart) SVG() ([]byte, error) {
	cv := vgsvg.New(pixels(c.width), pixels(c.height))
	if err := c.draw(cv); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if i := bytes.Index(b, []byte("<svg")); i > 0 {
		b = b[i:]
	}
	// Browsers without Liberation Sans use the metric-compatible Arial, else any sans-serif.
	b = bytes.ReplaceAll(b, []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,sans-serif;"))
	return bytes.TrimSpace(b), nil
}

// PNG renders the chart as a PNG image of its size in pixels.
func (c *Chart) PNG() ([]byte, error) {
	cv := vgimg.NewWith(vgimg.UseImage(image.NewRGBA(image.Rect(0, 0, c.width, c.height))), vgimg.UseDPI(dpi))
	if err := c.draw(cv); err != nil {
		return nil, err
	}
	return PNG(cv.Image())
}

// SaveChart writes the chart to path atomically, as SVG or PNG by the extension (.svg, .png).
func SaveChart(c *Chart, path string) error {
	var b []byte
	var err error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg":
		b, err = c.SVG()
	case ".png":
		b, err = c.PNG()
	default:
		return fmt.Errorf("viz.SaveChart: unknown image type %q (want .svg or .png)", ext)
	}
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// ShowChart displays the chart (as SVG) in the notebook cell; outside a notebook it does
// nothing.
func ShowChart(c *Chart) {
	if !gonbui.IsNotebook {
		return
	}
	svg, err := c.SVG()
	if err != nil {
		fmt.Println("viz.ShowChart:", err)
		return
	}
	gonbui.DisplaySVG(string(svg))
	gonbui.Sync()
}
