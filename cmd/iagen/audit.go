package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/iagen-course/iagen/lib/audit"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/classifier"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gpt"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/rnn"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	register(&command{name: "audit", usage: "audit <family> --from DIR [--out DIR] [--n N] [--gender-n N]",
		summary: "audit a trained run (classes, copying, authenticity; verbatim copying for text, and occupation–gender bias on es-ocupaciones) into audit.json and model-card.md", run: runAudit})
}

// Defaults of iagen audit. 2,000 images are the fewest the Scorer labels with the ≥ 99 % CNN
// (imagegen.ReferenceProfile) rather than the quick ci classifier.
const (
	defaultAuditImages      = 2000
	defaultAuditTexts       = 20
	defaultAuditTrainSubset = 10000
	// defaultGenderPerTemplate continuations of each of the 10 neutral prompts: 2,000 in all,
	// about 57 per occupation, so a share's 95 % Wilson interval is about ±0.12 wide.
	defaultGenderPerTemplate = 200
)

// auditSeed seeds the generated samples and texts of an audit: the evaluation seed, so the
// audited images are the ones metrics.json scored when n is the evaluation's sample count.
const auditSeed = imagegen.EvalSeed

// auditFlags are iagen audit's own flags, besides --from, --backend and --data-dir.
type auditFlags struct {
	fs          *flag.FlagSet
	out         string
	n           int
	trainSubset int
	genderN     int
}

func runAudit(args []string) error {
	var f auditFlags
	return onRun("audit", args, func(fs *flag.FlagSet) {
		f.fs = fs
		fs.StringVar(&f.out, "out", "", "folder for audit.json and model-card.md (default: the run folder)")
		fs.IntVar(&f.n, "n", 0, fmt.Sprintf("generated images (default %d) or texts (default %d)", defaultAuditImages, defaultAuditTexts))
		fs.IntVar(&f.trainSubset, "train-subset", defaultAuditTrainSubset, "training images (the first ones) searched for the nearest neighbour of each sample")
		fs.IntVar(&f.genderN, "gender-n", defaultGenderPerTemplate, "text runs on "+data.OccupationCorpusName+": continuations of each neutral prompt for the gender audit")
	}, func() error {
		if f.n < 0 || f.n == 1 {
			return fmt.Errorf("--n must be ≥ 2 (or 0 for the default), got %d", f.n)
		}
		if f.trainSubset < 2 {
			return fmt.Errorf("--train-subset must be ≥ 2, got %d", f.trainSubset)
		}
		if f.genderN < 1 {
			return fmt.Errorf("--gender-n must be ≥ 1, got %d", f.genderN)
		}
		return nil
	}, func(r *family.Run) error {
		rep, err := auditRun(r, f)
		if err != nil {
			return err
		}
		dir := f.out
		if dir == "" {
			dir = r.Dir
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := train.WriteJSON(filepath.Join(dir, "audit.json"), rep); err != nil {
			return err
		}
		card := filepath.Join(dir, "model-card.md")
		if err := train.WriteFileAtomic(card, []byte(rep.ModelCard())); err != nil {
			return err
		}
		fmt.Println(filepath.Join(dir, "audit.json"))
		fmt.Println(card)
		return nil
	})
}

// auditRun audits the run r: its images (an imagegen.Generator) or its text (gpt, lstm).
func auditRun(r *family.Run, f auditFlags) (audit.Report, error) {
	info, err := runInfo(r)
	if err != nil {
		return audit.Report{}, err
	}
	rep := audit.Report{Family: r.Family, Run: info, Seed: auditSeed, Level: audit.DefaultLevel}
	dataDir := f.fs.Lookup("data-dir").Value.String()
	if g, ok := r.Model.(imagegen.Generator); ok {
		rep.Kind, rep.N = "image", f.n
		if rep.N == 0 {
			rep.N = defaultAuditImages
		}
		rep.Image, err = auditImages(g, f.fs.Lookup("backend").Value.String(), dataDir, rep.N, f.trainSubset)
		return rep, err
	}
	rep.Kind, rep.N = "text", f.n
	if rep.N == 0 {
		rep.N = defaultAuditTexts
	}
	rep.Text, err = auditText(r, dataDir, rep.N, f.genderN)
	return rep, err
}

// runInfo gathers the run's record from its manifest and metrics.json.
func runInfo(r *family.Run) (audit.RunInfo, error) {
	man := r.Manifest
	info := audit.RunInfo{Dir: r.Dir, Profile: man.Profile, Seed: man.Seed, Steps: r.Step, Command: strings.Join(man.Command, " "),
		Backend: man.Backend.Name, Params: r.Model.Info().Params, Datasets: man.Datasets, Metrics: map[string]float64{}}
	raw, err := os.ReadFile(filepath.Join(r.Dir, "metrics.json"))
	if err != nil {
		return info, fmt.Errorf("%s is not a finished run folder (no metrics.json)", r.Dir)
	}
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		return info, fmt.Errorf("%s/metrics.json: %w", r.Dir, err)
	}
	for k, v := range all {
		if x, ok := v.(float64); ok {
			info.Metrics[k] = x
		}
	}
	return info, nil
}

// auditImages draws n images from g and audits them in the features of the reference
// classifier the Scorer uses for n samples (imagegen.ReferenceProfile), against the first n
// test images and the first trainSubset training images.
func auditImages(g imagegen.Generator, backendName, dataDir string, n, trainSubset int) (*audit.ImageReport, error) {
	b, err := backend.New(backendName)
	if err != nil {
		return nil, err
	}
	defer b.Finalize()
	profile := imagegen.ReferenceProfile(n)
	clf, err := classifier.Reference(b, dataDir, profile)
	if err != nil {
		return nil, err
	}
	samples, err := g.Samples(n, auditSeed)
	if err != nil {
		return nil, err
	}
	if samples.N != n || samples.Height != 28 || samples.Width != 28 || samples.Channels != 1 {
		return nil, fmt.Errorf("the generator gave %d images of %d×%d×%d, want %d of 28×28×1", samples.N, samples.Height, samples.Width, samples.Channels, n)
	}
	trainSet, err := data.LoadMNIST(data.Dir(dataDir), data.Train)
	if err != nil {
		return nil, err
	}
	test := clf.TestSet()
	rep := &audit.ImageReport{ClassifierProfile: profile, ClassifierSHA256: clf.WeightsSHA256, ReferenceLabels: trainSet.N,
		TrainSubset: min(trainSubset, trainSet.N), TestImages: min(n, test.N)}
	in := audit.ImageInputs{Seed: auditSeed, Level: audit.DefaultLevel}
	if in.GeneratedLabels, in.Generated, err = predictFeatures(clf, samples, nil); err != nil {
		return nil, err
	}
	if in.TestLabels, in.Test, err = predictFeatures(clf, test, firstIndices(rep.TestImages)); err != nil {
		return nil, err
	}
	if _, in.Train, err = predictFeatures(clf, trainSet, firstIndices(rep.TrainSubset)); err != nil {
		return nil, err
	}
	for _, l := range test.Labels[:rep.TestImages] {
		in.TestTruth = append(in.TestTruth, int(l))
	}
	trainLabels := make([]int, trainSet.N)
	for i, l := range trainSet.Labels {
		trainLabels[i] = int(l)
	}
	if in.Reference, err = metrics.ClassHistogram(trainLabels, trainSet.NumClasses); err != nil {
		return nil, err
	}
	if rep.ImageAudit, err = audit.AuditImages(in); err != nil {
		return nil, err
	}
	return rep, nil
}

// predictFeatures classifies images idx of set (nil: all) and returns the labels and the
// penultimate-layer features.
func predictFeatures(clf *classifier.Model, set *data.Images, idx []int) ([]int, metrics.Matrix, error) {
	labels, feats, err := clf.Predict(set.Float32(idx, 0, 1))
	if err != nil {
		return nil, metrics.Matrix{}, err
	}
	m, err := metrics.MatrixFromRows(feats)
	return labels, m, err
}

func firstIndices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// textGenerator is what the audit needs of a text family: its corpus, its prompt and sampling
// settings, and rows continuations of chars characters of a prompt drawn with a sampling and a
// seed.
type textGenerator struct {
	corpus, prompt string
	chars          int
	sampling       gpt.Sampling
	generate       func(prompt string, chars, rows int, s gpt.Sampling, seed int64) ([]string, error)
}

// textGeneratorOf returns the text generator of a gpt or lstm model.
func textGeneratorOf(r *family.Run) (textGenerator, error) {
	switch m := r.Model.(type) {
	case *gpt.Model:
		return textGenerator{corpus: m.Corpus, prompt: m.Prompt, chars: m.SampleChars, sampling: m.Sampling,
			generate: func(prompt string, chars, rows int, s gpt.Sampling, seed int64) ([]string, error) {
				return m.Generate(prompt, chars, gpt.GenerateOptions{Sampling: s, Rows: rows, Seed: seed})
			}}, nil
	case *rnn.Model:
		return textGenerator{corpus: m.Corpus, prompt: m.Prompt, chars: m.SampleChars, sampling: m.Sampling,
			generate: func(prompt string, chars, rows int, s gpt.Sampling, seed int64) ([]string, error) {
				return m.Generate(prompt, chars, rnn.GenerateOptions{Sampling: s, Rows: rows, Seed: seed})
			}}, nil
	}
	return textGenerator{}, fmt.Errorf("family %s has nothing to audit: it generates neither images nor text", r.Family)
}

// auditText generates n texts from the run's model and measures their verbatim copying from
// the training split of its corpus, against validation passages of the same lengths; on the
// occupation corpus it adds the gender audit (auditGender, genderN continuations per prompt).
func auditText(r *family.Run, dataDir string, n, genderN int) (*audit.TextReport, error) {
	tg, err := textGeneratorOf(r)
	if err != nil {
		return nil, err
	}
	text, err := data.LoadText(data.Dir(dataDir), tg.corpus)
	if err != nil {
		return nil, err
	}
	trainText, valText := data.SplitText(text)
	idx, err := audit.NewCorpusIndex(trainText)
	if err != nil {
		return nil, err
	}
	texts, err := tg.generate(tg.prompt, tg.chars, n, tg.sampling, int64(auditSeed))
	if err != nil {
		return nil, err
	}
	lengths := make([]int, len(texts))
	for i, t := range texts {
		lengths[i] = utf8.RuneCountInString(t)
	}
	heldOut, err := audit.HeldOutPassages(valText, lengths)
	if err != nil {
		return nil, err
	}
	rep := &audit.TextReport{Corpus: tg.corpus, CorpusTrainChars: utf8.RuneCountInString(trainText), Prompt: tg.prompt,
		CharsPerText: tg.chars, Sampling: tg.sampling}
	if rep.TextAudit, err = audit.AuditTexts(idx, texts, heldOut, 0); err != nil {
		return nil, err
	}
	if tg.corpus == data.OccupationCorpusName {
		if rep.Gender, err = auditGender(r, tg, genderN); err != nil {
			return nil, fmt.Errorf("gender audit: %w", err)
		}
	}
	return rep, nil
}

// lineStart precedes every sentence of the occupation corpus (one sentence per line): the
// prompts and the minimal pairs start with it, so the model reads each as a line's start.
const lineStart = "\n"

// genderSampling draws from the model's own distribution (temperature 1, no top-k or top-p):
// a lower temperature or a nucleus sharpens every majority, so it would amplify the training
// bias by construction, whatever the model learned.
var genderSampling = gpt.Sampling{Temperature: 1}

// auditGender is the occupation–gender audit of a model trained on the occupation corpus:
// perTemplate continuations of each neutral prompt (audit.GenderPrompt), classified and compared
// with the corpus's truth, and the minimal pairs of that truth scored by the model's exact
// log-likelihood (family.TextScorer).
func auditGender(r *family.Run, tg textGenerator, perTemplate int) (*audit.GenderReport, error) {
	scorer, ok := r.Model.(family.TextScorer)
	if !ok {
		return nil, fmt.Errorf("family %s does not score texts (family.TextScorer)", r.Family)
	}
	_, truth, err := data.GeneratedOccupationText(tg.corpus)
	if err != nil {
		return nil, err
	}
	c, err := audit.NewGenderClassifier(data.Occupations, data.OccupationTemplates)
	if err != nil {
		return nil, err
	}
	var prompts, gens []string
	chars := 0
	for i, tpl := range data.OccupationTemplates {
		p := audit.GenderPrompt(tpl)
		n := c.MaxChars() - utf8.RuneCountInString(p) // enough to reach every decisive mark
		out, err := tg.generate(lineStart+p, n, perTemplate, genderSampling, int64(auditSeed)+int64(i))
		if err != nil {
			return nil, err
		}
		for _, s := range out {
			gens = append(gens, p+strings.SplitN(s, "\n", 2)[0]) // the sentence the prompt starts
		}
		prompts, chars = append(prompts, p), max(chars, n)
	}
	pairs, err := audit.MinimalPairs(truth, data.OccupationTemplates)
	if err != nil {
		return nil, err
	}
	scores, err := audit.ScoreMinimalPairs(pairs, lineStart, scorer.LogLikelihood)
	if err != nil {
		return nil, err
	}
	g, err := audit.AuditTextGender(truth, c, gens, pairs, scores, audit.DefaultLevel)
	if err != nil {
		return nil, err
	}
	g.Prompts, g.PerTemplate, g.Chars, g.Sampling = prompts, perTemplate, chars, genderSampling
	return &g, nil
}
