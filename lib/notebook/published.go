package notebook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/viz"
)

// ShowPublished shows the published results of family name and profile, the folder
// results/<name>/<profile> of the checkout (see family.Publish): the headline metrics, the
// samples, the training curves and the command that produced them. When nothing is
// published yet it says so, with the commands that would publish it. Outside a notebook it
// prints the text.
func ShowPublished(name, profile string) {
	viz.ShowHTML(Must(publishedHTML(name, profile, family.ResultsDir("", name, profile))))
}

// headline are the metrics.json fields a reader looks at first, with what they are, in the
// order shown; only those present are.
var headline = []struct{ key, label string }{
	{"test_accuracy", "exactitud en prueba"},
	{"test_nll_nats", "−log p en prueba (nats)"},
	{"fld", "distancia de Fréchet"},
	{"fld_real_baseline", "distancia real contra real"},
	{"class_tv", "variación total de clases"},
	{"coverage", "cobertura"},
	{"classes_covered", "clases generadas"},
	{"val_nats_per_char", "validación (nats/carácter)"},
	{"val_bpc", "validación (bits/carácter)"},
	{"params", "parámetros"},
	{"steps", "pasos"},
	{"wall_seconds", "segundos de entrenamiento"},
	{"train_steps_per_second", "pasos por segundo"},
	{"backend", "backend"},
	{"hardware", "máquina"},
}

// publishedHTML renders the published results in dir of family name and profile; a dir
// without metrics.json gives a note that they are not published yet.
func publishedHTML(name, profile, dir string) (string, error) {
	where := filepath.Join("results", name, profile)
	metrics, err := family.ReadMetrics(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("<p><b>%s</b>: aún no publicado. Se obtiene con <code>iagen train %s --profile %s --out runs/%s</code> "+
			"y después <code>iagen publish %s --from runs/%s</code>.</p>",
			html.EscapeString(where), name, profile, name, name, name), nil
	}
	if err != nil {
		return "", err
	}
	man, err := family.ReadManifest(dir)
	if err != nil {
		return "", err
	}
	var rows [][]string
	for _, h := range headline {
		if v, ok := metrics[h.key]; ok {
			rows = append(rows, []string{h.label, h.key, formatValue(v)})
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "<p><b>Resultados publicados de %s, perfil %s</b> (<code>%s</code>)</p>\n",
		html.EscapeString(name), html.EscapeString(profile), html.EscapeString(where))
	sb.WriteString(viz.Table([]string{"métrica", "campo de metrics.json", "valor"}, rows))
	if png, err := os.ReadFile(filepath.Join(dir, "samples.png")); err == nil {
		fmt.Fprintf(&sb, "\n<p>Muestras:</p>\n%s", imgTag("image/png", png))
	}
	if text, err := os.ReadFile(filepath.Join(dir, "samples.txt")); err == nil {
		fmt.Fprintf(&sb, "\n<p>Muestras:</p>\n<pre>%s</pre>", html.EscapeString(string(text)))
	}
	svgs, _ := filepath.Glob(filepath.Join(dir, "*.svg")) // sorted; a bad pattern is impossible here
	for _, path := range svgs {
		svg, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		sb.WriteString("\n" + imgTag("image/svg+xml", svg))
	}
	fmt.Fprintf(&sb, "\n<p><i>Son los resultados publicados del perfil <code>%s</code>, no los de la ejecución de este cuaderno. "+
		"Los produjo el comando <code>%s</code> (semilla %d, %d pasos).</i></p>",
		html.EscapeString(profile), html.EscapeString(commandLine(man.Command)), man.Seed, man.Steps)
	return sb.String(), nil
}

// imgTag embeds an image file in HTML.
func imgTag(mime string, b []byte) string {
	return fmt.Sprintf(`<img src="data:%s;base64,%s" style="max-width:100%%">`, mime, base64.StdEncoding.EncodeToString(b))
}

// formatValue writes a metrics.json value for people: integers as such, other numbers with
// four significant digits (one decimal from 100 up), and a backend given by a plugin's path as
// its name and file.
func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		switch {
		case x == math.Trunc(x) && math.Abs(x) < 1e15:
			return fmt.Sprintf("%.0f", x)
		case math.Abs(x) >= 100:
			return fmt.Sprintf("%.1f", x)
		}
		return fmt.Sprintf("%.4g", x)
	case string:
		if kind, path, ok := strings.Cut(x, ":"); ok && strings.Contains(path, "/") {
			return kind + ":" + filepath.Base(path)
		}
		return x
	}
	return fmt.Sprint(v)
}

// commandLine joins a command's arguments as a shell would read them.
func commandLine(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = a
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?;&|<>(){}[]#~") {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}
