package viz

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseSVG checks that svg is well-formed XML whose root is <svg>, and returns its text.
func parseSVG(t *testing.T, svg []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var texts strings.Builder
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
		case xml.CharData:
			texts.Write(tok)
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return texts.String()
}

func TestLineChartSVGHasSeriesNamesAndSkipsNaN(t *testing.T) {
	c, err := LineChart("pérdidas", "paso", "pérdida", []Series{
		{Name: "d_loss", X: []float64{0, 1, 2, 3}, Y: []float64{1, math.NaN(), 0.5, 0.4}},
		{Name: "g_loss", Y: []float64{2, 1.5, math.Inf(1), 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.HasSuffix(svg, []byte("</svg>")) {
		t.Errorf("not a bare <svg> element: %.40q … %.40q", svg, svg[max(0, len(svg)-40):])
	}
	text := parseSVG(t, svg)
	for _, want := range []string{"pérdidas", "paso", "d_loss", "g_loss"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
	if bytes.Contains(bytes.ToLower(svg), []byte("nan")) || bytes.Contains(bytes.ToLower(svg), []byte("inf")) {
		t.Error("a non-finite point reached the SVG")
	}

	// The NaN point is skipped, not drawn as a gap-free line through it: the 3-point curve has
	// the same path as the curve given only its finite points.
	finite, err := LineChart("pérdidas", "paso", "pérdida", []Series{
		{Name: "d_loss", X: []float64{0, 2, 3}, Y: []float64{1, 0.5, 0.4}},
		{Name: "g_loss", X: []float64{0, 1, 3}, Y: []float64{2, 1.5, 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if svg2, err := finite.SVG(); err != nil || !bytes.Equal(svg, svg2) {
		t.Errorf("chart with NaN differs from the chart of its finite points (err %v)", err)
	}
}

func TestChartPNGHasRequestedSize(t *testing.T) {
	c, err := Scatter("latentes", "z₀", "z₁", []Series{
		{Name: "0", X: []float64{0, 1, 2}, Y: []float64{0, 1, 0}},
		{Name: "1", X: []float64{-1, -2}, Y: []float64{1, 2}},
	}, ChartOptions{Width: 300, Height: 200})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != 300 || s.Y != 200 {
		t.Errorf("PNG of %v, want 300×200", s)
	}
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	// 300 px = 225 pt, the size a browser shows as 300 px.
	if !bytes.Contains(svg, []byte(`width="225pt" height="150pt"`)) {
		t.Errorf("SVG size: %.120s", svg)
	}
	if text := parseSVG(t, svg); !strings.Contains(text, "z₀") {
		t.Error("SVG lacks the axis label")
	}
}

func TestLogScalesSkipNonPositive(t *testing.T) {
	for _, o := range []ChartOptions{{LogY: true}, {LogX: true}, {LogX: true, LogY: true}} {
		c, err := LineChart("", "", "", []Series{{X: []float64{0, -1, 10, 100}, Y: []float64{0, -1, 10, 100}}}, o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if _, err := c.SVG(); err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if _, err := LineChart("", "", "", []Series{{X: []float64{0, -1}, Y: []float64{0, -1}}}, o); err == nil {
			t.Errorf("%+v: a log chart of non-positive values must fail", o)
		}
	}
}

func TestHeatMap(t *testing.T) {
	grid := [][]float64{{0, math.NaN()}, {0.5, 1}, {1, 0.25}}
	c, err := HeatMap("atención", grid, []string{"a", "b"}, []string{"x", "y", "z"})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	text := parseSVG(t, svg)
	for _, want := range []string{"atención", "a", "b", "x", "z"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
	// The darkest cell (1) and the lightest (0) are both drawn, the NaN cell is not: 5 cells.
	if n := bytes.Count(svg, []byte("<path")); n < 5 {
		t.Errorf("only %d paths", n)
	}
	if _, err := HeatMap("", [][]float64{{2, 2}, {2, 2}}, nil, nil); err != nil {
		t.Errorf("a constant grid: %v", err)
	}
}

func TestChartErrors(t *testing.T) {
	cases := map[string]func() error{
		"ragged grid": func() error { _, err := HeatMap("", [][]float64{{1, 2}, {3}}, nil, nil); return err },
		"empty grid":  func() error { _, err := HeatMap("", nil, nil, nil); return err },
		"NaN grid":    func() error { _, err := HeatMap("", [][]float64{{math.NaN()}}, nil, nil); return err },
		"labels":      func() error { _, err := HeatMap("", [][]float64{{1, 2}}, []string{"a"}, nil); return err },
		"no series":   func() error { _, err := LineChart("", "", "", nil); return err },
		"empty":       func() error { _, err := LineChart("", "", "", []Series{{Name: "a"}}); return err },
		"all NaN":     func() error { _, err := Scatter("", "", "", []Series{{Y: []float64{math.NaN()}}}); return err },
		"lengths": func() error {
			_, err := Scatter("", "", "", []Series{{X: []float64{1}, Y: []float64{1, 2}}})
			return err
		},
		"size": func() error {
			_, err := LineChart("", "", "", []Series{{Y: []float64{1}}}, ChartOptions{Width: -1})
			return err
		},
		"extension": func() error {
			c, err := LineChart("", "", "", []Series{{Y: []float64{1, 2}}})
			if err != nil {
				t.Fatal(err)
			}
			return SaveChart(c, filepath.Join(t.TempDir(), "chart.gif"))
		},
	}
	for name, f := range cases {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSaveChartByExtension(t *testing.T) {
	c, err := LineChart("t", "x", "y", []Series{{Name: "s", Y: []float64{3, 1, 2}}}, ChartOptions{Width: 200, Height: 100})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"c.svg", "c.PNG"} {
		path := filepath.Join(dir, name)
		if err := SaveChart(c, path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".svg") {
			parseSVG(t, b)
		} else if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
