package train

import (
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"time"

	"github.com/iagen-course/iagen/lib/viz"
	"github.com/janpfeifer/gonb/gonbui"
)

// Status is what a Progress display is shown after each step.
type Status struct {
	Step, Steps    int
	Seconds        float64
	StepsPerSecond float64
	Train, Eval    Metrics
	History        []Record
}

// Progress displays a run as it trains. Update is called after every step; implementations
// rate-limit themselves.
type Progress interface {
	Update(s Status)
	Finish(s Status)
}

// AutoProgress shows progress live in a notebook when running under gonb, else on stderr.
func AutoProgress() Progress {
	if gonbui.IsNotebook {
		return NotebookProgress()
	}
	return TerminalProgress(os.Stderr)
}

// SilentProgress shows nothing.
func SilentProgress() Progress { return silent{} }

type silent struct{}

func (silent) Update(Status) {}
func (silent) Finish(Status) {}

// TerminalProgress prints a progress line to w: rewritten in place on a terminal, or one line
// every 10% of the run (and at least every 30 s) in logs.
func TerminalProgress(w io.Writer) Progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &terminal{w: w, tty: tty}
}

type terminal struct {
	w         io.Writer
	tty       bool
	last      time.Time
	lastTenth int
}

func (t *terminal) Update(s Status) {
	if s.Step == s.Steps {
		return // Finish prints the final line
	}
	now := time.Now()
	if t.tty {
		if now.Sub(t.last) < 200*time.Millisecond {
			return
		}
		t.last = now
		fmt.Fprintf(t.w, "\r\033[K%s", line(s))
		return
	}
	tenth := s.Step * 10 / max(1, s.Steps)
	if tenth == t.lastTenth && now.Sub(t.last) < 30*time.Second {
		return
	}
	t.last, t.lastTenth = now, tenth
	fmt.Fprintln(t.w, line(s))
}

func (t *terminal) Finish(s Status) {
	if t.tty {
		fmt.Fprintf(t.w, "\r\033[K")
	}
	fmt.Fprintln(t.w, line(s))
}

// line renders a status as "step 120/500 [####....] 24% 3.1 steps/s 38s loss=0.4512".
func line(s Status) string {
	const width = 20
	frac := min(1, float64(s.Step)/float64(max(1, s.Steps))) // a run resumed past a shorter --steps is done
	bar := strings.Repeat("#", int(frac*width)) + strings.Repeat(".", width-int(frac*width))
	var sb strings.Builder
	fmt.Fprintf(&sb, "step %d/%d [%s] %3.0f%% %.1f steps/s %s", s.Step, s.Steps, bar, 100*frac, s.StepsPerSecond,
		time.Duration(s.Seconds*float64(time.Second)).Round(time.Second))
	for _, m := range append(append(Metrics{}, s.Train...), s.Eval...) {
		fmt.Fprintf(&sb, " %s=%.4g", m.Name, m.Value)
	}
	return sb.String()
}

// NotebookProgress shows a live progress bar, the current metrics and a loss curve in a gonb
// notebook cell, updated in place at most a few times a second. The final state stays in the
// cell's output (as HTML, which also renders on GitHub and in VS Code).
func NotebookProgress() Progress { return &notebook{id: gonbui.UniqueID()} }

type notebook struct {
	id   string
	last time.Time
}

func (n *notebook) Update(s Status) {
	if time.Since(n.last) < 300*time.Millisecond {
		return
	}
	n.last = time.Now()
	gonbui.UpdateHTML(n.id, ProgressHTML(s))
}

func (n *notebook) Finish(s Status) {
	gonbui.UpdateHTML(n.id, "")
	gonbui.DisplayHTML(ProgressHTML(s))
	gonbui.Sync() // the last display of a training cell: it must not be left in the pipe (viz.Show)
}

// ProgressHTML renders a status as a small HTML block: bar, numbers and an SVG curve of the
// first training metric (the loss).
func ProgressHTML(s Status) string {
	frac := min(1, float64(s.Step)/float64(max(1, s.Steps))) // a run resumed past a shorter --steps is done
	var sb strings.Builder
	sb.WriteString(`<div style="font-family:monospace;font-size:12px">`)
	fmt.Fprintf(&sb, `<div style="width:320px;border:1px solid #888;height:10px"><div style="width:%.0f%%;background:#4c8bf5;height:10px"></div></div>`, 100*frac)
	fmt.Fprintf(&sb, "paso %d/%d · %.1f pasos/s · %s<br>", s.Step, s.Steps, s.StepsPerSecond,
		time.Duration(s.Seconds*float64(time.Second)).Round(time.Second))
	for _, m := range append(append(Metrics{}, s.Train...), s.Eval...) {
		fmt.Fprintf(&sb, "%s = %.4g &nbsp; ", html.EscapeString(m.Name), m.Value)
	}
	if len(s.Train) > 0 && len(s.History) > 1 {
		sb.WriteString("<br>" + lossCurve(s.History, s.Train[0].Name))
	}
	sb.WriteString("</div>")
	return sb.String()
}

// HistorySeries returns one series per key of a training history (log.jsonl records) — its
// values against the step, named after the key — for viz.LineChart. Records lacking a key are
// left out of that key's series.
func HistorySeries(history []Record, keys ...string) []viz.Series {
	series := make([]viz.Series, len(keys))
	for i, k := range keys {
		series[i].Name = k
		for _, r := range history {
			if v, ok := r.Values[k]; ok {
				series[i].X = append(series[i].X, float64(r.Step))
				series[i].Y = append(series[i].Y, v)
			}
		}
	}
	return series
}

// lossCurve draws metric name over the history as a small line chart, its name on the y axis;
// "" when there is nothing to draw yet.
func lossCurve(h []Record, name string) string {
	series := HistorySeries(h, name)
	series[0].Name = "" // named by the axis label, no legend
	c, err := viz.LineChart("", "", name, series, viz.ChartOptions{Width: 320, Height: 100})
	if err != nil {
		return ""
	}
	svg, err := c.SVG()
	if err != nil {
		return ""
	}
	return string(svg)
}
