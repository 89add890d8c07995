package tabular

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/iagen-course/iagen/lib/data"
)

// Column is how one table column is encoded.
type Column struct {
	Name string `json:"name"`
	// Levels are the one-hot levels of a categorical column, nil for a numeric one.
	Levels []string `json:"levels,omitempty"`
	// Numeric columns: standardised as (v − Mean)/Std; samples are clamped to the observed
	// [Min, Max] and rounded when every observed value is an integer.
	Mean    float64 `json:"mean,omitempty"`
	Std     float64 `json:"std,omitempty"`
	Min     float64 `json:"min,omitempty"`
	Max     float64 `json:"max,omitempty"`
	Integer bool    `json:"integer,omitempty"`
	// Offset is the position of the column's first value in an encoded row.
	Offset int `json:"offset"`
}

// Categorical reports whether the column is one-hot encoded.
func (c Column) Categorical() bool { return c.Levels != nil }

// Width is the number of values the column takes in an encoded row.
func (c Column) Width() int {
	if c.Categorical() {
		return len(c.Levels)
	}
	return 1
}

// Encoding maps table rows to vectors and back: one-hot for categorical columns, standardised
// values for numeric ones (the "simple" representation; TVAE's mode-specific normalisation,
// Xu et al. 2019 §4.2, is left out: German Credit's numeric columns are few and unimodal enough).
// The numeric values come first, so they form one contiguous block [0, Numeric); the one-hot
// blocks follow in column order.
type Encoding struct {
	Columns []Column `json:"columns"` // in the table's column order
	Numeric int      `json:"numeric"` // numeric columns, the first Numeric values of a row
	Width   int      `json:"width"`   // values per encoded row
}

// Fit builds the encoding of t's columns except skip (a derived column, say German Credit's
// "sex", which personal_status already holds): a column with declared levels is categorical,
// any other must be numeric. The statistics come from t's rows, so fit on the training split.
func Fit(t *data.Table, skip ...string) (*Encoding, error) {
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("tabular: %s has no rows to fit an encoding on", t.Name)
	}
	e := &Encoding{}
	for i, name := range t.Columns {
		if slices.Contains(skip, name) {
			continue
		}
		c := Column{Name: name}
		if t.Levels[i] != nil {
			c.Levels = slices.Clone(t.Levels[i])
		} else {
			vs, err := t.Floats(name)
			if err != nil {
				return nil, fmt.Errorf("tabular: %w (a column without declared levels must be numeric)", err)
			}
			c.Mean, c.Std, c.Min, c.Max, c.Integer = stats(vs)
			e.Numeric++
		}
		e.Columns = append(e.Columns, c)
	}
	if len(e.Columns) == 0 {
		return nil, fmt.Errorf("tabular: %s has no column left to encode", t.Name)
	}
	num, cat := 0, e.Numeric
	for i := range e.Columns {
		if e.Columns[i].Categorical() {
			e.Columns[i].Offset = cat
			cat += e.Columns[i].Width()
		} else {
			e.Columns[i].Offset = num
			num++
		}
	}
	e.Width = cat
	return e, nil
}

// stats returns the mean, standard deviation (1 for a constant column), range and whether all
// values are integers.
func stats(vs []float64) (mean, std, lo, hi float64, integer bool) {
	lo, hi, integer = math.Inf(1), math.Inf(-1), true
	for _, v := range vs {
		mean += v
		lo, hi = min(lo, v), max(hi, v)
		integer = integer && v == math.Round(v)
	}
	mean /= float64(len(vs))
	for _, v := range vs {
		std += (v - mean) * (v - mean)
	}
	std = math.Sqrt(std / float64(len(vs)))
	if std == 0 {
		std = 1
	}
	return mean, std, lo, hi, integer
}

// Encode returns t's rows encoded, row-major: len(t.Rows) × e.Width values. t needs every
// encoded column (by name, in any order); a missing value ("?") or an undeclared level is an
// error naming the row.
func (e *Encoding) Encode(t *data.Table) ([]float32, error) {
	idx := make([]int, len(e.Columns))
	for i, c := range e.Columns {
		j, err := t.Index(c.Name)
		if err != nil {
			return nil, fmt.Errorf("tabular: %w", err)
		}
		idx[i] = j
	}
	out := make([]float32, len(t.Rows)*e.Width)
	for r, row := range t.Rows {
		x := out[r*e.Width : (r+1)*e.Width]
		for i, c := range e.Columns {
			v := row[idx[i]]
			if c.Categorical() {
				k := slices.Index(c.Levels, v)
				if k < 0 {
					return nil, fmt.Errorf("tabular: %s row %d: %s = %q is not one of its levels", t.Name, r, c.Name, v)
				}
				x[c.Offset+k] = 1
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("tabular: %s row %d: %s = %q is not a number (missing values are not supported)", t.Name, r, c.Name, v)
			}
			x[c.Offset] = float32((f - c.Mean) / c.Std)
		}
	}
	return out, nil
}

// Decode maps one encoded row x (e.Width values) back to table values: the most likely level
// of each one-hot block, each numeric value de-standardised (as Encode left it: not clamped or
// rounded, beyond the float32 of the encoding).
func (e *Encoding) Decode(x []float32) []string {
	row := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		if c.Categorical() {
			block := x[c.Offset : c.Offset+c.Width()]
			row[i] = c.Levels[slices.Index(block, slices.Max(block))]
			continue
		}
		row[i] = strconv.FormatFloat(float64(x[c.Offset])*c.Std+c.Mean, 'g', 7, 64)
	}
	return row
}

// SampleRow draws one row from the decoder's output params (e.Width values) for the noise
// scales sigma (one per numeric column, in standardised units): a level of each categorical
// column from softmax(logits of its block), and each numeric value from N(μ, σ²),
// de-standardised, clamped to the observed range and rounded where the column holds integers —
// the sampling of TVAE's inverse transform (Xu et al. 2019; the sdv-dev/CTGAN implementation).
func (e *Encoding) SampleRow(params []float32, sigma []float32, r *rand.Rand) []string {
	row := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		if c.Categorical() {
			row[i] = c.Levels[sampleSoftmax(params[c.Offset:c.Offset+c.Width()], r)]
			continue
		}
		v := (float64(params[c.Offset])+float64(sigma[c.Offset])*r.NormFloat64())*c.Std + c.Mean
		v = min(max(v, c.Min), c.Max)
		if c.Integer {
			v = math.Round(v)
		}
		row[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return row
}

// Table returns rows (in e's column order) as a table named name, with e's levels.
func (e *Encoding) Table(name string, rows [][]string) *data.Table {
	t := &data.Table{Name: name, Rows: rows}
	for _, c := range e.Columns {
		t.Columns = append(t.Columns, c.Name)
		t.Levels = append(t.Levels, slices.Clone(c.Levels))
	}
	return t
}

// Column returns the named column's encoding.
func (e *Encoding) Column(name string) (Column, error) {
	for _, c := range e.Columns {
		if c.Name == name {
			return c, nil
		}
	}
	return Column{}, fmt.Errorf("tabular: no encoded column %q", name)
}

// sampleSoftmax draws an index with probability softmax(logits), by inversion.
func sampleSoftmax(logits []float32, r *rand.Rand) int {
	top := slices.Max(logits)
	p := make([]float64, len(logits))
	var sum float64
	for i, l := range logits {
		p[i] = math.Exp(float64(l - top))
		sum += p[i]
	}
	u := r.Float64() * sum
	for i, pi := range p {
		if u < pi {
			return i
		}
		u -= pi
	}
	return len(p) - 1
}
