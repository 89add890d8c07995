package diffusion

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/viz"
)

// StudySteps are the DDIM step counts of the quality-versus-steps study; DDPM adds all T
// steps (Song et al. 2021, Table 1, measure S = 10, 20, 50, 100 and 1000).
var StudySteps = []int{10, 20, 50, 100}

// Study is the quality-versus-steps study of a diffusion run: the samplers of QualityVsSteps
// (DDIM with the StudySteps below T, and DDPM), each from the same Samples starting noises.
type Study struct {
	Samples  int       `json:"samples"`
	Baseline float64   `json:"fld_real_baseline"` // real against real at this n: the floor of fld
	Rows     []Quality `json:"samplers"`
}

// MeasureStudy measures the quality-versus-steps curve on n images per sampler (0:
// StudySamples).
func (m *Model) MeasureStudy(n int) (Study, error) {
	if n == 0 {
		n = m.StudySamples
	}
	if n < 10 {
		return Study{}, fmt.Errorf("diffusion: the study needs at least 10 samples per sampler, got %d", n)
	}
	var steps []int
	for _, s := range StudySteps {
		if s < m.Timesteps {
			steps = append(steps, s)
		}
	}
	rows, err := m.QualityVsSteps(n, steps, true)
	if err != nil {
		return Study{}, err
	}
	return Study{Samples: n, Baseline: rows[0].FLDRealBaseline, Rows: rows}, nil
}

// Study measures the study (family.Studier) and writes it into dir as study.json and
// study.svg (Chart).
func (m *Model) Study(dir string, n int) error {
	st, err := m.MeasureStudy(n)
	return family.WriteStudy(dir, st, err)
}

// ReadStudy reads the study.json that Study wrote into dir (a run folder or its published
// results).
func ReadStudy(dir string) (Study, error) { return family.ReadStudy[Study](dir) }

// Table returns the study as the header and rows of a table (viz.Table).
func (st Study) Table() ([]string, [][]string) {
	header := []string{"muestreador", "pasos", "Fréchet", "× real contra real", "variación total de clases", "cobertura", "clases", "muestras/s"}
	var rows [][]string
	for _, q := range st.Rows {
		rows = append(rows, []string{q.Sampler, fmt.Sprint(q.Steps), fmt.Sprintf("%.2f", q.FLD), fmt.Sprintf("%.2f", q.FLD/st.Baseline),
			fmt.Sprintf("%.3f", q.ClassTV), fmt.Sprintf("%.3f", q.Coverage), fmt.Sprint(q.ClassesCovered), fmt.Sprintf("%.1f", q.SamplesPerSecond)})
	}
	return header, rows
}

// Chart draws the study: one curve per measure against the steps of the sampler.
func (st Study) Chart() (*viz.Chart, error) {
	series := []viz.Series{{Name: "Fréchet / real contra real"}, {Name: "variación total de clases"}, {Name: "cobertura"}, {Name: "muestras por segundo"}}
	var x []float64
	for _, q := range st.Rows {
		x = append(x, float64(q.Steps))
		for i, y := range []float64{q.FLD / st.Baseline, q.ClassTV, q.Coverage, q.SamplesPerSecond} {
			series[i].Y = append(series[i].Y, y)
		}
	}
	for i := range series {
		series[i].X = x
	}
	title := fmt.Sprintf("Calidad frente a pasos del muestreador (DDIM; DDPM el último), %d muestras", st.Samples)
	return viz.LineChart(title, "pasos del muestreador (evaluaciones de la red por imagen)", "", series,
		viz.ChartOptions{LogX: true, LogY: true, Width: 720, Height: 360})
}

var _ family.Studier = (*Model)(nil)
