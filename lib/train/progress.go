package train

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"
	"time"

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
	frac := float64(s.Step) / float64(max(1, s.Steps))
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
}

// ProgressHTML renders a status as a small HTML block: bar, numbers and an SVG curve of the
// first training metric (the loss).
func ProgressHTML(s Status) string {
	frac := float64(s.Step) / float64(max(1, s.Steps))
	var sb strings.Builder
	sb.WriteString(`<div style="font-family:monospace;font-size:12px">`)
	fmt.Fprintf(&sb, `<div style="width:320px;border:1px solid #888;height:10px"><div style="width:%.0f%%;background:#4c8bf5;height:10px"></div></div>`, 100*frac)
	fmt.Fprintf(&sb, "paso %d/%d · %.1f pasos/s · %s<br>", s.Step, s.Steps, s.StepsPerSecond,
		time.Duration(s.Seconds*float64(time.Second)).Round(time.Second))
	for _, m := range append(append(Metrics{}, s.Train...), s.Eval...) {
		fmt.Fprintf(&sb, "%s = %.4g &nbsp; ", html.EscapeString(m.Name), m.Value)
	}
	if len(s.Train) > 0 && len(s.History) > 1 {
		sb.WriteString("<br>" + curveSVG(s.History, s.Train[0].Name, 320, 90))
	}
	sb.WriteString("</div>")
	return sb.String()
}

// curveSVG draws metric name over the history as an SVG polyline.
func curveSVG(h []Record, name string, w, ht float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range h {
		if v, ok := r.Values[name]; ok {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 0) || hi == lo {
		hi = lo + 1
	}
	first, last := float64(h[0].Step), float64(h[len(h)-1].Step)
	if last == first {
		last = first + 1
	}
	var pts strings.Builder
	for _, r := range h {
		if v, ok := r.Values[name]; ok {
			fmt.Fprintf(&pts, "%.1f,%.1f ", 30+(w-35)*(float64(r.Step)-first)/(last-first), 5+(ht-20)*(hi-v)/(hi-lo))
		}
	}
	return fmt.Sprintf(`<svg width="%.0f" height="%.0f" xmlns="http://www.w3.org/2000/svg">`+
		`<polyline fill="none" stroke="#4c8bf5" stroke-width="1.5" points="%s"/>`+
		`<text x="0" y="12" font-size="10">%.3g</text><text x="0" y="%.0f" font-size="10">%.3g</text>`+
		`<text x="%.0f" y="%.0f" font-size="10" text-anchor="end">%s</text></svg>`,
		w, ht, pts.String(), hi, ht-15, lo, w, ht-2, html.EscapeString(name))
}
