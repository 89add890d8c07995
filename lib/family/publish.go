package family

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/iagen-course/iagen/lib/atomicfile"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/viz"
)

// Curve is one chart of a run's training history: the log.jsonl keys drawn together against
// the step, saved as Name+".svg" among the published results.
type Curve struct {
	Name, Title string
	Keys        []string
}

// ResultsDir is where the published results of family name and profile live in the checkout:
// results/<family>/<profile>. root "" means the checkout found from the working
// directory, the executable or $IAGEN_ROOT (notebooks).
func ResultsDir(root, name, profile string) string {
	if root == "" {
		root = backend.CheckoutRoot()
	}
	return filepath.Join(root, "results", name, profile)
}

// publishedFiles are the files of a run folder that a reader needs; checkpoints stay behind.
var publishedFiles = []string{"metrics.json", "manifest.json", "log.jsonl", "samples.png", "samples.txt", "study.json", "study.svg"}

// Publish copies what a reader needs of the finished run of family name in dir into out —
// metrics.json, manifest.json, log.jsonl, the samples and a study (Studier), not the
// checkpoints — and draws the family's curves there as SVG. The manifest's command reproduces
// the run.
func Publish(name, dir, out string) error {
	f, err := Get(name)
	if err != nil {
		return err
	}
	man, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	if man.Family != name {
		return fmt.Errorf("%s holds a %s run, not %s", dir, man.Family, name)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, file := range publishedFiles {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if os.IsNotExist(err) {
			continue
		}
		if err == nil {
			err = atomicfile.Write(filepath.Join(out, file), b)
		}
		if err != nil {
			return fmt.Errorf("publishing %s: %w", file, err)
		}
	}
	history, err := train.ReadLog(dir)
	if err != nil {
		return err
	}
	for _, c := range f.Curves {
		chart, err := viz.LineChart(c.Title, "paso", "", train.HistorySeries(history, c.Keys...))
		if err != nil {
			return fmt.Errorf("curve %s: %w", c.Name, err)
		}
		if err := viz.SaveChart(chart, filepath.Join(out, c.Name+".svg")); err != nil {
			return err
		}
	}
	return nil
}

// ReadMetrics reads dir/metrics.json, the flat object of a run's numbers.
func ReadMetrics(dir string) (map[string]any, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s/metrics.json: %w", dir, err)
	}
	return m, nil
}
