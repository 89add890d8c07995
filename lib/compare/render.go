package compare

import (
	"fmt"
	"html"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/viz"
)

// Section is one table of the comparison: a title, a header and rows of cells.
type Section struct {
	Title  string
	Header []string
	Rows   [][]string
}

// Sections are the table's three parts, in Spanish: the six families, the image families'
// scores on one scorer with the real-vs-real row, and the course's claims with verdicts.
func (t Table) Sections() []Section {
	fams := Section{Title: "Las seis familias",
		Header: []string{"familia", "parámetros", "pasos", "entrenamiento", "pasos/s", "objetivo «pass»", "verosimilitud", "muestreo"}}
	imgs := Section{Title: "Imágenes: un mismo evaluador (clasificador de referencia)",
		Header: []string{"familia", "Fréchet", "× real", "KID", "precisión", "exhaustividad", "densidad", "cobertura", "clases", "VT de clases"}}
	var baseline Num
	for _, r := range t.Rows {
		if r.Missing != "" {
			fams.Rows = append(fams.Rows, []string{r.Family, "falta: " + r.Missing, "", "", "", "", "", ""})
			continue
		}
		fams.Rows = append(fams.Rows, []string{r.Family, fmt.Sprint(r.Params), fmt.Sprint(r.Steps), duration(r.WallSeconds),
			num(r.StepsPerSecond, "%.2f"), passText(r), likelihoodText(r), samplingText(r)})
		if s := r.Image; s != nil {
			baseline = s.Baseline
			imgs.Rows = append(imgs.Rows, []string{r.Family, num(s.FLD, "%.2f"), num(s.FLD/s.Baseline, "%.1f"), num(s.KID, "%.2f"),
				num(s.Precision, "%.3f"), num(s.Recall, "%.3f"), num(s.Density, "%.3f"), num(s.Coverage, "%.3f"),
				fmt.Sprintf("%d/10", s.ClassesCovered), num(s.ClassTV, "%.3f")})
		}
	}
	if baseline.Known() {
		imgs.Rows = append(imgs.Rows, []string{"real contra real", num(baseline, "%.2f"), "1", "", "", "", "", "", "10/10", ""})
	}
	claims := Section{Title: "Las afirmaciones del curso, medidas", Header: []string{"familia", "afirmación", "veredicto", "evidencia"}}
	for _, c := range t.Claims {
		claims.Rows = append(claims.Rows, []string{c.Family, c.Claim, c.Verdict.Spanish(), c.Evidence})
	}
	return []Section{fams, imgs, claims}
}

// Footer says where the numbers come from: profile, backend, hardware and versions.
func (t Table) Footer() string {
	var backends, hardware []string
	for _, r := range t.Rows {
		if r.Backend != "" && !slices.Contains(backends, r.Backend) {
			backends = append(backends, r.Backend)
		}
		if r.Hardware != "" && !slices.Contains(hardware, r.Hardware) {
			hardware = append(hardware, r.Hardware)
		}
	}
	var versions []string
	for k, v := range t.Versions {
		versions = append(versions, k+" "+v)
	}
	sort.Strings(versions)
	s := fmt.Sprintf("Perfil %s. Backend: %s. Máquina: %s. Versiones: %s.", t.Profile, strings.Join(backends, "; "),
		strings.Join(hardware, "; "), strings.Join(versions, ", "))
	if len(t.Command) > 0 {
		s += " Tabla: `" + strings.Join(t.Command, " ") + "`."
	}
	if len(t.Evidence.Command) > 0 {
		s += " GAN de juguete y tarea de recuerdo: `" + strings.Join(t.Evidence.Command, " ") + "`."
	}
	if len(t.Evidence.Appetite) > 0 {
		dirs := make([]string, len(t.Evidence.Appetite))
		for i, a := range t.Evidence.Appetite {
			dirs[i] = a.Dir
		}
		s += " Apetito de datos: `iagen train <familia> --profile " + t.Profile + " --set train_fraction=F`, en " + strings.Join(dirs, ", ") +
			" (cada carpeta con su manifest.json)."
	}
	return s
}

// Markdown is the table as Markdown (table.md).
func (t Table) Markdown() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Comparación de las seis familias (perfil %s)\n", t.Profile)
	for _, s := range t.Sections() {
		fmt.Fprintf(&sb, "\n## %s\n\n| %s |\n|%s\n", s.Title, strings.Join(s.Header, " | "), strings.Repeat("---|", len(s.Header)))
		for _, r := range s.Rows {
			cells := make([]string, len(r))
			for i, c := range r {
				cells[i] = strings.ReplaceAll(c, "|", "\\|")
			}
			fmt.Fprintf(&sb, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	fmt.Fprintf(&sb, "\n%s\n", t.Footer())
	return sb.String()
}

// HTML is the table as an HTML page (table.html).
func (t Table) HTML() string {
	var sb strings.Builder
	title := fmt.Sprintf("Comparación de las seis familias (perfil %s)", t.Profile)
	fmt.Fprintf(&sb, "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\"><title>%s</title></head><body>\n<h1>%s</h1>\n",
		html.EscapeString(title), html.EscapeString(title))
	for _, s := range t.Sections() {
		fmt.Fprintf(&sb, "<h2>%s</h2>\n%s\n", html.EscapeString(s.Title), viz.Table(s.Header, s.Rows))
	}
	fmt.Fprintf(&sb, "<p>%s</p>\n</body></html>\n", html.EscapeString(t.Footer()))
	return sb.String()
}

func num(x Num, format string) string {
	if !x.Known() {
		return "—"
	}
	return fmt.Sprintf(format, float64(x))
}

func duration(s Num) string {
	switch {
	case !s.Known():
		return "—"
	case s < 120:
		return fmt.Sprintf("%.0f s", float64(s))
	case s < 7200:
		return fmt.Sprintf("%.0f min", float64(s)/60)
	}
	return fmt.Sprintf("%.1f h", float64(s)/3600)
}

func passText(r Row) string {
	switch {
	case r.Pass == nil:
		return "—"
	case *r.Pass:
		return "sí (" + r.Target + ")"
	}
	return "no (" + r.Target + ")"
}

func likelihoodText(r Row) string {
	kind := map[string]string{Exact: "exacta", Bound: "cota", None: "ninguna"}[r.LikelihoodKind]
	if !r.Likelihood.Known() {
		if r.LikelihoodUnit == "" {
			return kind
		}
		return kind + ": " + r.LikelihoodUnit
	}
	return fmt.Sprintf("%s: %.3f %s", kind, float64(r.Likelihood), r.LikelihoodUnit)
}

func samplingText(r Row) string {
	if !r.SamplesPerSec.Known() {
		return "—"
	}
	s := fmt.Sprintf("%.3g %s/s", float64(r.SamplesPerSec), r.SampleUnit)
	if r.SamplingComment != "" {
		s += " (" + r.SamplingComment + ")"
	}
	return s
}

// Charts draws the comparison's questions: quality against training time (each image family's
// Fréchet distance along its run, from log.jsonl), quality against sampling speed (with
// diffusion's samplers from its study), quality against diversity (precision and coverage: the
// quality–diversity–speed trilemma of Xiao et al. 2022 in two charts), and the text families'
// appetite for data. A chart with nothing to draw is left out.
func (t Table) Charts() map[string]*viz.Chart {
	var time, speed, diversity []viz.Series
	for _, r := range t.imageRows() {
		if recs, err := train.ReadLog(r.Dir); err == nil {
			s := viz.Series{Name: r.Family}
			last := -1.0
			for _, rec := range recs {
				if v, ok := rec.Values["fld"]; ok && v != last {
					s.X, s.Y, last = append(s.X, rec.Seconds), append(s.Y, v), v
				}
			}
			if len(s.X) == 0 || s.X[len(s.X)-1] < float64(r.WallSeconds) {
				s.X, s.Y = append(s.X, float64(r.WallSeconds)), append(s.Y, float64(r.Image.FLD))
			}
			time = append(time, s)
		}
		if r.SamplesPerSec.Known() {
			speed = append(speed, viz.Series{Name: r.Family, X: []float64{float64(r.SamplesPerSec)}, Y: []float64{float64(r.Image.FLD)}})
		}
		diversity = append(diversity, viz.Series{Name: r.Family, X: []float64{float64(r.Image.Precision)}, Y: []float64{float64(r.Image.Coverage)}})
	}
	if st := t.Evidence.DiffusionStudy; st != nil {
		s := viz.Series{Name: fmt.Sprintf("difusión, de %s a %s (%d muestras)", st.Rows[0].Sampler, st.Rows[len(st.Rows)-1].Sampler, st.Samples)}
		for _, q := range st.Rows {
			s.X, s.Y = append(s.X, q.SamplesPerSecond), append(s.Y, q.FLD)
		}
		speed = append(speed, s)
	}
	charts := map[string]*viz.Chart{}
	add := func(name string, c *viz.Chart, err error) {
		if err == nil {
			charts[name] = c
		}
	}
	c, err := viz.Scatter("Calidad frente a tiempo de entrenamiento", "segundos de entrenamiento", "distancia de Fréchet (menor es mejor)", time, viz.ChartOptions{LogY: true})
	add("quality_time", c, err)
	c, err = viz.Scatter("Calidad frente a velocidad de muestreo", "imágenes por segundo", "distancia de Fréchet (menor es mejor)", speed, viz.ChartOptions{LogX: true, LogY: true})
	add("quality_speed", c, err)
	c, err = viz.Scatter("Calidad frente a diversidad", "precisión (calidad)", "cobertura (diversidad)", diversity)
	add("quality_diversity", c, err)
	if appetite := t.appetiteSeries(); len(appetite) > 0 {
		c, err = viz.Scatter("Apetito de datos: los mismos pasos con parte del corpus", "% del corpus de entrenamiento", "pérdida de validación (nats/carácter)", appetite, viz.ChartOptions{LogX: true})
		add("data_appetite", c, err)
	}
	return charts
}

// appetiteSeries is each text family's validation loss against the share of the corpus it
// trained on: the appetite runs, then the family's row (100 %).
func (t Table) appetiteSeries() []viz.Series {
	var out []viz.Series
	for _, name := range []string{"gpt", "lstm"} {
		s := viz.Series{Name: name}
		for _, a := range t.Evidence.Appetite {
			if a.Family == name {
				s.X, s.Y = append(s.X, 100*a.Fraction), append(s.Y, a.ValNats)
			}
		}
		if r, ok := t.Row(name); ok && len(s.X) > 0 && r.Likelihood.Known() {
			s.X, s.Y = append(s.X, 100), append(s.Y, float64(r.Likelihood))
			out = append(out, s)
		}
	}
	return out
}

// Write writes table.json, table.md, table.html and the charts (SVG) into dir.
func (t Table) Write(dir string) error {
	if err := t.WriteJSON(filepath.Join(dir, "table.json")); err != nil {
		return err
	}
	if err := train.WriteFileAtomic(filepath.Join(dir, "table.md"), []byte(t.Markdown())); err != nil {
		return err
	}
	if err := train.WriteFileAtomic(filepath.Join(dir, "table.html"), []byte(t.HTML())); err != nil {
		return err
	}
	for name, c := range t.Charts() {
		if err := viz.SaveChart(c, filepath.Join(dir, name+".svg")); err != nil {
			return err
		}
	}
	return nil
}
