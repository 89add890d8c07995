package tabular

import (
	"fmt"
	"strings"

	"github.com/iagen-course/iagen/lib/audit"
)

// verdictES says, in Spanish, what the synthetic table did to a gap (audit.CompareGaps).
var verdictES = map[string]string{
	audit.GapKeeps:    "la mantiene: el intervalo del cambio contiene el 0, no se detecta cambio (con pocas semillas, un cambio pequeño pasaría inadvertido)",
	audit.GapWidens:   "la amplía: la brecha sintética se aleja de la paridad",
	audit.GapNarrows:  "la reduce: la brecha sintética se acerca a la paridad, pero sigue del mismo lado",
	audit.GapErases:   "la borra: la brecha sintética se acerca a la paridad y su intervalo contiene el 0",
	audit.GapReverses: "la invierte: en la tabla sintética el otro grupo queda por detrás",
}

// attributeES names each attribute's groups in Spanish.
var attributeES = map[string]struct{ title, privileged, unprivileged string }{
	"sex": {"sexo", "hombres", "mujeres"},
	"age": {"edad", fmt.Sprintf("mayores de %d años", youngAge), fmt.Sprintf("%d años o menos", youngAge)},
}

var tableES = map[string]string{RealTrain: "real, entrenamiento", HeldOut: "real, reservada", Synthetic: "sintética (TVAE)"}

// Markdown renders the report in Spanish: tables.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	level := fmt.Sprintf("%.0f %%", 100*r.Level)
	p("# Auditoría de una tabla sintética: German Credit y un TVAE\n\n")
	p("Generada por `iagen tables` (tables.json tiene todas las cifras, también las de cada semilla). Para cada una de las %d semillas (%s) "+
		"se parte %s al azar en %d filas de entrenamiento y %d reservadas, se entrena con las primeras un TVAE "+
		"(autoencoder variacional para tablas; Xu et al. 2019, «Modeling Tabular Data using Conditional GAN») de %d pasos y se muestrean "+
		"%d filas sintéticas. Backend: %s; %.0f s en total. Cada cifra es la media sobre las semillas con su intervalo t de Student al %s.\n\n",
		len(r.Seeds), joinSeeds(r.Seeds), r.Dataset, r.TrainRows, r.HeldOutRows, r.Model.Steps, r.SyntheticRows, r.Backend, r.WallSeconds, level)
	p("Resultado favorable: crédito «good». Diferencia de paridad estadística (DPE) = P(good | grupo desfavorecido) − P(good | grupo privilegiado): " +
		"0 es paridad; negativa, el grupo desfavorecido obtiene el resultado favorable menos a menudo. Impacto dispar (ID) = el cociente de esas " +
		"dos tasas: 1 es paridad; por debajo de 0.8 incumple la «regla de los cuatro quintos». Son las definiciones de AI Fairness 360 (Bellamy et al. 2018).\n\n")

	for _, g := range r.Gaps {
		es := attributeES[g.Attribute]
		p("## Brecha por %s (privilegiados: %s; desfavorecidos: %s)\n\n", es.title, es.privileged, es.unprivileged)
		p("| tabla | DPE | ID |\n|---|---|---|\n")
		for _, name := range tableNames {
			p("| %s | %s | %s |\n", tableES[name], interval(g.SPD[name]), interval(g.DI[name]))
		}
		p("\nCambio de la DPE (sintética − real de entrenamiento, emparejado por semilla): %s. **La tabla sintética %s.**\n\n",
			interval(g.Shift), verdictES[g.Verdict])
	}

	u := r.Utility
	p("## Utilidad: entrenar con sintéticos, evaluar con reales\n\n")
	p("Una regresión logística que predice «good» a partir de las demás columnas, entrenada con la tabla real de entrenamiento (TRTR) "+
		"o con la sintética (TSTR, Esteban et al. 2017) y evaluada en las %d filas reales reservadas.\n\n", r.HeldOutRows)
	p("| entrenada con | exactitud | AUC |\n|---|---|---|\n")
	p("| real, entrenamiento (TRTR) | %s | %s |\n", interval(u.TRTRAccuracy), interval(u.TRTRAUC))
	p("| sintética (TSTR) | %s | %s |\n\n", interval(u.TSTRAccuracy), interval(u.TSTRAUC))
	p("Diferencia de AUC (TSTR − TRTR, emparejada por semilla): %s. Una AUC de 0.5 es azar; la diferencia mide cuánto de la relación "+
		"entre las columnas y la clase se pierde al pasar por el modelo.\n\n", interval(u.AUCShift))

	p("## Fidelidad\n\n")
	var trainELBO, heldELBO float64
	for _, s := range r.PerSeed {
		trainELBO += s.TrainNegELBO / float64(len(r.PerSeed))
		heldELBO += s.HeldOutNegELBO / float64(len(r.PerSeed))
	}
	p("- Variación total media entre las distribuciones marginales reales y sintéticas de las columnas categóricas: %s (0: idénticas).\n", interval(r.MarginalTV))
	p("- −ELBO (cota de la log-verosimilitud negativa, nats por fila, media sobre semillas): %.2f en las filas de entrenamiento, %.2f en las reservadas. "+
		"Si la segunda fuese mucho mayor, el modelo habría memorizado sus filas.\n\n", trainELBO, heldELBO)

	p("## Advertencias\n\n")
	p("- Con %d semillas el intervalo t es ancho: «la mantiene» significa que no se detecta cambio, no que no lo haya.\n", len(r.Seeds))
	p("- El sexo no es una columna: se lee de personal_status («female div/dep/mar» es mujer), cuya codificación en esta versión clásica " +
		"es en parte errónea (Grömping 2019, «South German Credit Data: Correcting a Widely Used Data Set»). Los datos son de 1973–1975 y " +
		"sobrerrepresentan los créditos malos: sirven para enseñar a auditar, no para afirmar nada sobre el crédito ni sobre las mujeres.\n")
	p("- El modelo genera las columnas numéricas con ruido gaussiano (σ ≥ %.1g desviaciones típicas): la edad sintética se desdibuja cerca del "+
		"umbral de 25 años, lo que por sí solo tiende a acercar la brecha por edad a la paridad.\n", r.Model.MinSigma)
	return b.String()
}

// interval formats an estimate and its interval: "-0.081 [-0.128, -0.035]".
func interval(iv audit.IntervalJSON) string {
	return fmt.Sprintf("%.3f [%.3f, %.3f]", iv.Estimate, iv.Lo, iv.Hi)
}

func joinSeeds(seeds []int64) string {
	s := make([]string, len(seeds))
	for i, v := range seeds {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}
