package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/iagen-course/iagen/lib/rnn"
)

// Verdict is what the measurements say of a claim.
type Verdict string

const (
	Holds       Verdict = "holds"         // the measurement agrees
	Caveat      Verdict = "caveat"        // it agrees in part, or only under a stated condition
	DoesNotHold Verdict = "does_not_hold" // the measurement disagrees, here
	Unmeasured  Verdict = "unmeasured"    // a number it needs is missing
)

// Spanish is the verdict as the course's table writes it.
func (v Verdict) Spanish() string {
	switch v {
	case Holds:
		return "se cumple"
	case Caveat:
		return "se cumple con matices"
	case DoesNotHold:
		return "no se cumple aquí"
	}
	return "sin medir"
}

// Claim is one claim of the course's comparison table with its verdict and the evidence.
type Claim struct {
	Family   string  `json:"family"`
	Claim    string  `json:"claim"` // the course's words (Spanish)
	Verdict  Verdict `json:"verdict"`
	Evidence string  `json:"evidence"` // the numbers behind the verdict (Spanish)
}

// Claims judges each claim of the course's comparison table (advantages and drawbacks of the
// six families) from the table's rows and evidence.
func Claims(t Table) []Claim {
	return []Claim{
		ganRealism(t), ganInstability(t), vaeQuality(t), vaeVariety(t),
		transformerMemory(t), transformerCompute(t), diffusionQuality(t), diffusionSpeed(t),
		flowLikelihood(t), flowDesign(t), rnnSequences(t), rnnMemory(t), rnnEfficiency(t),
	}
}

// imageRows are the rows of the image families that have scores.
func (t Table) imageRows() []Row {
	var rows []Row
	for _, r := range t.Rows {
		if r.Missing == "" && r.Image != nil && r.Image.FLD.Known() {
			rows = append(rows, r)
		}
	}
	return rows
}

// scored returns family name's row when it has image scores.
func (t Table) scored(name string) (Row, bool) {
	r, ok := t.Row(name)
	return r, ok && r.Missing == "" && r.Image != nil && r.Image.FLD.Known()
}

// fldList is "gan 7.56 (2.3×), vae 117 (35×), …" for the evidence: each family's Fréchet
// distance and its ratio to the real-vs-real baseline of the same sample count.
func fldList(rows []Row) string {
	var parts []string
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%s %.3g (%.2g×)", r.Family, float64(r.Image.FLD), float64(r.Image.FLD/r.Image.Baseline)))
	}
	return strings.Join(parts, ", ")
}

// bestFLD judges "family name gives the best images": the lowest Fréchet distance relative to
// the real-vs-real baseline of the same sample count (families may score different numbers of
// samples, and the distance grows as the count falls), a caveat when some of them did not reach
// their target (an unequal contest).
func bestFLD(t Table, name, claim string) Claim {
	c := Claim{Family: name, Claim: claim, Verdict: Unmeasured}
	me, ok := t.scored(name)
	rows := t.imageRows()
	if !ok || len(rows) < 2 {
		c.Evidence = "hacen falta sus puntuaciones de imagen y las de otra familia"
		return c
	}
	ratio := func(r Row) Num { return r.Image.FLD / r.Image.Baseline }
	best, unfinished := me, []string{}
	for _, r := range rows {
		if ratio(r) < ratio(best) {
			best = r
		}
		if r.Pass != nil && !*r.Pass {
			unfinished = append(unfinished, r.Family)
		}
	}
	c.Evidence = "distancia de Fréchet (menor es mejor; entre paréntesis, veces la de real contra real): " + fldList(rows)
	switch {
	case best.Family != name:
		c.Verdict = DoesNotHold
		c.Evidence += fmt.Sprintf("; la mejor es %s", best.Family)
	case len(unfinished) > 0:
		c.Verdict = Caveat
		verb := "no alcanzó su objetivo"
		if len(unfinished) > 1 {
			verb = "no alcanzaron su objetivo"
		}
		c.Evidence += fmt.Sprintf("; %s %s, así que la comparación es a igual presupuesto de CPU, no a convergencia", strings.Join(unfinished, " y "), verb)
	default:
		c.Verdict = Holds
	}
	return c
}

func ganRealism(t Table) Claim {
	return bestFLD(t, "gan", "las imágenes más realistas")
}

func diffusionQuality(t Table) Claim {
	return bestFLD(t, "diffusion", "la mayor calidad y fidelidad")
}

// ganInstability judges "unstable training, mode collapse" by the toy GAN over seeds: the
// spread of the modes it covers between seeds, and whether any seed loses modes.
func ganInstability(t Table) Claim {
	c := Claim{Family: "gan", Claim: "entrenamiento inestable, colapso de modos", Verdict: Unmeasured}
	toy := t.Evidence.ToyGAN
	if len(toy) < 2 {
		c.Evidence = "hace falta la GAN de juguete (ring8) con varias semillas"
		return c
	}
	lo, hi, k := toy[0].Covered, toy[0].Covered, toy[0].Modes
	var covered []string
	for _, s := range toy {
		lo, hi = min(lo, s.Covered), max(hi, s.Covered)
		covered = append(covered, fmt.Sprint(s.Covered))
	}
	c.Evidence = fmt.Sprintf("GAN en %s (%d modos), %d semillas: modos cubiertos %s", toy[0].Dataset, k, len(toy), strings.Join(covered, ", "))
	if r, ok := t.scored("gan"); ok {
		c.Evidence += fmt.Sprintf("; en MNIST cubre %d clases con cobertura %.2f", r.Image.ClassesCovered, float64(r.Image.Coverage))
	}
	switch {
	case lo < k && hi > lo:
		c.Verdict = Holds
		c.Evidence += ": pierde modos y el resultado cambia con la semilla"
	case lo < k:
		c.Verdict = Caveat
		c.Evidence += ": pierde modos, pero igual con todas las semillas"
	case hi == lo:
		c.Verdict = DoesNotHold
		c.Evidence += ": todas las semillas cubren todos los modos"
	}
	return c
}

// vaeClaim judges a claim on the VAE's image scores against the GAN's.
func vaeClaim(t Table, claim string, judge func(vae, gan *ImageScores) (Verdict, string)) Claim {
	vae, ok1 := t.scored("vae")
	gan, ok2 := t.scored("gan")
	if !ok1 || !ok2 {
		return Claim{"vae", claim, Unmeasured, "hacen falta las puntuaciones del VAE y de la GAN"}
	}
	v, evidence := judge(vae.Image, gan.Image)
	return Claim{"vae", claim, v, evidence}
}

func vaeQuality(t Table) Claim {
	return vaeClaim(t, "menor calidad de imagen que las GAN", func(vae, gan *ImageScores) (Verdict, string) {
		evidence := fmt.Sprintf("Fréchet VAE %.3g frente a GAN %.3g; precisión %.2f frente a %.2f",
			float64(vae.FLD), float64(gan.FLD), float64(vae.Precision), float64(gan.Precision))
		if vae.FLD > gan.FLD {
			return Holds, evidence
		}
		return DoesNotHold, evidence
	})
}

// vaeVariety judges "more varied samples than GANs" by recall and coverage (Kynkäänniemi et
// al. 2019; Naeem et al. 2020), the two scores of diversity.
func vaeVariety(t Table) Claim {
	return vaeClaim(t, "muestras más variadas que las GAN", func(vae, gan *ImageScores) (Verdict, string) {
		wins := 0
		if vae.Recall > gan.Recall {
			wins++
		}
		if vae.Coverage > gan.Coverage {
			wins++
		}
		return [...]Verdict{DoesNotHold, Caveat, Holds}[wins], fmt.Sprintf("exhaustividad (recall) VAE %.2f frente a GAN %.2f; cobertura %.2f frente a %.2f; variación total de clases %.3f frente a %.3f",
			float64(vae.Recall), float64(gan.Recall), float64(vae.Coverage), float64(gan.Coverage), float64(vae.ClassTV), float64(gan.ClassTV))
	})
}

// recallAt returns model's accuracy at the longest delay of the recall evidence, and that delay.
func recallAt(rs []rnn.RecallResult, model string) (acc float64, delay int, ok bool) {
	for _, r := range rs {
		if r.Model == model && r.Delay >= delay {
			acc, delay, ok = r.Accuracy, r.Delay, true
		}
	}
	return acc, delay, ok
}

// recallEvidence is "lstm 0.98/0.41/0.13, transformer 1.00/1.00/0.99 at delays 5/15/30".
func recallEvidence(rs []rnn.RecallResult, symbols int) string {
	acc := map[string][]string{}
	var delays []string
	var models []string
	for _, r := range rs {
		if _, ok := acc[r.Model]; !ok {
			models = append(models, r.Model)
		}
		acc[r.Model] = append(acc[r.Model], fmt.Sprintf("%.2f", r.Accuracy))
		if len(models) == 1 {
			delays = append(delays, fmt.Sprint(r.Delay))
		}
	}
	var parts []string
	for _, m := range models {
		parts = append(parts, m+" "+strings.Join(acc[m], "/"))
	}
	return fmt.Sprintf("recordar un símbolo k pasos atrás (k = %s; azar 1/%d): acierto %s", strings.Join(delays, "/"), symbols, strings.Join(parts, "; "))
}

// memoryClaim judges a claim on the recall task: judge gets the LSTM's and the Transformer's
// accuracy at the longest delay and the LSTM's at the shortest.
func memoryClaim(t Table, family, claim string, judge func(lstm, tf, lstmFirst float64, delay int) (Verdict, string)) Claim {
	rs := t.Evidence.Recall
	lstm, delay, ok1 := recallAt(rs, "lstm")
	tf, _, ok2 := recallAt(rs, rnn.Transformer)
	first, _ := firstRecall(rs, "lstm")
	if !ok1 || !ok2 {
		return Claim{family, claim, Unmeasured, "hace falta la tarea de recuerdo con retardo"}
	}
	v, more := judge(lstm, tf, first, delay)
	return Claim{family, claim, v, recallEvidence(rs, t.Evidence.RecallSymbols) + more}
}

func transformerMemory(t Table) Claim {
	return memoryClaim(t, "gpt", "captan dependencias largas", func(lstm, tf, _ float64, delay int) (Verdict, string) {
		switch {
		case tf >= 0.9 && tf > lstm+0.1:
			return Holds, ""
		case tf >= 0.9:
			return Caveat, fmt.Sprintf("; con k = %d la LSTM también recuerda", delay)
		}
		return DoesNotHold, ""
	})
}

func rnnMemory(t Table) Claim {
	return memoryClaim(t, "lstm", "problemas con dependencias largas", func(lstm, tf, first float64, delay int) (Verdict, string) {
		switch {
		case lstm < first-0.2 && tf > lstm+0.1:
			return Holds, ""
		case lstm < first-0.2:
			return Caveat, "; el Transformer tampoco recuerda mejor"
		}
		return DoesNotHold, fmt.Sprintf("; hasta k = %d la LSTM no pierde acierto", delay)
	})
}

// firstRecall is model's accuracy at the shortest delay.
func firstRecall(rs []rnn.RecallResult, model string) (float64, bool) {
	for _, r := range rs {
		if r.Model == model {
			return r.Accuracy, true
		}
	}
	return 0, false
}

// textPair returns the GPT and LSTM rows when both have a validation loss.
func textPair(t Table) (gpt, lstm Row, ok bool) {
	gpt, ok1 := t.Row("gpt")
	lstm, ok2 := t.Row("lstm")
	return gpt, lstm, ok1 && ok2 && gpt.Missing == "" && lstm.Missing == "" && gpt.Likelihood.Known() && lstm.Likelihood.Known()
}

func textEvidence(gpt, lstm Row) string {
	return fmt.Sprintf("validación GPT %.3f y LSTM %.3f nats/carácter; %d y %d parámetros; %.0f s (%.2f pasos/s) y %.0f s (%.2f pasos/s) de entrenamiento",
		float64(gpt.Likelihood), float64(lstm.Likelihood), gpt.Params, lstm.Params,
		float64(gpt.WallSeconds), float64(gpt.StepsPerSecond), float64(lstm.WallSeconds), float64(lstm.StepsPerSecond))
}

// textClaim judges a claim on the GPT and LSTM runs: judge returns the verdict and what to add
// to their shared evidence.
func textClaim(t Table, family, claim string, judge func(gpt, lstm Row) (Verdict, string)) Claim {
	gpt, lstm, ok := textPair(t)
	if !ok {
		return Claim{family, claim, Unmeasured, "hacen falta las ejecuciones de GPT y LSTM"}
	}
	v, more := judge(gpt, lstm)
	return Claim{family, claim, v, textEvidence(gpt, lstm) + more}
}

// transformerCompute judges "need much data and compute" in two halves. Compute: GPT takes more
// training time than the LSTM for a validation loss no better (within 1 %). Data: cutting the
// corpus to the smallest of AppetiteFractions raises GPT's validation loss by more than the
// LSTM's (Evidence.Appetite against the rows, trained on all of it). Both halves: holds; one:
// holds with a caveat.
func transformerCompute(t Table) Claim {
	return textClaim(t, "gpt", "necesitan muchos datos y cómputo", func(gpt, lstm Row) (Verdict, string) {
		compute := gpt.Likelihood >= lstm.Likelihood*0.99 && gpt.WallSeconds > lstm.WallSeconds
		more := "; cómputo: la LSTM llega a una pérdida tan buena en menos tiempo"
		if !compute {
			more = "; cómputo: GPT no necesita más tiempo que la LSTM para su pérdida"
		}
		data, text, ok := dataAppetite(t.Evidence.Appetite, gpt, lstm)
		switch {
		case !ok && compute:
			return Caveat, more + "; el apetito de datos (10, 30 y 100 % del corpus) no está medido"
		case !ok:
			return DoesNotHold, more + "; el apetito de datos (10, 30 y 100 % del corpus) no está medido"
		case compute && data:
			return Holds, more + "; datos: " + text
		case compute || data:
			return Caveat, more + "; datos: " + text
		}
		return DoesNotHold, more + "; datos: " + text
	})
}

// dataAppetite compares how much GPT's and the LSTM's validation losses rise when they train on
// the smallest of AppetiteFractions instead of the whole corpus (the rows): worse reports GPT's
// rise larger by more than 0.01 nats/char. ok is false unless both families have a run for every
// fraction.
func dataAppetite(runs []AppetiteRun, gpt, lstm Row) (worse bool, text string, ok bool) {
	rise := map[string]float64{}
	var parts []string
	for _, r := range []Row{gpt, lstm} {
		losses := make([]string, 0, len(AppetiteFractions)+1)
		for i, f := range AppetiteFractions {
			j := slices.IndexFunc(runs, func(a AppetiteRun) bool { return a.Family == r.Family && a.Fraction == f })
			if j < 0 {
				return false, "", false
			}
			a := runs[j]
			l := fmt.Sprintf("%.3f", a.ValNats)
			if a.BestValNats < a.ValNats-0.01 {
				l += fmt.Sprintf(" (mejor %.3f: memoriza)", a.BestValNats)
			}
			losses = append(losses, l)
			if i == 0 {
				rise[r.Family] = a.ValNats - float64(r.Likelihood)
			}
		}
		losses = append(losses, fmt.Sprintf("%.3f", float64(r.Likelihood)))
		parts = append(parts, fmt.Sprintf("%s %s", strings.ToUpper(r.Family), strings.Join(losses, " / ")))
	}
	pct := make([]string, 0, len(AppetiteFractions)+1)
	for _, f := range AppetiteFractions {
		pct = append(pct, fmt.Sprintf("%.0f", 100*f))
	}
	pct = append(pct, "100")
	text = fmt.Sprintf("validación con el %s %% del corpus (mismos pasos): %s nats/carácter; con el %s %% la pérdida sube %.3f en GPT y %.3f en la LSTM",
		strings.Join(pct, " / "), strings.Join(parts, "; "), pct[0], rise["gpt"], rise["lstm"])
	return rise["gpt"] > rise["lstm"]+0.01, text, true
}

func rnnSequences(t Table) Claim {
	return textClaim(t, "lstm", "buenas con datos secuenciales", func(gpt, lstm Row) (Verdict, string) {
		if lstm.Likelihood <= gpt.Likelihood*1.05 {
			return Holds, ""
		}
		return DoesNotHold, ""
	})
}

// rnnEfficiency judges "less efficient than Transformers": the LSTM needing more training time
// than GPT for a validation loss as good (within 1 %).
func rnnEfficiency(t Table) Claim {
	return textClaim(t, "lstm", "menos eficientes que los Transformers", func(gpt, lstm Row) (Verdict, string) {
		switch {
		case lstm.Likelihood <= gpt.Likelihood*1.01 && lstm.WallSeconds < gpt.WallSeconds:
			return DoesNotHold, "; en una CPU y a esta escala la LSTM llega a la misma pérdida en menos tiempo (la recurrencia no se paraleliza a lo largo de la secuencia, que es la ventaja del Transformer en GPU y con contextos largos)"
		case lstm.Likelihood > gpt.Likelihood*1.01 && lstm.WallSeconds >= gpt.WallSeconds:
			return Holds, ""
		}
		return Caveat, ""
	})
}

// diffusionSpeed judges "slow generation" by the images per second of each image family, with
// diffusion's quality-versus-steps study when there is one.
func diffusionSpeed(t Table) Claim {
	c := Claim{Family: "diffusion", Claim: "generación lenta, por los muchos pasos de eliminación de ruido", Verdict: Unmeasured}
	d, ok := t.Row("diffusion")
	if !ok || !d.SamplesPerSec.Known() {
		c.Evidence = "hace falta la velocidad de muestreo de la difusión"
		return c
	}
	var parts []string
	slowest := math.Inf(1)
	for _, r := range t.imageRows() {
		if r.Family != "diffusion" && r.SamplesPerSec.Known() {
			parts = append(parts, fmt.Sprintf("%s %.3g", r.Family, float64(r.SamplesPerSec)))
			slowest = min(slowest, float64(r.SamplesPerSec))
		}
	}
	if len(parts) == 0 {
		c.Evidence = "hace falta la velocidad de muestreo de otra familia de imágenes"
		return c
	}
	comment := ""
	if d.SamplingComment != "" {
		comment = " (" + d.SamplingComment + ")"
	}
	c.Evidence = fmt.Sprintf("imágenes/s: difusión %.3g%s, %s", float64(d.SamplesPerSec), comment, strings.Join(parts, ", "))
	if st := t.Evidence.DiffusionStudy; st != nil && len(st.Rows) > 1 {
		first, last := st.Rows[0], st.Rows[len(st.Rows)-1]
		c.Evidence += fmt.Sprintf("; de %s a %s: %.3g → %.3g imágenes/s, Fréchet %.3g → %.3g (%d muestras)",
			first.Sampler, last.Sampler, first.SamplesPerSecond, last.SamplesPerSecond, first.FLD, last.FLD, st.Samples)
	}
	switch ratio := slowest / float64(d.SamplesPerSec); {
	case ratio >= 10:
		c.Verdict = Holds
		c.Evidence += fmt.Sprintf("; la más lenta de las demás es %.0f veces más rápida", ratio)
	case ratio > 1:
		c.Verdict = Caveat
	default:
		c.Verdict = DoesNotHold
	}
	return c
}

// flowLikelihood judges "exact likelihood": the flow reports log p(x) in bits/dim, which lib/flow's
// tests check against an independent computation (round trip x → z → x, log-determinant
// against a numerical Jacobian); the VAE's number is a bound, and diffusion gives none here.
func flowLikelihood(t Table) Claim {
	c := Claim{Family: "flow", Claim: "verosimilitud exacta", Verdict: Unmeasured}
	f, ok := t.Row("flow")
	if !ok || f.Missing != "" || !f.Likelihood.Known() {
		c.Evidence = "hace falta la ejecución del flujo"
		return c
	}
	c.Verdict = Holds
	c.Evidence = fmt.Sprintf("%.3f bits/dim exactos en la prueba (log p(x) por el cambio de variables; las pruebas de lib/flow comprueban la inversa y el log-determinante)", float64(f.Likelihood))
	if v, ok := t.Row("vae"); ok && v.Likelihood.Known() {
		c.Evidence += fmt.Sprintf("; el VAE solo da una cota (IWAE, %.1f nats sobre MNIST binarizado: otro dato, no comparable)", float64(v.Likelihood))
	}
	return c
}

// flowDesign judges "hard to design the transforms" by what the constraint costs: a flow's
// samples against the GAN's at a comparable size. Invertibility with a cheap Jacobian forces
// every layer to keep the input's dimension and half of it unchanged (Dinh et al. 2017).
func flowDesign(t Table) Claim {
	c := Claim{Family: "flow", Claim: "transformaciones difíciles de diseñar", Verdict: Unmeasured}
	f, ok1 := t.scored("flow")
	g, ok2 := t.scored("gan")
	if !ok1 || !ok2 {
		c.Evidence = "hacen falta las puntuaciones del flujo y de la GAN"
		return c
	}
	c.Evidence = fmt.Sprintf("con %d parámetros el flujo da Fréchet %.3g; la GAN, con %d, %.3g", f.Params, float64(f.Image.FLD), g.Params, float64(g.Image.FLD))
	switch {
	case f.Image.FLD > 3*g.Image.FLD:
		c.Verdict = Caveat
		c.Evidence += ": la restricción de invertibilidad cuesta calidad de muestra (la dificultad de diseño es cualitativa; esto es su precio medido)"
	default:
		c.Verdict = DoesNotHold
		c.Evidence += ": con un diseño estándar (RealNVP) sus muestras no quedan lejos de las de la GAN"
	}
	return c
}
