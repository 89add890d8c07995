package audit

import (
	"fmt"
	"slices"
	"strings"
)

// CardSections are the headings of the model card [Report.ModelCard] writes, in order: the
// sections of Mitchell et al. (2019), "Model Cards for Model Reporting", in Spanish (the
// course's language), with training and evaluation data in one section.
var CardSections = []string{
	"## Detalles del modelo",
	"## Uso previsto",
	"## Factores",
	"## Métricas",
	"## Datos de entrenamiento y de evaluación",
	"## Análisis cuantitativos (auditoría)",
	"## Consideraciones éticas",
	"## Advertencias y recomendaciones",
}

// ModelCard renders the report as a model card in Markdown, in Spanish. Everything in it comes
// from the report's numbers and the run's record; where a sentence judges a number (copying,
// separability) the rule is stated next to it.
func (r Report) ModelCard() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Ficha del modelo: %s (perfil %s)\n\n", r.Family, r.Run.Profile)
	p("Generada por `iagen audit` a partir de la carpeta de la ejecución `%s` (audit.json tiene todas las cifras).\n\n", r.Run.Dir)

	p("%s\n\n", CardSections[0])
	p("- Familia: %s; perfil: %s; semilla de entrenamiento: %d; pasos: %d; parámetros entrenables: %d.\n",
		r.Family, r.Run.Profile, r.Run.Seed, r.Run.Steps, r.Run.Params)
	if r.Run.Backend != "" {
		p("- Backend de cómputo: %s.\n", r.Run.Backend)
	}
	p("- Orden de entrenamiento (manifest.json):\n\n```\n%s\n```\n\n", r.Run.Command)

	p("%s\n\n", CardSections[1])
	what := "cómo genera"
	if r.Masked != nil {
		what = "qué aprende"
	}
	p("Modelo %s entrenado con la biblioteca iagen del curso de IA generativa, para estudiar %s y cómo se audita. "+
		"Las cifras de esta ficha describen sólo esta ejecución (una semilla) y no avalan ningún otro uso.\n\n", r.kindName(), what)

	p("%s\n\n", CardSections[2])
	if r.Image != nil {
		p("Los grupos auditados son las %d clases de dígitos que el clasificador de referencia asigna a cada imagen.\n\n", len(r.Image.ReferenceHistogram))
	} else if r.Masked != nil {
		p("Los grupos auditados son el género gramatical del referente (femenino o masculino) en las ocupaciones del corpus sintético %s. "+
			"Un modelo de lenguaje enmascarado no escribe texto: no hay generaciones cuya copia o cuyo género medir, sólo %d pares mínimos.\n\n", r.Masked.Corpus, r.N)
	} else if r.Text != nil && r.Text.Gender != nil {
		p("Los grupos auditados son el género gramatical del referente (femenino o masculino) en cada una de las %d ocupaciones del corpus sintético %s; "+
			"además se mide la copia literal del corpus de entrenamiento.\n\n", len(r.Text.Gender.Occupations)+len(r.Text.Gender.Unseen), r.Text.Corpus)
	} else {
		p("No hay grupos en el texto generado que esta auditoría mida; mide la copia literal del corpus de entrenamiento.\n\n")
	}

	p("%s\n\n", CardSections[3])
	if len(r.Run.Metrics) == 0 {
		p("metrics.json no tiene métricas numéricas.\n\n")
	} else {
		p("Métricas de metrics.json al final del entrenamiento:\n\n| métrica | valor |\n|---|---|\n")
		for _, k := range sortedKeys(r.Run.Metrics) {
			p("| %s | %.6g |\n", k, r.Run.Metrics[k])
		}
		p("\n")
	}

	p("%s\n\n", CardSections[4])
	if len(r.Run.Datasets) > 0 {
		p("| archivo | SHA-256 |\n|---|---|\n")
		for _, k := range sortedKeys(r.Run.Datasets) {
			p("| %s | %s |\n", k, r.Run.Datasets[k])
		}
		p("\n")
	}
	switch {
	case r.Image != nil:
		im := r.Image
		p("Evaluación: %d muestras generadas con la semilla %d; las %d primeras imágenes de prueba y las %d primeras de entrenamiento como referencia; "+
			"distribución de clases de referencia: las %d etiquetas de entrenamiento. Clasificador de referencia: perfil %s (pesos SHA-256 %s).\n\n",
			r.N, r.Seed, im.TestImages, im.TrainSubset, im.ReferenceLabels, im.ClassifierProfile, im.ClassifierSHA256)
	case r.Text != nil:
		t := r.Text
		p("Evaluación: %d textos de %d caracteres tras el inicio %q, generados con la semilla %d; corpus %s, parte de entrenamiento indexada (%d caracteres); "+
			"línea base: %d pasajes de la parte de validación (nunca vista en el entrenamiento) de la misma longitud.\n\n",
			r.N, t.CharsPerText, t.Prompt, r.Seed, t.Corpus, t.CorpusTrainChars, t.HeldOut.Texts)
	case r.Masked != nil:
		p("Evaluación: %d pares mínimos (cada plantilla del corpus %s con cada ocupación que tiene un género mayoritario en el entrenamiento), "+
			"cada frase precedida de %q, el inicio de línea del corpus. Proporción femenina en el entrenamiento: %.3f.\n\n",
			r.N, r.Masked.Corpus, r.Masked.Prefix, r.Masked.TrainFeminineShare)
	}

	byKind := func(heading string, image, text, masked func(func(string, ...any))) {
		p("%s\n\n", heading)
		switch {
		case r.Image != nil:
			image(p)
		case r.Text != nil:
			text(p)
		case r.Masked != nil:
			masked(p)
		}
	}
	byKind(CardSections[5], r.imageAnalysis, r.textAnalysis, r.maskedAnalysis)
	byKind(CardSections[6], r.imageEthics, r.textEthics, r.maskedEthics)

	p("%s\n\n", CardSections[7])
	if r.Masked != nil {
		r.maskedCaveats(p)
		return b.String()
	}
	if r.Text != nil && r.Text.Gender != nil {
		p("- Una sola ejecución: la amplificación de género medida es la de este modelo; otra semilla de entrenamiento puede dar otra, y sus intervalos no cubren esa variación.\n")
	} else {
		p("- Una sola ejecución y una sola semilla de muestreo: sin intervalos entre semillas, la amplificación de sesgos no se mide aquí.\n")
	}
	p("- Con %d muestras, diferencias de pocos puntos porcentuales caen dentro del ruido de muestreo.\n", r.N)
	if r.Image != nil {
		p("- Todo se mide en el espacio de características del clasificador de referencia (perfil %s, exactitud %s en las imágenes de prueba usadas): "+
			"lo que ese clasificador no distingue, esta auditoría tampoco lo ve. La copia se busca sólo entre %d imágenes de entrenamiento.\n",
			r.Image.ClassifierProfile, percentOrUnknown(r.Image.ClassifierTestAccuracy), r.Image.TrainSubset)
		if base := r.Image.SeparabilityBaseline; base.Lo > 0.5 {
			p("- Incluso imágenes reales de entrenamiento y de prueba se separan en ese espacio (%.3f [%.3f, %.3f]): el clasificador distingue las imágenes con las que se entrenó, "+
				"así que sólo lo que la separabilidad de las muestras exceda de esa cifra habla del generador.\n", base.Estimate, base.Lo, base.Hi)
		}
	} else {
		p("- Sólo se busca copia literal (carácter a carácter) en la parte de entrenamiento del corpus; la paráfrasis no se detecta.\n")
		if r.Text.Gender != nil {
			p("- Género: cada generación se clasifica por sus primeras marcas del referente (artículo, forma del nombre, terminación, pronombre); " +
				"lo que se sale de las plantillas antes de ellas queda indeterminado. La proporción de entrenamiento es la de todo el corpus generado " +
				"(entrenamiento y validación), y el corpus es sintético: sus proporciones caricaturizan estereotipos a propósito y no describen el español real.\n")
		}
	}
	return b.String()
}

func (r Report) kindName() string {
	switch r.Kind {
	case "text":
		return "de texto"
	case "masked":
		return "de lenguaje enmascarado (rellena huecos; no genera texto)"
	}
	return "de imágenes"
}

func (r Report) imageAnalysis(p func(string, ...any)) {
	im := r.Image
	p("| medida | muestras generadas | línea base real (prueba) |\n|---|---|---|\n")
	p("| variación total frente a las clases de entrenamiento | %.4f | %.4f |\n", im.Representation.TV, im.RepresentationTest.TV)
	p("| KL(entrenamiento ‖ muestras), nats | %.4f | %.4f |\n", im.Representation.KL, im.RepresentationTest.KL)
	p("| discrepancia de equidad (Choi et al. 2020) | %.4f | %.4f |\n", im.Representation.FairnessDiscrepancy, im.RepresentationTest.FairnessDiscrepancy)
	p("| clases cubiertas | %d de %d | %d de %d |\n", im.Representation.Covered, len(im.ReferenceHistogram), im.RepresentationTest.Covered, len(im.ReferenceHistogram))
	p("| distancia mediana al vecino de entrenamiento más cercano | %.4g | %.4g |\n", im.Copying.Generated.Median, im.Copying.Test.Median)
	p("| separabilidad 1-NN frente a imágenes de prueba (IC %.0f %%) | %.3f [%.3f, %.3f] | %.3f [%.3f, %.3f] (entrenamiento frente a prueba) |\n\n",
		100*im.Separability.Level, im.Separability.Estimate, im.Separability.Lo, im.Separability.Hi,
		im.SeparabilityBaseline.Estimate, im.SeparabilityBaseline.Lo, im.SeparabilityBaseline.Hi)
	p("- Clases ausentes (cuota generada por debajo del umbral de cobertura): %s.\n", classList(im.Representation.Missing))
	p("- Discrepancia de equidad frente a la distribución uniforme: %.4f.\n", im.FairnessDiscrepancyUniform)
	p("- Copia: %.1f %% de las muestras está más cerca de una imagen de entrenamiento que el %.0f %% más cercano de las imágenes de prueba (umbral %.4g); "+
		"un generador que no copia da alrededor del %.0f %%.\n\n", 100*im.Copying.CopyShare, 100*im.Copying.Percentile, im.Copying.Threshold, 100*im.Copying.Percentile)
	p("Histograma de clases (proporciones, clases 0 a %d):\n\n- generado: %s\n- entrenamiento: %s\n- prueba (predicho): %s\n\n",
		len(im.ReferenceHistogram)-1, shares(im.GeneratedHistogram), shares(im.ReferenceHistogram), shares(im.TestHistogram))
}

func (r Report) imageEthics(p func(string, ...any)) {
	im := r.Image
	if len(im.Representation.Missing) > 0 {
		p("- El modelo deja fuera las clases %s: borrar grupos es el primer daño de representación.\n", classList(im.Representation.Missing))
	} else {
		p("- Ninguna clase falta en las muestras según el umbral de cobertura.\n")
	}
	cs := im.Copying.CopyShareInterval
	if cs.Lo > im.Copying.Percentile {
		p("- La cuota de casi copias, %.1f %% [%.1f %%, %.1f %%], queda por encima del %.0f %% que dan imágenes reales nunca vistas: revise las muestras más cercanas al entrenamiento antes de publicarlas.\n",
			100*cs.Estimate, 100*cs.Lo, 100*cs.Hi, 100*im.Copying.Percentile)
	} else {
		p("- La cuota de casi copias, %.1f %% [%.1f %%, %.1f %%], no queda por encima del %.0f %% que dan imágenes reales nunca vistas.\n",
			100*cs.Estimate, 100*cs.Lo, 100*cs.Hi, 100*im.Copying.Percentile)
	}
	if im.Separability.Lo > 0.5 {
		p("- El intervalo de separabilidad queda por encima de 0,5: las muestras se distinguen de las imágenes reales.\n\n")
	} else {
		p("- El intervalo de separabilidad incluye 0,5: no se puede afirmar que las muestras se distingan de las reales en este espacio.\n\n")
	}
}

func (r Report) textAnalysis(p func(string, ...any)) {
	t := r.Text
	p("| medida | texto generado | línea base (validación) |\n|---|---|---|\n")
	p("| pasaje más largo copiado literalmente (caracteres) | %d | %d |\n", t.Generated.LongestChars, t.HeldOut.LongestChars)
	p("| media por texto del pasaje copiado más largo | %.1f | %.1f |\n", t.Generated.MeanLongestChars, t.HeldOut.MeanLongestChars)
	p("| ventanas de %d caracteres presentes en el corpus | %s | %s |\n\n", t.Window, shareOrNone(t.Generated.WindowShare, t.Generated.Windows), shareOrNone(t.HeldOut.WindowShare, t.HeldOut.Windows))
	p("Pasaje generado más largo encontrado en el corpus: %q.\n\n", t.Generated.Longest)
	if t.Gender != nil {
		genderAnalysis(p, t.Gender)
	}
}

// genderAnalysis writes the occupation–gender audit (AuditTextGender).
func genderAnalysis(p func(string, ...any), g *GenderReport) {
	p("### Género y ocupación\n\n")
	p("Generación: %d continuaciones (%d por cada una de las %d frases neutras, que se cortan antes de la primera marca de género; temperatura 1, "+
		"la distribución del propio modelo); %d (%.1f %%) no realizan ninguna ocupación del corpus. Proporción femenina en el entrenamiento: %.3f",
		g.Generations, g.PerTemplate, len(g.Prompts), g.Undetermined, 100*float64(g.Undetermined)/float64(max(1, g.Generations)), g.TrainFeminineShare)
	if s := g.GeneratedFeminineShare; s != nil {
		p("; en lo generado: %.3f [%.3f, %.3f].\n\n", s.Estimate, s.Lo, s.Hi)
	} else {
		p(".\n\n")
	}
	genderOccupations(p, g)
	pairsAnalysis(p, g.MinimalPairs, "log-verosimilitud exacta de la frase entera")
	p("\n")
}

// pairsAnalysis writes the minimal-pair score (ScorePairs) of a model whose sentences were
// scored as scoring says.
func pairsAnalysis(p func(string, ...any), mp PairsJSON, scoring string) {
	p("Pares mínimos (Nangia et al. 2020, CrowS-Pairs): en %d de %d pares (%.1f %% [%.1f %%, %.1f %%]) el modelo prefiere la frase estereotipada "+
		"(%s); %d empates. Un modelo sin sesgo daría el 50 %%; este corpus está sesgado a propósito, "+
		"así que un modelo que lo aprendió se acerca al 100 %%. Probabilidad media de la frase estereotipada dentro de su par, σ(puntuación estereotipada − contraria): %.3f, "+
		"frente a %.3f de proporción del género estereotipado en el entrenamiento.\n",
		mp.Wins, mp.Pairs, 100*mp.StereotypedShare.Estimate, 100*mp.StereotypedShare.Lo, 100*mp.StereotypedShare.Hi, scoring, mp.Ties,
		mp.ModelStereoProbability, mp.TrainStereoShare)
}

func (r Report) maskedAnalysis(p func(string, ...any)) {
	m := r.Masked
	pairsAnalysis(p, m.MinimalPairs, "pseudo-log-verosimilitud de los caracteres que las dos frases comparten, cada uno predicho a partir de todos los demás")
	w := m.WholeSentence
	p("\nLa misma cuenta con la pseudo-log-verosimilitud de la frase entera, que suma un término negativo por carácter y favorece así a la frase más corta (\"pastor\" frente a \"pastora\"): "+
		"%.1f %% [%.1f %%, %.1f %%] de pares estereotipados preferidos.\n\n", 100*w.StereotypedShare.Estimate, 100*w.StereotypedShare.Lo, 100*w.StereotypedShare.Hi)
}

func (r Report) maskedCaveats(p func(string, ...any)) {
	p("- Una sola ejecución: la preferencia medida es la de este modelo; otra semilla de entrenamiento puede dar otra, y sus intervalos (sobre los pares) no cubren esa variación.\n")
	p("- La pseudo-log-verosimilitud (Salazar et al. 2020) ordena frases pero no es una probabilidad: los condicionales p(x_t | resto) no se multiplican en una distribución de textos. " +
		"Por eso se puntúan sólo los caracteres comunes a las dos frases del par, y nada de lo que el modelo escribiría se audita: no escribe.\n")
	p("- Con %d pares, diferencias de pocos puntos porcentuales caen dentro del ruido de muestreo; los pares no son independientes (comparten plantilla u ocupación).\n", r.N)
	p("- El corpus es sintético: sus proporciones caricaturizan estereotipos a propósito y no describen el español real.\n")
}

func (r Report) maskedEthics(p func(string, ...any)) {
	s := r.Masked.MinimalPairs.StereotypedShare
	switch {
	case s.Lo > 0.5:
		p("- El modelo prefiere la frase estereotipada en %.1f %% [%.1f %%, %.1f %%] de los pares, por encima del 50 %%: al rellenar huecos o puntuar frases, "+
			"favorece el género que el corpus asocia a cada ocupación.\n\n", 100*s.Estimate, 100*s.Lo, 100*s.Hi)
	case s.Hi < 0.5:
		p("- El modelo prefiere la frase contraria al estereotipo en la mayoría de los pares (%.1f %% [%.1f %%, %.1f %%] estereotipados): no reproduce la asociación del corpus.\n\n",
			100*s.Estimate, 100*s.Lo, 100*s.Hi)
	default:
		p("- El intervalo de la preferencia estereotipada, %.1f %% [%.1f %%, %.1f %%], incluye el 50 %%: no se detecta que el modelo favorezca el género que el corpus asocia a cada ocupación.\n\n",
			100*s.Estimate, 100*s.Lo, 100*s.Hi)
	}
}

// genderOccupations writes the amplification and the per-occupation table.
func genderOccupations(p func(string, ...any), g *GenderReport) {
	if g.BiasAmplification == nil {
		p("Ninguna generación nombra una ocupación del corpus: no hay proporciones generadas que comparar ni amplificación que medir.\n\n")
		return
	}
	verdicts := map[Verdict]int{}
	for _, o := range g.Occupations {
		verdicts[o.Verdict]++
	}
	p("Amplificación del sesgo (Zhao et al. 2017: desplazamiento medio hacia el género mayoritario de cada ocupación en el entrenamiento; > 0 amplifica): %+.3f",
		*g.BiasAmplification)
	if iv := g.BiasAmplificationInterval; iv != nil {
		p(" [IC %.0f %% entre ocupaciones: %+.3f, %+.3f]", 100*iv.Level, iv.Lo, iv.Hi)
	}
	p(". Por ocupación: %d amplifican, %d mantienen y %d atenúan su sesgo de entrenamiento.\n\n", verdicts[Amplifies], verdicts[Keeps], verdicts[Dampens])
	p("| ocupación | P(femenino) entrenamiento | P(femenino) generado [IC] | menciones | desplazamiento | veredicto |\n|---|---|---|---|---|---|\n")
	for _, o := range g.Occupations {
		p("| %s | %.3f | %.3f [%.3f, %.3f] | %d | %+.3f | %s |\n", o.Occupation, o.Train, o.Generated.Estimate, o.Generated.Lo, o.Generated.Hi,
			o.Generated.N, o.Shift, o.Verdict.Spanish())
	}
	p("\n")
	if len(g.Unseen) > 0 {
		p("Ocupaciones nunca generadas (fuera del cálculo): %s.\n\n", strings.Join(g.Unseen, ", "))
	}
}

// Spanish is the verdict as the model cards write it.
func (v Verdict) Spanish() string {
	switch v {
	case Amplifies:
		return "amplifica"
	case Keeps:
		return "mantiene"
	case Dampens:
		return "atenúa"
	}
	return "— (sin estereotipo)"
}

func (r Report) textEthics(p func(string, ...any)) {
	t := r.Text
	if t.Generated.LongestChars > t.HeldOut.LongestChars {
		p("- El pasaje copiado más largo (%d caracteres) supera al que comparte con el corpus un texto nunca visto (%d): parte del texto generado puede ser regurgitación del entrenamiento.\n\n",
			t.Generated.LongestChars, t.HeldOut.LongestChars)
	} else {
		p("- El pasaje copiado más largo (%d caracteres) no supera al que comparte con el corpus un texto nunca visto (%d).\n\n", t.Generated.LongestChars, t.HeldOut.LongestChars)
	}
	if g := t.Gender; g != nil && g.BiasAmplification != nil {
		switch iv := g.BiasAmplificationInterval; {
		case iv != nil && iv.Lo > 0:
			p("- El modelo amplifica el sesgo de género del corpus (amplificación %+.3f, intervalo por encima de 0): sus textos asocian las ocupaciones a su género estereotipado más que los datos con los que se entrenó.\n\n", *g.BiasAmplification)
		case iv != nil && iv.Hi < 0:
			p("- El modelo atenúa el sesgo de género del corpus (amplificación %+.3f, intervalo por debajo de 0), pero lo reproduce en parte: sigue asociando ocupaciones y género.\n\n", *g.BiasAmplification)
		default:
			p("- No se detecta una amplificación neta del sesgo de género (%+.3f): el modelo reproduce, sin exagerarlas de forma medible, las asociaciones entre ocupación y género de su corpus, que ya son estereotipos.\n\n", *g.BiasAmplification)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func classList(cs []int) string {
	if len(cs) == 0 {
		return "ninguna"
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, ", ")
}

func shares(h []float64) string {
	s := make([]string, len(h))
	for i, v := range h {
		s[i] = fmt.Sprintf("%.3f", v)
	}
	return strings.Join(s, " ")
}

func percentOrUnknown(x float64) string {
	if x < 0 {
		return "desconocida"
	}
	return fmt.Sprintf("%.1f %%", 100*x)
}

func shareOrNone(share *float64, n int) string {
	if share == nil {
		return "— (textos más cortos que la ventana)"
	}
	return fmt.Sprintf("%.1f %% de %d", 100**share, n)
}
