// Package viz draws what the course shows: image grids of digits and samples, HTML tables,
// and charts — curves, scatter plots and heat maps, drawn with gonum/plot — and displays them
// live in a gonb notebook, with PNG and SVG files as the static fallback that reads anywhere
// (GitHub, VS Code, a terminal user).
//
// Charts are SVG, redrawn in place while a model trains (the harness's live progress). gonb's
// interactive Plotly charts are not used: they load plotly.js from a CDN when the cell runs,
// and everything here must work offline, in a classroom behind a firewall included.
//
// Every Show function returns once gonb has taken the display (gonbui.Sync): gonb reads
// displays from a pipe on its own, and one still in the pipe when a cell's program exits is
// lost, from the notebook and from its executed copy alike.
package viz

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/atomicfile"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/janpfeifer/gonb/gonbui"
)

// Grid tiles the images idx of im (nil: all of them, in order) into a grid with cols columns
// (0: about square), each image enlarged zoom times (nearest neighbour) and separated by a
// 1-pixel border. Grey-scale sets give a grey image, 3-channel sets an RGB one. To draw a few
// images of a large set, pass their indices.
func Grid(im *data.Images, idx []int, cols, zoom int) (image.Image, error) {
	if im == nil || im.N == 0 {
		return nil, fmt.Errorf("viz.Grid: no images")
	}
	if idx == nil {
		idx = make([]int, im.N)
		for i := range idx {
			idx[i] = i
		}
	}
	if cols <= 0 {
		cols = int(math.Ceil(math.Sqrt(float64(len(idx)))))
	}
	zoom = max(zoom, 1)
	rows := (len(idx) + cols - 1) / cols
	cw, ch := im.Width*zoom+1, im.Height*zoom+1
	out := image.NewRGBA(image.Rect(0, 0, cols*cw+1, rows*ch+1))
	for i := range out.Pix {
		out.Pix[i] = 0x80 // grey borders
	}
	size := im.ImageSize()
	for k, j := range idx {
		if j < 0 || j >= im.N {
			return nil, fmt.Errorf("viz.Grid: index %d out of range [0, %d)", j, im.N)
		}
		px := im.Pixels[j*size : (j+1)*size]
		x0, y0 := (k%cols)*cw+1, (k/cols)*ch+1
		for y := range im.Height * zoom {
			for x := range im.Width * zoom {
				p := ((y/zoom)*im.Width + x/zoom) * im.Channels
				c := color.RGBA{px[p], px[p], px[p], 255}
				if im.Channels >= 3 {
					c.G, c.B = px[p+1], px[p+2]
				}
				out.SetRGBA(x0+x, y0+y, c)
			}
		}
	}
	return out, nil
}

// FromFloat32 turns a batch of generated images [N, H, W, C] with values in [lo, hi] into an
// Images set (clipping to the range), so samples can be drawn and scored like data.
func FromFloat32(t *tensors.Tensor, lo, hi float32) (*data.Images, error) {
	dims := t.Shape().Dimensions
	if len(dims) != 4 {
		return nil, fmt.Errorf("viz.FromFloat32: want [N, H, W, C], got %v", dims)
	}
	flat, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, err
	}
	pix := make([]uint8, len(flat))
	for i, v := range flat {
		f := (v - lo) / (hi - lo) * 255
		pix[i] = uint8(math.Round(float64(min(max(f, 0), 255))))
	}
	return &data.Images{Name: "samples", N: dims[0], Height: dims[1], Width: dims[2], Channels: dims[3], Pixels: pix}, nil
}

// PNG encodes img.
func PNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SavePNG writes img to path atomically.
func SavePNG(img image.Image, path string) error {
	b, err := PNG(img)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// Show displays img in the notebook cell (as PNG); outside a notebook it does nothing.
func Show(img image.Image) {
	if gonbui.IsNotebook {
		if err := gonbui.DisplayImage(img); err != nil {
			fmt.Println("viz.Show:", err)
		}
		gonbui.Sync()
	}
}

// ShowHTML displays HTML in the notebook cell, or prints text (the tags stripped) elsewhere.
func ShowHTML(h string) {
	if gonbui.IsNotebook {
		gonbui.DisplayHTML(h)
		gonbui.Sync()
		return
	}
	fmt.Println(stripTags(h))
}

// ShowMarkdown displays Markdown in the notebook cell, or prints it elsewhere.
func ShowMarkdown(md string) {
	if gonbui.IsNotebook {
		gonbui.DisplayMarkdown(md)
		gonbui.Sync()
		return
	}
	fmt.Println(md)
}

// Table renders rows under a header as an HTML table; cells are escaped.
func Table(header []string, rows [][]string) string {
	var sb strings.Builder
	sb.WriteString(`<table style="border-collapse:collapse">`)
	row := func(cells []string, tag string) {
		sb.WriteString("<tr>")
		for _, c := range cells {
			fmt.Fprintf(&sb, `<%s style="border:1px solid #ccc;padding:2px 6px">%s</%s>`, tag, html.EscapeString(c), tag)
		}
		sb.WriteString("</tr>\n")
	}
	row(header, "th")
	for _, r := range rows {
		row(r, "td")
	}
	sb.WriteString("</table>")
	return sb.String()
}

func stripTags(h string) string {
	var sb strings.Builder
	in := false
	for _, r := range strings.ReplaceAll(strings.ReplaceAll(h, "</tr>", "\n"), "</td>", " ") {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			sb.WriteRune(r)
		}
	}
	return html.UnescapeString(sb.String())
}
