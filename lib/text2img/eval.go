package text2img

import (
	"fmt"
	"math"
	"time"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/viz"
)

// Agreement is how well samples of one guidance scale follow their prompts, and how diverse they
// are: each of the 20 class prompts drawn PerClass times, and for each digit PerClass/2 images of
// "un X inclinado" and as many of "un X recto".
type Agreement struct {
	Guidance float64 `json:"guidance"`
	PerClass int     `json:"per_class"`
	// Class is the fraction of bare-prompt samples the referee classifies as the class asked
	// for (chance: 1/20); Digits and Garments split it by dataset.
	Class    float64 `json:"class_agreement"`
	Digits   float64 `json:"class_agreement_digits"`
	Garments float64 `json:"class_agreement_fashion"`
	// Slant is the fraction of slant-prompted digits whose measured |slant| (Measure) lies on
	// the prompt's side of the midpoint of SlantedAbove and UprightBelow; SlantedMean and
	// UprightMean are the mean |slant| of each group.
	Slant       float64 `json:"slant_agreement"`
	SlantedMean float64 `json:"slant_inclinado_mean"`
	UprightMean float64 `json:"slant_recto_mean"`
	// Coverage (Naeem et al. 2020) of each class's samples against as many of its test images,
	// in the referee's features, averaged over the classes: the diversity that guidance trades.
	Coverage         float64 `json:"coverage"`
	SamplesPerSecond float64 `json:"samples_per_second"`
}

// Measure draws and scores the samples of Agreement with sampler s at guidance w, from the
// noise of every evaluation (imagegen.EvalSeed).
func (m *Model) Measure(s Sampling, w float64, perClass int) (Agreement, error) {
	if perClass < 6 {
		return Agreement{}, fmt.Errorf("text2img: the measure needs at least 6 samples per class, got %d", perClass)
	}
	ref, err := m.loadReferee()
	if err != nil {
		return Agreement{}, err
	}
	var asked []string
	for c := range NumClasses {
		for range perClass {
			asked = append(asked, Classes[c])
		}
	}
	half := perClass / 2
	for c := range 10 {
		for i := range 2 * half {
			asked = append(asked, Classes[c]+" "+[]string{Slanted, Upright}[i/half])
		}
	}
	s.Guidance = w
	if _, err := m.Generate(s, asked[:1], imagegen.EvalSeed); err != nil { // compiles the step
		return Agreement{}, err
	}
	t0 := time.Now()
	im, err := m.Generate(s, asked, imagegen.EvalSeed)
	if err != nil {
		return Agreement{}, err
	}
	a := Agreement{Guidance: w, PerClass: perClass, SamplesPerSecond: float64(len(asked)) / time.Since(t0).Seconds()}
	bare := NumClasses * perClass
	labels, features, err := ref.Classify(im.Subset(seq(0, bare)))
	if err != nil {
		return Agreement{}, err
	}
	var hits [2]int
	for i, l := range labels {
		if l == i/perClass {
			hits[i/perClass/10]++
		}
	}
	a.Digits, a.Garments = float64(hits[0])/float64(bare/2), float64(hits[1])/float64(bare/2)
	a.Class = float64(hits[0]+hits[1]) / float64(bare)

	const mid = (SlantedAbove + UprightBelow) / 2
	var holds, nSlanted, nUpright int
	for i := bare; i < im.N; i++ {
		slant := math.Abs(Measure(im.Pixels[i*28*28 : (i+1)*28*28]).Slant)
		if (i-bare)%(2*half) < half {
			a.SlantedMean += slant
			nSlanted++
			if slant > mid {
				holds++
			}
		} else {
			a.UprightMean += slant
			nUpright++
			if slant < mid {
				holds++
			}
		}
	}
	a.Slant, a.SlantedMean, a.UprightMean = float64(holds)/float64(nSlanted+nUpright), a.SlantedMean/float64(nSlanted), a.UprightMean/float64(nUpright)

	a.Coverage, err = m.coverage(ref, features, perClass)
	return a, err
}

// coverage is the mean over classes of the coverage of generated features (perClass rows per
// class, in class order) against the features of the first perClass test images of the class.
func (m *Model) coverage(ref *referee, generated [][]float32, perClass int) (float64, error) {
	byClass := make([][]int, NumClasses)
	for i, l := range m.test.Labels {
		if len(byClass[l]) < perClass {
			byClass[l] = append(byClass[l], i)
		}
	}
	var all []int
	for _, idx := range byClass {
		all = append(all, idx...)
	}
	_, realFeatures, err := ref.Classify(m.test.Subset(all)) // one pass of the referee
	if err != nil {
		return 0, err
	}
	var sum float64
	start := 0
	for c, idx := range byClass {
		real, err := metrics.MatrixFromRows(realFeatures[start : start+len(idx)])
		if err != nil {
			return 0, err
		}
		start += len(idx)
		fake, err := metrics.MatrixFromRows(generated[c*perClass : (c+1)*perClass])
		if err != nil {
			return 0, err
		}
		prdc, err := metrics.PrecisionRecallDensityCoverage(real, fake, min(metrics.DefaultNeighbours, perClass-1))
		if err != nil {
			return 0, err
		}
		sum += prdc.Coverage
	}
	return sum / NumClasses, nil
}

func seq(from, to int) []int {
	out := make([]int, to-from)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// Evaluate measures the configuration's sampler at its guidance scale on EvalPerClass images
// per class: class_agreement (and by dataset), slant_agreement, coverage, and the referee's
// own test accuracy (referee_accuracy), the ceiling of class_agreement.
func (m *Model) Evaluate(int) (train.Metrics, error) {
	a, err := m.Measure(m.Config.Sampling, m.Config.Sampling.Guidance, m.EvalPerClass)
	if err != nil {
		return nil, err
	}
	return train.Metrics{{Name: "class_agreement", Value: a.Class}, {Name: "class_agreement_digits", Value: a.Digits},
		{Name: "class_agreement_fashion", Value: a.Garments}, {Name: "slant_agreement", Value: a.Slant},
		{Name: "coverage", Value: a.Coverage}, {Name: "referee_accuracy", Value: m.referee.Accuracy},
		{Name: "guidance", Value: a.Guidance}}, nil
}

// StudyGuidance are the guidance scales of the study.
var StudyGuidance = []float64{0, 0.5, 1, 2, 4}

// Study is the guidance study of a run: Agreement at each scale of StudyGuidance, each from the
// same starting noise.
type Study struct {
	Sampler         string      `json:"sampler"`
	RefereeAccuracy float64     `json:"referee_accuracy"`
	Rows            []Agreement `json:"guidance_scales"`
}

// MeasureStudy measures the study with perClass images per class and scale (0: StudyPerClass).
func (m *Model) MeasureStudy(perClass int) (Study, error) {
	if perClass == 0 {
		perClass = m.StudyPerClass
	}
	st := Study{Sampler: m.Config.Sampling.Name(m.Timesteps)}
	for _, w := range StudyGuidance {
		a, err := m.Measure(m.Config.Sampling, w, perClass)
		if err != nil {
			return Study{}, err
		}
		st.Rows = append(st.Rows, a)
	}
	st.RefereeAccuracy = m.referee.Accuracy
	return st, nil
}

// Study measures the study (family.Studier; n images per class and scale, 0: StudyPerClass)
// and writes it into dir as study.json and study.svg.
func (m *Model) Study(dir string, n int) error {
	st, err := m.MeasureStudy(n)
	return family.WriteStudy(dir, st, err)
}

// ReadStudy reads the study.json that Study wrote into dir.
func ReadStudy(dir string) (Study, error) { return family.ReadStudy[Study](dir) }

// Chart draws the trade-off: agreement with the prompt against coverage, along w.
func (st Study) Chart() (*viz.Chart, error) {
	series := []viz.Series{{Name: "acuerdo de clase"}, {Name: "acuerdo: dígitos"}, {Name: "acuerdo: ropa"},
		{Name: "acuerdo de inclinación"}, {Name: "cobertura (diversidad)"}}
	for _, a := range st.Rows {
		for i, y := range []float64{a.Class, a.Digits, a.Garments, a.Slant, a.Coverage} {
			series[i].X, series[i].Y = append(series[i].X, a.Guidance), append(series[i].Y, y)
		}
	}
	title := fmt.Sprintf("Guía sin clasificador: fidelidad al texto frente a diversidad (%s; árbitro %.0f %%)", st.Sampler, 100*st.RefereeAccuracy)
	return viz.LineChart(title, "escala de guía w", "", series, viz.ChartOptions{Width: 720, Height: 360})
}

// Table returns the study as the header and rows of a table (viz.Table).
func (st Study) Table() ([]string, [][]string) {
	header := []string{"w", "acuerdo de clase", "dígitos", "ropa", "inclinación", "cobertura", "muestras/s"}
	var rows [][]string
	for _, a := range st.Rows {
		rows = append(rows, []string{fmt.Sprint(a.Guidance), fmt.Sprintf("%.3f", a.Class), fmt.Sprintf("%.3f", a.Digits),
			fmt.Sprintf("%.3f", a.Garments), fmt.Sprintf("%.3f", a.Slant), fmt.Sprintf("%.3f", a.Coverage), fmt.Sprintf("%.1f", a.SamplesPerSecond)})
	}
	return header, rows
}

var (
	_ family.Studier  = (*Model)(nil)
	_ train.Evaluator = (*Model)(nil)
)
