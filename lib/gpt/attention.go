package gpt

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
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
// left, key characters along the top; darker is more attention), as an SVG document that a
// notebook shows inline and a browser opens. Weights too small to see are not drawn, which
// keeps the document small (about 100 kB at most for 64 characters).
func (a *AttentionMaps) SVG(l, h int) string {
	const cell, margin, top = 11, 16, 16
	w := a.Weights[l][h]
	t := len(w)
	size := margin + t*cell
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="monospace" font-size="9">`,
		size+2, top+size+2)
	fmt.Fprintf(&sb, `<text x="0" y="10">capa %d, cabeza %d (fila: consulta; columna: clave)</text>`, l, h)
	label := func(r rune) string {
		switch r {
		case ' ':
			return "␣"
		case '\n':
			return "⏎"
		}
		return html.EscapeString(string(r))
	}
	for i, r := range a.Chars[:t] {
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, margin+i*cell+cell/2, top+10, label(r))
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, margin/2, top+margin+i*cell+cell-2, label(r))
	}
	// One unit = one cell; the upper triangle (j > i, the masked future) stays empty.
	fmt.Fprintf(&sb, `<g transform="translate(%d %d) scale(%d)" shape-rendering="crispEdges">`, margin, top+margin, cell)
	fmt.Fprintf(&sb, `<path d="M0 0L%d %dL0 %dZ" fill="none" stroke="#ccc" stroke-width="0.05"/>`, t, t, t)
	for i, row := range w {
		for j, x := range row[:i+1] {
			// Square root: weak but nonzero attention stays visible next to a strong peak.
			v := 255 - int(math.Round(255*math.Sqrt(float64(max(0, min(1, x))))))
			if v >= 250 {
				continue
			}
			fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="1" height="1" fill="#%02x%02xff"/>`, j, i, v, v)
		}
	}
	sb.WriteString(`</g></svg>`)
	return sb.String()
}
