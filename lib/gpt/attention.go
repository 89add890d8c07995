package gpt

import (
	"fmt"
	"html"
	"math"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/viz"
)

// AttentionMaps holds the attention weights of a text: Weights[l][h][i][j] is how much query
// position i of head h in layer l attends to key position j (each row sums to 1 over j ≤ i,
// and is 0 for j > i: the causal mask).
type AttentionMaps struct {
	Chars   []rune
	Weights [][][][]float32
}

// Attention runs text (1 to Context characters of the vocabulary) through the model and returns
// the attention weights of every layer and head.
func (m *Model) Attention(text string) (*AttentionMaps, error) {
	vocab, err := m.Vocab()
	if err != nil {
		return nil, err
	}
	ids, err := vocab.Encode(text)
	if err != nil {
		return nil, err
	}
	t := len(ids)
	if t < 1 || t > m.Context {
		return nil, fmt.Errorf("gpt: attention maps need 1 to %d characters, got %d", m.Context, t)
	}
	out, err := m.attn.Call(tensors.FromFlatDataAndDimensions(ids, 1, t))
	if err != nil {
		return nil, err
	}
	_ = out[m.Layers].FinalizeAll() // the hidden state (see m.attn)
	a := &AttentionMaps{Chars: []rune(text), Weights: make([][][][]float32, m.Layers)}
	for l, o := range out[:m.Layers] { // o: [1, T (query), H, T (key)]
		flat := tensors.MustCopyFlatData[float32](o)
		_ = o.FinalizeAll()
		a.Weights[l] = make([][][]float32, m.Heads)
		for h := range m.Heads {
			a.Weights[l][h] = make([][]float32, t)
			for i := range t {
				row := make([]float32, t)
				for j := range t {
					row[j] = flat[(i*m.Heads+h)*t+j]
				}
				a.Weights[l][h][i] = row
			}
		}
	}
	return a, nil
}

// MeanDistance returns, for layer l and head h, the mean distance i−j between a query and the
// keys it attends to, weighted by attention: small for heads that look at the last few
// characters, large for heads that look far back.
func (a *AttentionMaps) MeanDistance(l, h int) float64 {
	var s float64
	w := a.Weights[l][h]
	for i, row := range w {
		for j, x := range row {
			s += float64(x) * float64(i-j)
		}
	}
	return s / float64(len(w))
}

// SVG draws the attention weights of layer l, head h as a heat map (query characters down the
// left, key characters along the bottom; darker is more attention) with viz.HeatMap, as an
// <svg> element that a notebook shows inline and a browser opens. Colours show the square root
// of the weight, so weak but nonzero attention stays visible next to a strong peak. The masked
// future (j > i) and weights too small to see are left blank, which keeps the document small.
func (a *AttentionMaps) SVG(l, h int) string {
	const tooSmall = 0.02 // square roots below this are within 2% of the palette's white
	w := a.Weights[l][h]
	t := len(w)
	grid := make([][]float64, t)
	for i, row := range w {
		grid[i] = make([]float64, t)
		for j, x := range row {
			grid[i][j] = math.Sqrt(float64(max(0, x)))
			if j > i || grid[i][j] < tooSmall {
				grid[i][j] = math.NaN()
			}
		}
	}
	labels := make([]string, t)
	for i, r := range a.Chars[:t] {
		switch r {
		case ' ':
			labels[i] = "␣"
		case '\n':
			labels[i] = "⏎"
		default:
			labels[i] = string(r)
		}
	}
	title := fmt.Sprintf("capa %d, cabeza %d (fila: consulta; columna: clave; color: √peso)", l, h)
	chart, err := viz.HeatMap(title, grid, labels, labels, viz.ChartOptions{Width: max(11*t+150, 560), Height: max(11*t+100, 300)})
	if err != nil {
		return errorSVG(err)
	}
	svg, err := chart.SVG()
	if err != nil {
		return errorSVG(err)
	}
	return string(svg)
}

// errorSVG shows err where a chart was expected.
func errorSVG(err error) string {
	return `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="20"><text x="0" y="14">` +
		html.EscapeString(err.Error()) + `</text></svg>`
}
