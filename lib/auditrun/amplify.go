package auditrun

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/iagen-course/iagen/lib/audit"
	"github.com/iagen-course/iagen/lib/classifier"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
)

// AmplifyConfig is an amplification audit of an image family: the family trained with each of
// Seeds on Skew's unbalanced MNIST and again with balanced sampling (the mitigation), N samples
// of every run put in a group by the reference classifier.
type AmplifyConfig struct {
	Family string
	// Options build each run (backend, profile, data folder, Overrides such as a shorter
	// evaluation); Seed is ignored: Seeds.
	Options family.Options
	Skew    imagegen.Skew
	Seeds   []int64
	Steps   int    // training steps of each run; 0: the profile's
	N       int    // samples labelled per run; 0: DefaultImages
	Runs    string // folder of the run folders (<family>-skewed-s<seed>, <family>-balanced-s<seed>); a finished run there with the same configuration is reused, an interrupted one resumed
	// RunDone, when set, is told of each run as it is trained or found.
	RunDone func(dir string, reused bool)
}

// AmplifyArm is one training condition (skewed, or skewed with balanced sampling) over the seeds.
type AmplifyArm struct {
	Balance bool      `json:"balance"`
	Shares  []float64 `json:"shares"` // per seed: the share of samples the classifier puts in group 0
	// Classes is, per seed, the share of the samples the classifier gives each digit: which
	// digits a run stopped drawing, which a share of a group hides.
	Classes [][]float64 `json:"classes,omitempty"`
	// Amplification reads Shares against the skewed training share and parity.
	Amplification audit.Amplification `json:"amplification"`
	Dirs          []string            `json:"dirs"`
}

// AmplifyReport is the result of Amplify.
type AmplifyReport struct {
	Family  string        `json:"family"`
	Profile string        `json:"profile"`
	Steps   int           `json:"steps"` // of each run
	Skew    imagegen.Skew `json:"skew"`
	Seeds   []int64       `json:"seeds"`
	N       int           `json:"n"`
	Parity  float64       `json:"parity"` // group 0's share of MNIST's training set
	// ClassifierShare is the share the classifier gives group 0 on the skewed training images
	// themselves: how far its own errors move a share that is Skew.Fractions[0] by construction.
	ClassifierShare float64 `json:"classifier_share"`
	// TrainClasses is the share of each digit in the skewed training set (its true labels).
	TrainClasses      []float64  `json:"train_classes,omitempty"`
	ClassifierProfile string     `json:"classifier_profile"`
	Skewed            AmplifyArm `json:"skewed"`
	Balanced          AmplifyArm `json:"balanced"`
	// Effect is the balanced arm's share minus the skewed arm's, paired by seed: what the
	// mitigation moved.
	Effect  audit.Interval `json:"effect"`
	Command []string       `json:"command,omitempty"`
}

// Amplify runs the amplification audit of cfg (Zhao et al. 2017's question, asked over seeds
// against a bias of known size): every run trains, or is reused, then its samples are labelled.
func Amplify(ctx context.Context, cfg AmplifyConfig) (AmplifyReport, error) {
	rep := AmplifyReport{Family: cfg.Family, Profile: cfg.Options.Profile, Steps: cfg.Steps, Skew: cfg.Skew, Seeds: cfg.Seeds, N: cfg.N}
	if rep.N == 0 {
		rep.N = DefaultImages
	}
	switch {
	case len(cfg.Seeds) < 2:
		return rep, fmt.Errorf("amplify: %d seeds: an interval over seeds needs at least 2", len(cfg.Seeds))
	case len(cfg.Skew.Groups) != 2:
		return rep, fmt.Errorf("amplify: %d groups: the audit compares two", len(cfg.Skew.Groups))
	case rep.N < 2:
		return rep, fmt.Errorf("amplify: %d samples per run: want ≥ 2", rep.N)
	}
	if m, err := family.Build(cfg.Family, cfg.Options); err != nil {
		return rep, err
	} else if _, ok := m.(imagegen.Generator); !ok {
		return rep, fmt.Errorf("amplify: %s does not generate images: the audit trains an image family (gan, vae, diffusion, flow)", cfg.Family)
	}
	trainSet, err := data.LoadMNIST(data.Dir(cfg.Options.DataDir), data.Train)
	if err != nil {
		return rep, err
	}
	group := make([]bool, trainSet.NumClasses) // digits of group 0
	for _, l := range cfg.Skew.Groups[0] {
		if l < 0 || l >= len(group) {
			return rep, fmt.Errorf("amplify: label %d not in [0, %d)", l, len(group))
		}
		group[l] = true
	}
	if rep.Parity, err = groupShare(group, trainSet.Labels); err != nil {
		return rep, err
	}
	skew := cfg.Skew
	skewed, err := skew.Apply(trainSet)
	if err != nil {
		return rep, err
	}
	rep.ClassifierProfile = imagegen.ReferenceProfile(rep.N)
	clf, err := classifier.Reference(cfg.Options.Backend, cfg.Options.DataDir, rep.ClassifierProfile)
	if err != nil {
		return rep, err
	}
	if rep.ClassifierShare, _, err = classifiedShare(clf, group, skewed); err != nil {
		return rep, err
	}
	trainLabels := make([]int, skewed.N)
	for i, l := range skewed.Labels {
		trainLabels[i] = int(l)
	}
	if rep.TrainClasses, err = metrics.ClassHistogram(trainLabels, skewed.NumClasses); err != nil {
		return rep, err
	}
	trainShare := cfg.Skew.Fractions[0]
	for _, arm := range []*AmplifyArm{&rep.Skewed, &rep.Balanced} {
		arm.Balance = arm == &rep.Balanced
		skew.Balance = arm.Balance
		for _, seed := range cfg.Seeds {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			name := "skewed"
			if arm.Balance {
				name = "balanced"
			}
			dir := filepath.Join(cfg.Runs, fmt.Sprintf("%s-%s-s%d", cfg.Family, name, seed))
			run, err := amplifyRun(ctx, cfg, skew, seed, dir)
			if err != nil {
				return rep, err
			}
			rep.Steps = run.Step
			samples, err := run.Model.(imagegen.Generator).Samples(rep.N, Seed)
			if err != nil {
				return rep, err
			}
			share, classes, err := classifiedShare(clf, group, samples)
			if err != nil {
				return rep, err
			}
			arm.Shares, arm.Classes, arm.Dirs = append(arm.Shares, share), append(arm.Classes, classes), append(arm.Dirs, dir)
		}
		if arm.Amplification, err = audit.AuditAmplification(trainShare, rep.Parity, arm.Shares, audit.DefaultLevel); err != nil {
			return rep, err
		}
	}
	diffs := make([]float64, len(cfg.Seeds))
	for i := range diffs {
		diffs[i] = rep.Balanced.Shares[i] - rep.Skewed.Shares[i]
	}
	rep.Effect, err = audit.MeanCI(diffs, audit.DefaultLevel)
	return rep, err
}

// amplifyRun trains (or resumes) the run of seed on skew into dir, or loads it when dir holds a
// finished run of the same profile and configuration.
func amplifyRun(ctx context.Context, cfg AmplifyConfig, skew imagegen.Skew, seed int64, dir string) (*family.Run, error) {
	var ov family.Overrides
	s, err := json.Marshal(map[string]any{"skew": skew})
	if err == nil {
		err = ov.Underlay(s, "skew")
	}
	if err == nil {
		err = ov.Underlay(cfg.Options.Overrides, "overrides")
	}
	if err != nil {
		return nil, err
	}
	opts := cfg.Options
	opts.Seed, opts.Overrides = seed, ov.JSON()
	if family.Finished(dir, opts, cfg.Steps) {
		r, err := family.Load(cfg.Family, dir, opts)
		if err == nil && cfg.RunDone != nil {
			cfg.RunDone(dir, true)
		}
		return r, err
	}
	r, err := family.Continue(ctx, cfg.Family, family.RunConfig{Options: opts, Dir: dir, Steps: cfg.Steps, Progress: train.SilentProgress()})
	if err != nil {
		return nil, fmt.Errorf("amplify: training %s: %w", dir, err)
	}
	if cfg.RunDone != nil {
		cfg.RunDone(dir, false)
	}
	return r, nil
}

// classifiedShare is the share of images the classifier puts in the group (inGroup[label]),
// and the share it gives each class.
func classifiedShare(clf *classifier.Model, inGroup []bool, images *data.Images) (share float64, classes []float64, err error) {
	labels, _, err := clf.Predict(images.Float32(nil, 0, 1))
	if err == nil {
		share, err = groupShare(inGroup, labels)
	}
	if err == nil {
		classes, err = metrics.ClassHistogram(labels, len(inGroup))
	}
	return share, classes, err
}

// groupShare is the share of labels (any integer type) in the group.
func groupShare[L int | uint8](inGroup []bool, labels []L) (float64, error) {
	if len(labels) == 0 {
		return 0, fmt.Errorf("amplify: no labels")
	}
	in := 0
	for _, l := range labels {
		if inGroup[l] {
			in++
		}
	}
	return float64(in) / float64(len(labels)), nil
}

// Markdown is the report in Spanish, for a results folder.
func (r AmplifyReport) Markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	g0, g1 := digits(r.Skew.Groups[0]), digits(r.Skew.Groups[1])
	p("# Amplificación del sesgo: %s", r.Family)
	p("")
	p("Entrenado con un MNIST desequilibrado a propósito: %d imágenes, %.0f %% de dígitos %s y %.0f %% de %s (en MNIST, %s son el %.1f %%). "+
		"Perfil `%s`, %d pasos, semillas %v; %d muestras por ejecución, cada una clasificada por el clasificador de referencia (perfil `%s`), "+
		"que en las propias imágenes de entrenamiento da a %s una proporción de %.3f.",
		r.Skew.N, 100*r.Skew.Fractions[0], g0, 100*r.Skew.Fractions[1], g1, g0, 100*r.Parity, r.Profile, r.Steps, r.Seeds, r.N, r.ClassifierProfile, g0, r.ClassifierShare)
	p("")
	p("| entrenamiento | proporción de %s por semilla | media [IC 95 %%] | desplazamiento hacia el sesgo [IC 95 %%] | veredicto |", g0)
	p("|---|---|---|---|---|")
	for _, a := range []AmplifyArm{r.Skewed, r.Balanced} {
		name := "desequilibrado"
		if a.Balance {
			name = "muestreo equilibrado"
		}
		shares := make([]string, len(a.Shares))
		for i, s := range a.Shares {
			shares[i] = fmt.Sprintf("%.3f", s)
		}
		am := a.Amplification
		p("| %s | %s | %.3f [%.3f, %.3f] | %+.3f [%+.3f, %+.3f] | %s |", name, strings.Join(shares, ", "), am.Generated.Estimate, am.Generated.Lo, am.Generated.Hi,
			am.Shift.Estimate, am.Shift.Lo, am.Shift.Hi, am.Verdict.Spanish())
	}
	p("")
	p("Efecto de la mitigación (equilibrado − desequilibrado, emparejado por semilla): %+.3f [%+.3f, %+.3f].", r.Effect.Estimate, r.Effect.Lo, r.Effect.Hi)
	if len(r.TrainClasses) > 0 && len(r.Skewed.Classes) > 0 {
		p("")
		p("Dígitos en las muestras según el clasificador (%%, media de las semillas), frente a los del entrenamiento desequilibrado:")
		p("")
		head, rule := "| |", "|---|"
		for d := range r.TrainClasses {
			head, rule = head+fmt.Sprintf(" %d |", d), rule+"---|"
		}
		p("%s", head)
		p("%s", rule)
		row := func(name string, shares []float64) {
			cells := make([]string, len(shares))
			for i, x := range shares {
				cells[i] = fmt.Sprintf("%.1f", 100*x)
			}
			p("| %s | %s |", name, strings.Join(cells, " | "))
		}
		row("entrenamiento (etiquetas reales)", r.TrainClasses)
		for _, a := range []AmplifyArm{r.Skewed, r.Balanced} {
			name := "muestras, desequilibrado"
			if a.Balance {
				name = "muestras, muestreo equilibrado"
			}
			row(name, a.MeanClasses())
		}
	}
	if len(r.Command) > 0 {
		p("")
		p("Orden: `%s`", strings.Join(r.Command, " "))
	}
	return b.String()
}

// MeanClasses is the share of each digit in the arm's samples, averaged over its seeds (nil in
// a report written before Classes was).
func (a AmplifyArm) MeanClasses() []float64 {
	if len(a.Classes) == 0 {
		return nil
	}
	mean := make([]float64, len(a.Classes[0]))
	for _, c := range a.Classes {
		for i, x := range c {
			mean[i] += x / float64(len(a.Classes))
		}
	}
	return mean
}

func digits(ls []int) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = fmt.Sprint(l)
	}
	return strings.Join(s, ", ")
}
