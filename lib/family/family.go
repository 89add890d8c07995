package family

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/train"
)

// Profiles every family offers (README): ci (seconds), small (minutes on 2 CPU cores,
// reaches BENCH.md's "pass" where feasible), full (GPU or long CPU runs), bench (BENCH.md's exact
// configuration, for speed comparisons).
var Profiles = []string{"ci", "small", "full", "bench"}

// Options are what every family's constructor takes.
type Options struct {
	Backend compute.Backend
	Profile string
	Seed    int64
	DataDir string // "" means data.Dir("")

	// Overrides is a JSON object whose fields replace those of the profile's configuration
	// (the names of the family's Config JSON tags), e.g. {"steps": 2000, "ema_decay": 0.99}:
	// what `iagen train --set` and `--config` give, and how a run folder's manifest rebuilds
	// the exact model it trained. Empty means the profile as it is.
	Overrides json.RawMessage
}

// New builds a family's model: the configuration of opts.Profile with opts.Overrides applied
// (Configure), then build — each family's New is this with its ProfileConfig and NewWithConfig.
func New[C, M any](opts Options, profile func(string) (C, error), build func(Options, C) (M, error)) (M, error) {
	cfg, err := Configure(opts, profile)
	if err != nil {
		var zero M
		return zero, err
	}
	return build(opts, cfg)
}

// Configure returns the configuration of opts.Profile given by profile, with opts.Overrides
// applied. An override naming no field of the configuration is an error, so that a typo is
// not silently ignored.
func Configure[C any](opts Options, profile func(string) (C, error)) (C, error) {
	cfg, err := profile(opts.Profile)
	if err != nil {
		return cfg, err
	}
	if err := Decode(opts.Overrides, &cfg, "configuration overrides"); err != nil {
		var zero C
		return zero, err
	}
	return cfg, nil
}

// Info describes a built model for manifests and metrics.json.
type Info struct {
	Steps     int               // default number of training steps of the profile
	Config    any               // the full configuration, JSON-encodable
	Datasets  map[string]string // data file → SHA-256
	Params    int               // trainable parameters
	SampleExt string            // extension of the samples file: ".png" or ".txt"
}

// Model is a family's model built for one profile: a training task (see train.Task) that
// describes itself. Models that have an evaluation implement train.Evaluator: its metrics are
// the family's fields of metrics.json. Models that generate implement Sampler.
type Model interface {
	train.Task
	Info() Info
}

// Sampler writes n samples to path: a PNG image grid for image families, UTF-8 text for text
// families.
type Sampler interface {
	Sample(n int, path string) error
}

// TextScorer is implemented by the character-level text families (gpt, lstm): the exact
// log-likelihood of texts, which the minimal-pair audit of `iagen audit` compares.
type TextScorer interface {
	// LogLikelihood returns, for each text x_0…x_{n−1}, Σ_{t≥1} log p(x_t | x_<t) in nats: the
	// first character is context only (the models have no start-of-text symbol).
	LogLikelihood(texts []string) ([]float64, error)
}

// Family is one registered family.
type Family struct {
	Name       string // short name used on the command line: gan, vae, gpt, diffusion, flow, lstm
	Title      string // one-line description
	Generative bool   // false for helper models (the metrics classifier)
	New        func(opts Options) (Model, error)
	Curves     []Curve // the charts of its training history that its published results show
}

var (
	mu       sync.Mutex
	registry = map[string]Family{}
)

// Register adds a family; it panics on a duplicate name (a programming error at init time).
func Register(f Family) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[f.Name]; dup {
		panic("family " + f.Name + " registered twice")
	}
	registry[f.Name] = f
}

// Get returns the family registered under name.
func Get(name string) (Family, error) {
	mu.Lock()
	defer mu.Unlock()
	f, ok := registry[name]
	if !ok {
		return Family{}, fmt.Errorf("unknown family %q (available: %s)", name, strings.Join(namesLocked(), ", "))
	}
	return f, nil
}

// Names lists the registered names, sorted.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// CheckProfile returns an error naming the valid profiles when p is not one.
func CheckProfile(p string) error {
	for _, q := range Profiles {
		if p == q {
			return nil
		}
	}
	return fmt.Errorf("unknown profile %q (use one of %s)", p, strings.Join(Profiles, ", "))
}

// Build constructs the model of family name with opts, turning a panic during construction
// (GoMLX reports shape errors by panicking) into an error.
func Build(name string, opts Options) (m Model, err error) {
	f, err := Get(name)
	if err != nil {
		return nil, err
	}
	if err := CheckProfile(opts.Profile); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("building %s (%s profile): %v", name, opts.Profile, r)
		}
	}()
	return f.New(opts)
}

// ProfileEnvVar selects the profile of notebooks and scripts run without flags (tests set it
// to "ci").
const ProfileEnvVar = "IAGEN_PROFILE"

// ProfileFromEnv returns $IAGEN_PROFILE when it names a profile, else def.
func ProfileFromEnv(def string) string {
	if p := os.Getenv(ProfileEnvVar); CheckProfile(p) == nil {
		return p
	}
	return def
}

// RunsEnvVar names the folder under which notebooks keep their runs.
const RunsEnvVar = "IAGEN_RUNS_DIR"

// RunDir returns the run folder a notebook uses for a model: $IAGEN_RUNS_DIR/name/profile, or
// under the system's temporary folder. Notebook cells run as separate processes, so a cell
// that trains saves there and later cells load from there.
func RunDir(name, profile string) string {
	root := os.Getenv(RunsEnvVar)
	if root == "" {
		root = filepath.Join(os.TempDir(), "iagen-runs")
	}
	return filepath.Join(root, name, profile)
}
