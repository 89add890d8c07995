package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
)

// regression is a small Task: a 2-layer MLP fitting a fixed random linear map, with Gaussian
// noise from the store's RNG added to its hidden layer — so an exact resume needs the data
// order, the optimizer moments and the RNG state all restored.
type regression struct {
	store  *model.Store
	step   *Exec
	x, y   []float32
	nanAt  int // step at which the loss is forced to NaN (-1: never)
	cancel func()
	stopAt int
}

const regN, regIn, regBatch = 256, 8, 16

func newRegression(t *testing.T, b compute.Backend) *regression {
	t.Helper()
	r := &regression{store: model.NewStore(), nanAt: -1, stopAt: -1}
	rng := rand.New(rand.NewPCG(1, 2))
	r.x = make([]float32, regN*regIn)
	r.y = make([]float32, regN)
	for i := range regN {
		var s float32
		for j := range regIn {
			v := float32(rng.NormFloat64())
			r.x[i*regIn+j] = v
			s += v * float32(j-3)
		}
		r.y[i] = s
	}
	var err error
	r.step, err = NewTrainExec(b, r.store, optimizer.Adam().LearningRate(1e-2).Done(), "", []string{"loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x, y := in[0], in[1]
			h := layers.Dense(scope.In("l1"), x, true, 16)
			h = graph.Add(h, graph.MulScalar(scope.RandomNormal(x.Graph(), h.Shape()), 0.1))
			p := layers.Dense(scope.In("l2"), graph.Tanh(h), true, 1)
			d := graph.Sub(graph.Reshape(p, regBatch), y)
			return []*graph.Node{graph.ReduceAllMean(graph.Mul(d, d))}
		})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *regression) Store() *model.Store { return r.store }

func (r *regression) Step(step int) (Metrics, error) {
	if step == r.stopAt && r.cancel != nil {
		r.cancel()
	}
	idx := data.BatchIndices(regN, regBatch, 7, step)
	xb := make([]float32, 0, regBatch*regIn)
	yb := make([]float32, 0, regBatch)
	for _, i := range idx {
		xb = append(xb, r.x[i*regIn:(i+1)*regIn]...)
		yb = append(yb, r.y[i])
	}
	m, err := r.step.Run(tensors.FromFlatDataAndDimensions(xb, regBatch, regIn), tensors.FromFlatDataAndDimensions(yb, regBatch))
	if err == nil && step == r.nanAt {
		m[0].Value = math.NaN()
	}
	return m, err
}

func (r *regression) Evaluate(step int) (Metrics, error) {
	return Metrics{{Name: "eval_step", Value: float64(step)}}, nil
}

func testBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func weights(t *testing.T, s *model.Store) []float32 {
	t.Helper()
	v := s.GetVariable("/l1/dense/weights")
	if v == nil {
		for x := range s.IterVariables() {
			t.Log(x.Path())
		}
		t.Fatal("variable /l1/dense/weights not found")
	}
	return tensors.MustCopyFlatData[float32](v.MustValue())
}

// newRegressionParams is the regression's parameter count: l1 is 8→16 with biases, l2 16→1.
const newRegressionParams = regIn*16 + 16 + 16*1 + 1

// checkRunFiles checks what a finished run of the regression (TestRunLowersLossAndWritesRunFolder's
// configuration: 60 steps, seed 3, family "test", profile "ci", the default LogEvery, which
// is 1 for 60 steps) leaves in dir:
// metrics.json with every field the README lists and the values of res, manifest.json with
// what reproduces the run, and log.jsonl with one record a step ending at the final metrics.
func checkRunFiles(t *testing.T, dir string, res *Result, params int, backendConfig string) {
	t.Helper()
	var met map[string]any
	if err := ReadJSON(filepath.Join(dir, "metrics.json"), &met); err != nil {
		t.Fatal(err)
	}
	num := func(k string) float64 {
		v, ok := met[k].(float64)
		if !ok {
			t.Errorf("metrics.json: %q is %v (%T), want a number", k, met[k], met[k])
		}
		return v
	}
	for k, want := range map[string]any{"family": "test", "profile": "ci", "seed": 3.0, "steps": 60.0,
		"params": float64(params), "train_loss": res.Train[0].Value, "eval_step": 60.0} {
		if met[k] != want {
			t.Errorf("metrics.json: %q is %v, want %v", k, met[k], want)
		}
	}
	if s, ok := met["backend"].(string); !ok || s != backendConfig {
		t.Errorf("metrics.json: backend %v, want %q", met["backend"], backendConfig)
	}
	if h, ok := met["hardware"].(string); !ok || !strings.Contains(h, "CPUs") {
		t.Errorf("metrics.json: hardware %v", met["hardware"])
	}
	if w := num("wall_seconds"); !(w > 0 && w <= res.WallSeconds+0.001) {
		t.Errorf("metrics.json: wall_seconds %v, the run took %v", w, res.WallSeconds)
	}
	if sps := num("train_steps_per_second"); !(sps > 0 && math.Abs(sps-res.StepsPerSecond) <= 0.001) {
		t.Errorf("metrics.json: train_steps_per_second %v, the run measured %v", sps, res.StepsPerSecond)
	}
	if c := num("compile_seconds"); !(c > 0 && c <= res.WallSeconds) {
		t.Errorf("metrics.json: compile_seconds %v", c)
	}

	var man Manifest
	if err := ReadJSON(filepath.Join(dir, "manifest.json"), &man); err != nil {
		t.Fatal(err)
	}
	if man.Family != "test" || man.Profile != "ci" || man.Seed != 3 || man.Steps != 60 || man.ResumedFrom != 0 ||
		man.Backend.Config != backendConfig || len(man.Command) == 0 || man.Started.IsZero() || man.Finished.Before(man.Started) ||
		!(man.WallSeconds > 0) {
		t.Errorf("manifest.json lacks what describes the run: %+v", man)
	}

	log, err := ReadLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 60 || len(res.History) != 60 {
		t.Fatalf("log.jsonl has %d records and the result %d, want one a step (60)", len(log), len(res.History))
	}
	for i, r := range log {
		if r.Step != i+1 || !(r.Values["loss"] > 0) || r.Values["loss"] != res.History[i].Values["loss"] {
			t.Fatalf("log.jsonl record %d: %+v, the run recorded %+v", i, r, res.History[i])
		}
		if i > 0 && r.Seconds < log[i-1].Seconds {
			t.Errorf("log.jsonl: time goes back at step %d (%v after %v)", r.Step, r.Seconds, log[i-1].Seconds)
		}
	}
	if last := log[59]; last.Values["loss"] != res.Train[0].Value || last.Values["eval_step"] != 60 {
		t.Errorf("log.jsonl's last record %+v, want the final loss %v and evaluation", last, res.Train[0].Value)
	}
}

func TestRunLowersLossAndWritesRunFolder(t *testing.T) {
	b := testBackend(t)
	dir := t.TempDir()
	res, err := Run(context.Background(), newRegression(t, b), Config{Steps: 60, Seed: 3, Dir: dir, EvalEvery: 20,
		CheckpointEvery: 20, Progress: SilentProgress(), Family: "test", Profile: "ci", Backend: backend.Describe(b)})
	if err != nil {
		t.Fatal(err)
	}
	first := res.History[0].Values["loss"]
	last := res.Train[0].Value
	if !(last < first/2) {
		t.Errorf("loss did not drop: first %.4f, last %.4f", first, last)
	}
	if v, _ := res.Eval.Get("eval_step"); v != 60 {
		t.Errorf("final evaluation ran at step %v, want 60", v)
	}
	checkRunFiles(t, dir, res, newRegressionParams, backend.Describe(b).Config)
	cks, _ := ListCheckpoints(filepath.Join(dir, "checkpoint"))
	if len(cks) != 2 || cks[1].Step != 60 {
		t.Errorf("want the 2 newest checkpoints ending at step 60, got %+v", cks)
	}
	if _, err := Run(context.Background(), newRegression(t, b), Config{Steps: 60, Dir: dir, Progress: SilentProgress()}); err == nil {
		t.Error("starting a new run over an existing one must fail without --resume")
	}
	// Resuming a finished run runs no step and keeps what the run measured.
	again, err := Run(context.Background(), newRegression(t, b), Config{Steps: 60, Seed: 3, Dir: dir, Resume: true, Progress: SilentProgress()})
	if err != nil || again.StartStep != 60 || again.StepsPerSecond != res.StepsPerSecond || again.WallSeconds != res.WallSeconds {
		t.Errorf("resuming a finished run: %+v, %v (first run: %.3f steps/s, %.3f s)", again, err, res.StepsPerSecond, res.WallSeconds)
	}
}

// An interrupted and resumed run must end where an uninterrupted one ends.
func TestInterruptedRunResumesToSameResult(t *testing.T) {
	b := testBackend(t)
	const steps = 50
	full := newRegression(t, b)
	want, err := Run(context.Background(), full, Config{Steps: steps, Seed: 5, Dir: t.TempDir(), Progress: SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first := newRegression(t, b)
	first.cancel, first.stopAt = cancel, 23 // cancelled during step 23: it completes, then the run stops
	_, err = Run(ctx, first, Config{Steps: steps, Seed: 5, Dir: dir, CheckpointEvery: 10, Progress: SilentProgress()})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("want ErrInterrupted, got %v", err)
	}
	second := newRegression(t, b) // a fresh process: new store, nothing in memory
	got, err := Run(context.Background(), second, Config{Steps: steps, Seed: 5, Dir: dir, Resume: true, Progress: SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	if got.StartStep != 24 {
		t.Errorf("resumed from step %d, want 24", got.StartStep)
	}
	if d := math.Abs(got.Train[0].Value - want.Train[0].Value); !(d <= 1e-5*math.Max(1, want.Train[0].Value)) {
		t.Errorf("final loss %.7f after resume, %.7f uninterrupted", got.Train[0].Value, want.Train[0].Value)
	}
	w1, w2 := weights(t, full.store), weights(t, second.store)
	for i := range w1 {
		if !(math.Abs(float64(w1[i]-w2[i])) <= 1e-5) {
			t.Fatalf("weight %d: %.7f after resume, %.7f uninterrupted", i, w2[i], w1[i])
		}
	}
}

func TestNonFiniteLossStopsAndKeepsLastGoodCheckpoint(t *testing.T) {
	b := testBackend(t)
	dir := t.TempDir()
	r := newRegression(t, b)
	r.nanAt = 14
	_, err := Run(context.Background(), r, Config{Steps: 30, Dir: dir, CheckpointEvery: 5, Progress: SilentProgress()})
	var nf *NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("want NonFiniteError, got %v", err)
	}
	if nf.Step != 14 || filepath.Base(nf.LastCheckpoint) != ckptName(10) {
		t.Errorf("got step %d, checkpoint %q; want step 14, checkpoint %s", nf.Step, nf.LastCheckpoint, ckptName(10))
	}
	cks, _ := ListCheckpoints(filepath.Join(dir, "checkpoint"))
	if len(cks) == 0 || cks[len(cks)-1].Step != 10 {
		t.Errorf("checkpoints after NaN: %+v, want the newest at step 10", cks)
	}
}

func TestDamagedCheckpointFallsBackToPreviousOne(t *testing.T) {
	b := testBackend(t)
	dir := t.TempDir()
	if _, err := Run(context.Background(), newRegression(t, b), Config{Steps: 20, Dir: dir, CheckpointEvery: 10, Progress: SilentProgress()}); err != nil {
		t.Fatal(err)
	}
	newest := filepath.Join(dir, "checkpoint", ckptName(20))
	raw, _ := os.ReadFile(newest)
	if err := os.WriteFile(newest, raw[:len(raw)/2], 0o644); err != nil { // a truncated file
		t.Fatal(err)
	}
	store := model.NewStore()
	c, _, skipped, ok, err := LoadLatestCheckpoint(filepath.Join(dir, "checkpoint"), store)
	if err != nil || !ok || c.Step != 10 || len(skipped) != 1 {
		t.Fatalf("got step %d ok=%v skipped=%v err=%v; want step 10 with one skipped file", c.Step, ok, skipped, err)
	}
	if _, err := LoadCheckpoint(newest, model.NewStore()); err == nil {
		t.Fatal("loading a truncated checkpoint must fail")
	}
}

func TestCheckpointRoundTripKeepsValuesAndTrainable(t *testing.T) {
	s := model.NewStore()
	w, _ := s.CreateVariable("/m/w", tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4}, 2, 2))
	c, _ := s.CreateVariable("/opt/count", tensors.FromScalar(int64(7)))
	c.SetTrainable(false)
	dir := t.TempDir()
	p, err := SaveCheckpoint(dir, s, 3, 0, map[string]any{"note": "x"})
	if err != nil {
		t.Fatal(err)
	}
	s2 := model.NewStore()
	extra, err := LoadCheckpoint(p, s2)
	if err != nil {
		t.Fatal(err)
	}
	if string(extra["note"]) != `"x"` {
		t.Errorf("extra = %s", extra["note"])
	}
	got := tensors.MustCopyFlatData[float32](s2.GetVariable("/m/w").MustValue())
	if len(got) != 4 || got[3] != 4 || !s2.GetVariable("/m/w").Trainable || s2.GetVariable("/opt/count").Trainable {
		t.Errorf("round trip lost data: %v trainable=%v/%v", got, s2.GetVariable("/m/w").Trainable, s2.GetVariable("/opt/count").Trainable)
	}
	// A shape clash is an error naming the variable, not a panic.
	s3 := model.NewStore()
	s3.VariableWithShape("/m/w", shapes.Make(dtypes.Float32, 3), graph.Zeros)
	_ = w
	if _, err := LoadCheckpoint(p, s3); err == nil {
		t.Error("loading into a store with another shape must fail")
	}
}

// A run resumed with another model configuration is refused with the fields that differ (it
// would load its weights into the wrong model); more steps are fine, and the saved profile and
// configuration can be read back to rebuild the model.
func TestResumeChecksTheConfiguration(t *testing.T) {
	b := testBackend(t)
	dir := t.TempDir()
	type config struct {
		Steps int     `json:"steps"`
		LR    float64 `json:"learning_rate"`
	}
	run := func(steps int, resume bool, cfg config) error {
		_, err := Run(context.Background(), newRegression(t, b), Config{Steps: steps, Seed: 5, Dir: dir, Resume: resume,
			Profile: "ci", ModelConfig: cfg, Progress: SilentProgress()})
		return err
	}
	if err := run(10, false, config{Steps: 10, LR: 0.1}); err != nil {
		t.Fatal(err)
	}
	err := run(20, true, config{Steps: 20, LR: 0.2})
	if err == nil || !strings.Contains(err.Error(), "learning_rate was 0.1, now 0.2") {
		t.Errorf("resume with another learning rate: %v; want an error naming it", err)
	}
	if err := run(20, true, config{Steps: 20, LR: 0.1}); err != nil {
		t.Errorf("resume to more steps: %v", err)
	}
	profile, saved, steps, ok, err := SavedRunConfig(dir)
	if err != nil || !ok || profile != "ci" || string(saved) != `{"steps":20,"learning_rate":0.1}` || steps != 20 {
		t.Errorf("SavedRunConfig = %q, %s, %d steps, %v, %v", profile, saved, steps, ok, err)
	}
	if _, _, _, ok, err := SavedRunConfig(t.TempDir()); ok || err != nil {
		t.Errorf("an empty folder: ok %v, err %v", ok, err)
	}
}
