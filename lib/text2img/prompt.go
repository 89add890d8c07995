package text2img

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Classes are the 20 classes of the combined data: the MNIST digits 0–9, then Fashion-MNIST's
// ten classes as 10–19, each as the Spanish prompt that names it (article and noun, the
// article agreeing with the noun's gender).
var Classes = []string{
	"un cero", "un uno", "un dos", "un tres", "un cuatro", "un cinco", "un seis", "un siete", "un ocho", "un nueve",
	"una camiseta", "un pantalón", "un jersey", "un vestido", "un abrigo",
	"una sandalia", "una camisa", "una zapatilla", "un bolso", "un botín",
}

// NumClasses is the number of classes of the combined data (10 digits, 10 garments).
const NumClasses = 20

// Attribute words a digit's prompt may add after its noun (digits only, all masculine).
const (
	Slanted  = "inclinado" // |slant| ≥ SlantedAbove
	Upright  = "recto"     // |slant| ≤ UprightBelow
	Thick    = "grueso"    // ink mass in the top third of its class
	Thin     = "fino"      // ink mass in the bottom third of its class
	nullWord = "<nada>"    // the null prompt ∅ of classifier-free guidance: no word a user types
)

// Slant thresholds on |slant| (Slant: horizontal shift per row, so 0.35 ≈ 19°, 0.1 ≈ 6°).
// Between them a digit's prompt names no slant: an ambiguous word would blur the attribute.
const (
	SlantedAbove = 0.35
	UprightBelow = 0.1
)

// MaxWords is the longest prompt: article, noun, slant, thickness.
const MaxWords = 4

// Token ids: 0 pads a prompt to MaxWords, 1 is the null prompt.
const (
	padToken  = 0
	nullToken = 1
)

// Vocabulary is the word list of the prompt grammar, indexed by token id: padding, the null
// prompt, then every word of Classes and the attribute words.
var Vocabulary = func() []string {
	v := []string{"<pad>", nullWord}
	seen := map[string]bool{}
	for _, c := range Classes {
		for _, w := range strings.Fields(c) {
			if !seen[w] {
				seen[w] = true
				v = append(v, w)
			}
		}
	}
	return append(v, Slanted, Upright, Thick, Thin)
}()

var tokenOf = func() map[string]int32 {
	m := map[string]int32{}
	for i, w := range Vocabulary[2:] {
		m[w] = int32(i + 2)
	}
	return m
}()

// Encode turns a prompt into MaxWords token ids (padded with 0). Words are matched lower-cased;
// a word outside the vocabulary, or more than MaxWords words, is an error listing the vocabulary.
// The empty prompt is the null prompt ∅ (unconditional generation).
func Encode(prompt string) ([]int32, error) {
	words := strings.Fields(strings.ToLower(prompt))
	out := make([]int32, MaxWords)
	if len(words) == 0 {
		out[0] = nullToken
		return out, nil
	}
	if len(words) > MaxWords {
		return nil, fmt.Errorf("text2img: prompt %q has %d words, at most %d (e.g. \"un siete inclinado grueso\")", prompt, len(words), MaxWords)
	}
	for i, w := range words {
		id, ok := tokenOf[w]
		if !ok {
			return nil, fmt.Errorf("text2img: unknown word %q in prompt %q; the vocabulary is: %s", w, prompt, strings.Join(Vocabulary[2:], ", "))
		}
		out[i] = id
	}
	return out, nil
}

// ClassOf returns the class a prompt names (its noun), or −1 for a prompt that names none.
func ClassOf(prompt string) int {
	words := strings.Fields(strings.ToLower(prompt))
	for c, name := range Classes {
		noun := strings.Fields(name)[1]
		for _, w := range words {
			if w == noun {
				return c
			}
		}
	}
	return -1
}

// Moments are the measured attributes of a 28×28 grey image (0 background, 255 ink).
type Moments struct {
	Slant float64 // −μ₁₁/μ₀₂: horizontal shift of the ink per row upwards (> 0 leans right)
	Ink   float64 // ink mass: the sum of the grey levels / 255 (stroke thickness × length)
}

// Measure computes an image's second-order moments of ink (Hu 1962): with the centroid
// (x̄, ȳ), μ₁₁ = Σ I·(x−x̄)(y−ȳ) and μ₀₂ = Σ I·(y−ȳ)², the least-squares line x − x̄ = s·(y − ȳ)
// through the ink has s = μ₁₁/μ₀₂ (the deskewing shear of LeCun et al.'s MNIST work); y grows
// downwards, so a digit leaning right has s < 0 and Slant = −s > 0. pixels holds 28·28 bytes.
func Measure(pixels []uint8) Moments {
	var m, mx, my float64
	for i, p := range pixels {
		v := float64(p)
		m += v
		mx += v * float64(i%28)
		my += v * float64(i/28)
	}
	if m == 0 {
		return Moments{}
	}
	mx, my = mx/m, my/m
	var mu11, mu02 float64
	for i, p := range pixels {
		v, dx, dy := float64(p), float64(i%28)-mx, float64(i/28)-my
		mu11 += v * dx * dy
		mu02 += v * dy * dy
	}
	if mu02 == 0 {
		return Moments{Ink: m / 255}
	}
	return Moments{Slant: -mu11 / mu02, Ink: m / 255}
}

// SlantWord names a slant: Slanted, Upright, or "" between the thresholds.
func SlantWord(slant float64) string {
	switch a := math.Abs(slant); {
	case a >= SlantedAbove:
		return Slanted
	case a <= UprightBelow:
		return Upright
	}
	return ""
}

// attributes are the words an image may have beyond its class: slant and thickness words
// ("" where the measure is ambiguous or the class is a garment).
type attributes struct{ slant, thickness string }

// describe measures the digits of a labelled set: each digit's slant word, and its thickness
// word from the terciles of ink mass within its class (a 1 has less ink than an 8 at any
// thickness). Garments (label ≥ 10) get none.
func describe(pixels []uint8, labels []uint8) []attributes {
	const size = 28 * 28
	n := len(labels)
	out := make([]attributes, n)
	ink := make([][]float64, 10)
	moments := make([]Moments, n)
	for i := range n {
		if labels[i] >= 10 {
			continue
		}
		moments[i] = Measure(pixels[i*size : (i+1)*size])
		ink[labels[i]] = append(ink[labels[i]], moments[i].Ink)
	}
	lo, hi := make([]float64, 10), make([]float64, 10) // thin: ink ≤ lo, the bottom third; thick: ≥ hi, the top third
	for c, v := range ink {
		lo[c], hi[c] = math.Inf(-1), math.Inf(1)
		if k := len(v) / 3; k > 0 {
			slices.Sort(v)
			lo[c], hi[c] = v[k-1], v[len(v)-k]
		}
	}
	for i := range n {
		c := labels[i]
		if c >= 10 {
			continue
		}
		out[i].slant = SlantWord(moments[i].Slant)
		switch {
		case moments[i].Ink >= hi[c]:
			out[i].thickness = Thick
		case moments[i].Ink <= lo[c]:
			out[i].thickness = Thin
		}
	}
	return out
}

// prompt builds the training prompt of an image of class c: the class's words, then each
// attribute word kept with probability keep (so the bare prompt trains too).
func (a attributes) prompt(c int, keep float64, r *rand.Rand) string {
	p := Classes[c]
	for _, w := range []string{a.slant, a.thickness} {
		if w != "" && r.Float64() < keep {
			p += " " + w
		}
	}
	return p
}
