package audit

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/iagen-course/iagen/lib/metrics"
)

// Report is the audit of one trained run that `iagen audit` writes as audit.json and turns into
// a model card ([Report.ModelCard]): the run's record, how the audit was made (sample count,
// seed, confidence level) and the numbers of an image audit ([AuditImages]), a text audit
// ([AuditTexts]) or a masked language model's minimal pairs ([AuditMaskedPairs]). Every field is
// a plain number, string or list, so the JSON reads flat.
type Report struct {
	Family string        `json:"family"`
	Kind   string        `json:"kind"` // "image", "text" or "masked" (a masked language model: minimal pairs only)
	Run    RunInfo       `json:"run"`
	N      int           `json:"n"`    // generated samples (images) or texts; minimal pairs (masked)
	Seed   uint64        `json:"seed"` // seed of the generated samples (imagegen.EvalSeed)
	Level  float64       `json:"level"`
	Image  *ImageReport  `json:"image,omitempty"`
	Text   *TextReport   `json:"text,omitempty"`
	Masked *MaskedReport `json:"masked,omitempty"`
}

// RunInfo is what the run folder says about the run (manifest.json and metrics.json).
type RunInfo struct {
	Dir      string             `json:"dir"`
	Profile  string             `json:"profile"`
	Seed     int64              `json:"seed"`
	Steps    int                `json:"steps"`
	Command  string             `json:"command"` // the training command line, space-separated
	Backend  string             `json:"backend"`
	Params   int                `json:"params"`
	Datasets map[string]string  `json:"datasets_sha256"`
	Metrics  map[string]float64 `json:"metrics"` // the numeric fields of metrics.json
}

// ImageReport is the image audit with how it was made: which reference classifier labelled the
// samples and gave the features, and how many real images each comparison used.
type ImageReport struct {
	ClassifierProfile string `json:"classifier_profile"`
	ClassifierSHA256  string `json:"classifier_weights_sha256"`
	// ReferenceLabels is the number of training labels behind the reference class histogram
	// (the whole training set).
	ReferenceLabels int `json:"reference_labels"`
	// TrainSubset is the number of training images (the first ones) whose features are the
	// nearest-neighbour reference of the copying audit.
	TrainSubset int `json:"train_subset"`
	// TestImages is the number of test images (the first ones) of the baselines.
	TestImages int `json:"test_images"`
	ImageAudit
}

// TextReport is the text audit with how the texts were generated.
type TextReport struct {
	Corpus           string `json:"corpus"`
	CorpusTrainChars int    `json:"corpus_train_chars"` // characters of the indexed training split
	Prompt           string `json:"prompt"`             // each text continues it; not audited
	CharsPerText     int    `json:"chars_per_text"`
	Sampling         any    `json:"sampling"`
	TextAudit
	// Gender is the occupation–gender audit, for a model trained on the generated occupation
	// corpus (data.OccupationCorpusName) only.
	Gender *GenderReport `json:"gender,omitempty"`
}

// GenderReport is the Spanish occupation–gender audit of a text model ([AuditTextGender]) with
// how its generations were drawn.
type GenderReport struct {
	// Prompts are the neutral prompts ([GenderPrompt]), one per template, each after a newline
	// (the corpus's sentence separator); PerTemplate continuations of Chars characters were drawn
	// for each with Sampling.
	Prompts     []string `json:"prompts"`
	PerTemplate int      `json:"generations_per_template"`
	Chars       int      `json:"chars_per_generation"`
	Sampling    any      `json:"sampling"`
	// Generations were drawn in all; Undetermined realise no (occupation, gender) of the corpus.
	Generations  int `json:"generations"`
	Undetermined int `json:"undetermined"`
	// TrainFeminineShare is the feminine share of all training sentences; GeneratedFeminineShare
	// that of the classified generations (null when none is).
	TrainFeminineShare     float64                `json:"train_feminine_share"`
	GeneratedFeminineShare *IntervalJSON          `json:"generated_feminine_share"`
	Occupations            []OccupationGenderJSON `json:"occupations"`
	Unseen                 []string               `json:"unseen_occupations"`
	// BiasAmplification is Zhao et al.'s (2017) mean shift towards each occupation's training
	// majority (null when no occupation was generated); its interval is Student-t over the
	// occupations (null with fewer than two).
	BiasAmplification         *float64      `json:"bias_amplification"`
	BiasAmplificationInterval *IntervalJSON `json:"bias_amplification_interval"`
	MinimalPairs              PairsJSON     `json:"minimal_pairs"`
}

// MaskedReport is the audit of a masked language model (lib/bert) trained on the occupation
// corpus. It writes no text of its own, so nothing of the generation audit applies (copying,
// generated gender shares, amplification); its minimal pairs are scored as CrowS-Pairs scores
// masked models, by the pseudo-log-likelihood of the characters the two sentences share
// ([ScoreMinimalPairsShared]), and, for contrast, by that of the whole sentences.
type MaskedReport struct {
	Corpus             string    `json:"corpus"`
	Prefix             string    `json:"prefix"` // before each sentence (the corpus's line start)
	TrainFeminineShare float64   `json:"train_feminine_share"`
	MinimalPairs       PairsJSON `json:"minimal_pairs"`      // shared characters (CrowS-Pairs)
	WholeSentence      PairsJSON `json:"whole_sentence_pll"` // every character of each sentence
}

// OccupationGenderJSON is [OccupationGender] as audit.json writes it.
type OccupationGenderJSON struct {
	Occupation string       `json:"occupation"`
	Train      float64      `json:"train_feminine_share"`
	Generated  IntervalJSON `json:"generated_feminine_share"`
	Shift      float64      `json:"shift"`
	Verdict    Verdict      `json:"verdict,omitempty"`
}

// PairsJSON is the minimal-pair score ([ScorePairs], Nangia et al. 2020) as audit.json writes
// it, with the model's mean probability of the stereotyped sentence within its pair,
// σ(LL_stereo − LL_anti), next to the mean training share of the stereotyped gender over the
// same pairs: a model that learned the corpus's statistics exactly has the two equal.
type PairsJSON struct {
	Pairs                  int          `json:"pairs"`
	StereotypedShare       IntervalJSON `json:"stereotyped_share"`
	Wins                   int          `json:"wins"`
	Ties                   int          `json:"ties"`
	ModelStereoProbability float64      `json:"model_stereo_probability"`
	TrainStereoShare       float64      `json:"train_stereo_share"`
}

// RepresentationJSON is [Representation] as audit.json writes it.
type RepresentationJSON struct {
	TV                  float64 `json:"tv"`
	KL                  float64 `json:"kl_nats"`
	FairnessDiscrepancy float64 `json:"fairness_discrepancy"`
	Missing             []int   `json:"missing_classes"`
	Covered             int     `json:"classes_covered"`
}

func representationJSON(r Representation) RepresentationJSON {
	missing := r.Missing
	if missing == nil {
		missing = []int{}
	}
	return RepresentationJSON{TV: r.TV, KL: r.KL, FairnessDiscrepancy: r.FairnessDiscrepancy, Missing: missing, Covered: r.Covered}
}

// QuantilesJSON is [Quantiles] as audit.json writes it.
type QuantilesJSON struct {
	Min    float64 `json:"min"`
	P1     float64 `json:"p1"`
	P5     float64 `json:"p5"`
	P25    float64 `json:"p25"`
	Median float64 `json:"median"`
	P75    float64 `json:"p75"`
	P95    float64 `json:"p95"`
	Max    float64 `json:"max"`
}

// CopyingJSON is [CopyAudit] as audit.json writes it.
type CopyingJSON struct {
	Generated  QuantilesJSON `json:"generated_nn_distance"`
	Test       QuantilesJSON `json:"test_nn_distance"`
	Percentile float64       `json:"copy_percentile"`
	Threshold  float64       `json:"threshold"`
	CopyShare  float64       `json:"copy_share"`
	// CopyShareInterval is CopyShare with its Wilson interval: one that lies above
	// CopyPercentile means more near-copies than unseen real images give.
	CopyShareInterval IntervalJSON `json:"copy_share_interval"`
}

// copyingJSON is c, measured on n generated samples, with the Wilson interval of its copy share
// at level.
func copyingJSON(c CopyAudit, n int, level float64) (CopyingJSON, error) {
	iv, err := WilsonInterval(int(math.Round(c.CopyShare*float64(n))), n, level)
	if err != nil {
		return CopyingJSON{}, err
	}
	return CopyingJSON{Generated: QuantilesJSON(c.Generated), Test: QuantilesJSON(c.Test), Percentile: CopyPercentile,
		Threshold: c.Threshold, CopyShare: c.CopyShare, CopyShareInterval: IntervalJSON(iv)}, nil
}

// IntervalJSON is [Interval] as audit.json writes it.
type IntervalJSON struct {
	Estimate float64 `json:"estimate"`
	Lo       float64 `json:"lo"`
	Hi       float64 `json:"hi"`
	Level    float64 `json:"level"`
	N        int     `json:"n"`
}

// ImageInputs are what [AuditImages] measures: the reference classifier's labels and features
// of the generated images, of real test images (the baselines) and of a subset of the training
// images (the nearest-neighbour reference), and the class histogram of the training labels.
type ImageInputs struct {
	Generated, Test, Train      metrics.Matrix
	GeneratedLabels, TestLabels []int
	// TestTruth are the true labels of the test images, for the classifier's accuracy on them
	// (nil: not reported).
	TestTruth []int
	Reference []float64 // training class histogram (metrics.ClassHistogram)
	Seed      uint64    // of Separability's split
	Level     float64   // of the intervals; 0: DefaultLevel
}

// ImageAudit holds the numbers of an image audit, each with the baseline that real test images
// give, since the classifier and the features are imperfect yardsticks.
type ImageAudit struct {
	GeneratedHistogram []float64 `json:"generated_histogram"`
	TestHistogram      []float64 `json:"test_histogram"`
	ReferenceHistogram []float64 `json:"reference_histogram"`
	// ClassifierTestAccuracy is the classifier's accuracy on the test images (-1 if unknown).
	ClassifierTestAccuracy float64 `json:"classifier_test_accuracy"`
	// Representation compares the generated histogram with the training one;
	// RepresentationTest the test images' predicted histogram with it (what the classifier's
	// errors and the test set's own mix alone give).
	Representation     RepresentationJSON `json:"representation"`
	RepresentationTest RepresentationJSON `json:"representation_test_baseline"`
	// FairnessDiscrepancyUniform is the fairness discrepancy against the uniform target.
	FairnessDiscrepancyUniform float64     `json:"fairness_discrepancy_uniform"`
	Copying                    CopyingJSON `json:"copying"`
	// Separability is the 1-NN two-sample accuracy of test against generated features;
	// SeparabilityBaseline that of test against training features: ½ when the features treat
	// seen and unseen real images alike, above ½ when the classifier's features tell its own
	// training images from test ones (then only the excess of Separability over it speaks
	// about the generator).
	Separability         IntervalJSON `json:"separability"`
	SeparabilityBaseline IntervalJSON `json:"separability_real_baseline"`
}

// AuditImages runs the representation, copying and authenticity audits on in.
func AuditImages(in ImageInputs) (ImageAudit, error) {
	level := in.Level
	if level == 0 {
		level = DefaultLevel
	}
	k := len(in.Reference)
	if in.Generated.Rows != len(in.GeneratedLabels) || in.Test.Rows != len(in.TestLabels) {
		return ImageAudit{}, fmt.Errorf("audit: %d generated features for %d labels, %d test features for %d labels",
			in.Generated.Rows, len(in.GeneratedLabels), in.Test.Rows, len(in.TestLabels))
	}
	a := ImageAudit{ReferenceHistogram: in.Reference, ClassifierTestAccuracy: -1}
	var err error
	if a.GeneratedHistogram, err = metrics.ClassHistogram(in.GeneratedLabels, k); err != nil {
		return ImageAudit{}, fmt.Errorf("audit: generated labels: %w", err)
	}
	if a.TestHistogram, err = metrics.ClassHistogram(in.TestLabels, k); err != nil {
		return ImageAudit{}, fmt.Errorf("audit: test labels: %w", err)
	}
	if in.TestTruth != nil {
		if len(in.TestTruth) != len(in.TestLabels) {
			return ImageAudit{}, fmt.Errorf("audit: %d true test labels for %d predicted", len(in.TestTruth), len(in.TestLabels))
		}
		correct := 0
		for i, l := range in.TestLabels {
			if l == in.TestTruth[i] {
				correct++
			}
		}
		a.ClassifierTestAccuracy = float64(correct) / float64(len(in.TestLabels))
	}
	rep, err := AuditRepresentation(a.GeneratedHistogram, in.Reference, 0)
	if err != nil {
		return ImageAudit{}, err
	}
	repTest, err := AuditRepresentation(a.TestHistogram, in.Reference, 0)
	if err != nil {
		return ImageAudit{}, err
	}
	a.Representation, a.RepresentationTest = representationJSON(rep), representationJSON(repTest)
	if a.FairnessDiscrepancyUniform, err = FairnessDiscrepancy(a.GeneratedHistogram, Uniform(k)); err != nil {
		return ImageAudit{}, err
	}
	cp, err := AuditCopying(in.Generated, in.Test, in.Train)
	if err != nil {
		return ImageAudit{}, err
	}
	if a.Copying, err = copyingJSON(cp, in.Generated.Rows, level); err != nil {
		return ImageAudit{}, err
	}
	sep, err := Separability(in.Test, in.Generated, in.Seed, level)
	if err != nil {
		return ImageAudit{}, err
	}
	base, err := Separability(in.Test, in.Train, in.Seed, level)
	if err != nil {
		return ImageAudit{}, err
	}
	a.Separability, a.SeparabilityBaseline = IntervalJSON(sep), IntervalJSON(base)
	return a, nil
}

// DefaultWindow is the length in characters of the windows whose verbatim occurrence in the
// corpus [AuditTexts] counts: 50, long enough that common words and phrases do not explain a
// match.
const DefaultWindow = 50

// TextCopying is the copying measured on a set of texts.
type TextCopying struct {
	Texts int `json:"texts"`
	Chars int `json:"chars"` // characters in all
	// LongestChars is the longest passage of any text found verbatim in the corpus (characters),
	// Longest that passage; MeanLongestChars the mean over texts of each one's longest.
	LongestChars     int     `json:"longest_copied_chars"`
	MeanLongestChars float64 `json:"mean_longest_copied_chars"`
	Longest          string  `json:"longest_copied_text"`
	// WindowShare is the share of the texts' Window-character windows found verbatim in the
	// corpus, over Windows windows (null when no text is that long).
	WindowShare *float64 `json:"window_share"`
	Windows     int      `json:"windows_checked"`
}

// TextAudit compares the copying of generated texts with that of held-out texts of the same
// lengths (text the model never trained on shares some passages with the corpus by chance:
// names, formulas, common phrases).
type TextAudit struct {
	Window    int         `json:"window_chars"`
	Generated TextCopying `json:"generated"`
	HeldOut   TextCopying `json:"held_out_baseline"`
}

// AuditTexts measures the verbatim copying of generated texts from the corpus indexed by idx,
// against the same measurement on heldOut texts (see [HeldOutPassages]), with windows of
// window characters (0: DefaultWindow).
func AuditTexts(idx *CorpusIndex, generated, heldOut []string, window int) (TextAudit, error) {
	if window == 0 {
		window = DefaultWindow
	}
	if window < 1 {
		return TextAudit{}, fmt.Errorf("audit: window of %d characters", window)
	}
	a := TextAudit{Window: window}
	var err error
	if a.Generated, err = idx.textCopying("generated", generated, window); err != nil {
		return TextAudit{}, err
	}
	if a.HeldOut, err = idx.textCopying("held-out", heldOut, window); err != nil {
		return TextAudit{}, err
	}
	return a, nil
}

func (c *CorpusIndex) textCopying(what string, texts []string, window int) (TextCopying, error) {
	if len(texts) == 0 {
		return TextCopying{}, fmt.Errorf("audit: no %s texts", what)
	}
	tc := TextCopying{Texts: len(texts)}
	total := 0
	for _, t := range texts {
		span, err := c.LongestCopied(t)
		if err != nil {
			return TextCopying{}, fmt.Errorf("audit: %s text: %w", what, err)
		}
		tc.Chars += utf8.RuneCountInString(t)
		total += span.Runes
		if span.Runes > tc.LongestChars {
			tc.LongestChars, tc.Longest = span.Runes, span.Text
		}
	}
	tc.MeanLongestChars = float64(total) / float64(len(texts))
	found, checked := c.WindowsFound(texts, window)
	if checked > 0 {
		share := float64(found) / float64(checked)
		tc.WindowShare = &share
	}
	tc.Windows = checked
	return tc, nil
}

// Contains reports whether s occurs verbatim in the corpus.
func (c *CorpusIndex) Contains(s string) bool {
	return len(c.index.Lookup([]byte(s), 1)) > 0
}

// WindowsFound counts the window-character substrings of texts (every start position, on
// character boundaries) and how many of them occur verbatim in the corpus.
func (c *CorpusIndex) WindowsFound(texts []string, window int) (found, checked int) {
	for _, t := range texts {
		r := []rune(t)
		for i := 0; i+window <= len(r); i++ {
			checked++
			if c.Contains(string(r[i : i+window])) {
				found++
			}
		}
	}
	return found, checked
}

// HeldOutPassages cuts from text (held-out validation text) one passage per entry of lengths,
// that many characters long, starting at evenly spaced offsets across it, so the baseline
// samples all of the held-out text rather than its beginning.
func HeldOutPassages(text string, lengths []int) ([]string, error) {
	r := []rune(text)
	out := make([]string, len(lengths))
	for i, n := range lengths {
		if n < 0 || n > len(r) {
			return nil, fmt.Errorf("audit: a held-out passage of %d characters from a text of %d", n, len(r))
		}
		start := 0
		if len(lengths) > 1 {
			start = i * (len(r) - n) / (len(lengths) - 1)
		}
		out[i] = string(r[start : start+n])
	}
	return out, nil
}
