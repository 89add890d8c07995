package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
)

// Toy2D is a distribution on the plane for quick experiments: small enough that samples can
// be plotted and, for the mixtures, compared with the true density.
type Toy2D interface {
	// Name is the key of ToyByName: "moons", "ring8", "grid25", "spiral".
	Name() string
	// Sample draws n points; the same (n, seed) always gives the same points.
	Sample(n int, seed int64) [][2]float32
	// LogDensity returns log p(x, y) and true where the density has a closed form (the
	// Gaussian mixtures); 0 and false otherwise.
	LogDensity(x, y float64) (float64, bool)
	// Modes returns the centres used for mode counting (see CountModes).
	Modes() [][2]float32
}

// ToyNames lists the names ToyByName knows.
var ToyNames = []string{"moons", "ring8", "grid25", "spiral"}

// ToyByName returns the toy distribution with the given name, with default parameters.
func ToyByName(name string) (Toy2D, error) {
	switch name {
	case "moons":
		return Moons{Noise: 0.05}, nil
	case "ring8":
		return Ring{K: 8, Radius: 2, Std: 0.05}, nil
	case "grid25":
		return Grid{K: 5, Spacing: 1, Std: 0.05}, nil
	case "spiral":
		return Spiral{Turns: 2, Radius: 2, Noise: 0.05}, nil
	}
	return nil, fmt.Errorf("data: unknown toy distribution %q (known: %s)", name, strings.Join(ToyNames, ", "))
}

func toyRand(seed int64, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), salt))
}

// Moons is scikit-learn's "two moons", centred: the upper half circle (cos t, sin t) and the
// lower one (1-cos t, 0.5-sin t), t uniform in [0, π], shifted by (-0.5, -0.25), half the
// points on each, plus isotropic Gaussian noise of standard deviation Noise.
type Moons struct{ Noise float64 }

func (Moons) Name() string { return "moons" }

func (m Moons) Sample(n int, seed int64) [][2]float32 {
	r := toyRand(seed, 0x6d6f6f6e73)
	out := make([][2]float32, max(n, 0))
	for i := range out {
		t := math.Pi * r.Float64()
		var x, y float64
		if i%2 == 0 {
			x, y = math.Cos(t), math.Sin(t)
		} else {
			x, y = 1-math.Cos(t), 0.5-math.Sin(t)
		}
		out[i] = [2]float32{float32(x - 0.5 + m.Noise*r.NormFloat64()), float32(y - 0.25 + m.Noise*r.NormFloat64())}
	}
	return out
}

// LogDensity has no closed form for the moons (a uniform arc blurred by noise).
func (Moons) LogDensity(x, y float64) (float64, bool) { return 0, false }

// Modes returns the midpoints of the two arcs, one per moon.
func (Moons) Modes() [][2]float32 { return [][2]float32{{-0.5, 0.75}, {0.5, -0.75}} }

// Ring is a mixture of K equally weighted isotropic Gaussians (standard deviation Std) centred
// on a circle of radius Radius at angles 2πk/K: the mode-collapse test of Metz et al. (2017,
// Unrolled GANs).
type Ring struct {
	K           int
	Radius, Std float64
}

func (g Ring) Name() string { return fmt.Sprintf("ring%d", g.K) }

func (g Ring) Modes() [][2]float32 {
	c := make([][2]float32, g.K)
	for k := range c {
		a := 2 * math.Pi * float64(k) / float64(g.K)
		c[k] = [2]float32{float32(g.Radius * math.Cos(a)), float32(g.Radius * math.Sin(a))}
	}
	return c
}

func (g Ring) Sample(n int, seed int64) [][2]float32 {
	return sampleMixture(g.Modes(), g.Std, n, toyRand(seed, 0x72696e67))
}

// LogDensity is log (1/K) Σ_k N((x,y); μ_k, Std² I).
func (g Ring) LogDensity(x, y float64) (float64, bool) {
	return mixtureLogDensity(g.Modes(), g.Std, x, y), true
}

// Grid is a mixture of K×K equally weighted isotropic Gaussians (standard deviation Std)
// centred on a square grid with spacing Spacing, centred on the origin (K = 5, Spacing = 1:
// centres at -2..2), as in VEEGAN and PacGAN.
type Grid struct {
	K            int
	Spacing, Std float64
}

func (g Grid) Name() string { return fmt.Sprintf("grid%d", g.K*g.K) }

func (g Grid) Modes() [][2]float32 {
	c := make([][2]float32, 0, g.K*g.K)
	off := float64(g.K-1) / 2
	for i := range g.K {
		for j := range g.K {
			c = append(c, [2]float32{float32((float64(i) - off) * g.Spacing), float32((float64(j) - off) * g.Spacing)})
		}
	}
	return c
}

func (g Grid) Sample(n int, seed int64) [][2]float32 {
	return sampleMixture(g.Modes(), g.Std, n, toyRand(seed, 0x67726964))
}

// LogDensity is log (1/K²) Σ_k N((x,y); μ_k, Std² I).
func (g Grid) LogDensity(x, y float64) (float64, bool) {
	return mixtureLogDensity(g.Modes(), g.Std, x, y), true
}

// Spiral is one arm of an Archimedean spiral: θ = 2π·Turns·√u with u uniform in [0, 1] (so
// points spread evenly along the arm), radius Radius·θ/θmax, plus isotropic Gaussian noise of
// standard deviation Noise.
type Spiral struct{ Turns, Radius, Noise float64 }

func (Spiral) Name() string { return "spiral" }

func (s Spiral) Sample(n int, seed int64) [][2]float32 {
	r := toyRand(seed, 0x73706972616c)
	tmax := 2 * math.Pi * s.Turns
	out := make([][2]float32, max(n, 0))
	for i := range out {
		t := tmax * math.Sqrt(r.Float64())
		rad := s.Radius * t / tmax
		out[i] = [2]float32{float32(rad*math.Cos(t) + s.Noise*r.NormFloat64()), float32(rad*math.Sin(t) + s.Noise*r.NormFloat64())}
	}
	return out
}

// LogDensity has no closed form for the spiral.
func (Spiral) LogDensity(x, y float64) (float64, bool) { return 0, false }

// Modes returns nil: the spiral is one continuous arm, with nothing to count.
func (Spiral) Modes() [][2]float32 { return nil }

func sampleMixture(centres [][2]float32, std float64, n int, r *rand.Rand) [][2]float32 {
	out := make([][2]float32, max(n, 0))
	for i := range out {
		c := centres[r.IntN(len(centres))]
		out[i] = [2]float32{c[0] + float32(std*r.NormFloat64()), c[1] + float32(std*r.NormFloat64())}
	}
	return out
}

// mixtureLogDensity computes log (1/K) Σ_k exp(-|p-μ_k|²/(2σ²)) / (2πσ²) with the log-sum-exp
// trick, so it stays finite far from every centre.
func mixtureLogDensity(centres [][2]float32, std, x, y float64) float64 {
	if len(centres) == 0 {
		return math.Inf(-1)
	}
	best := math.Inf(-1)
	e := make([]float64, len(centres))
	for k, c := range centres {
		dx, dy := x-float64(c[0]), y-float64(c[1])
		e[k] = -(dx*dx + dy*dy) / (2 * std * std)
		best = max(best, e[k])
	}
	sum := 0.0
	for _, v := range e {
		sum += math.Exp(v - best)
	}
	return best + math.Log(sum) - math.Log(float64(len(centres))) - math.Log(2*math.Pi*std*std)
}

// CountModes assigns each point to its nearest mode and returns, per mode, how many points lie
// within radius of it (points farther from every mode count nowhere). A mode with no point is a
// dropped mode; the counts' spread measures how evenly a model covers them. A common radius is
// 3 standard deviations of the mixture component.
func CountModes(points, modes [][2]float32, radius float32) []int {
	counts := make([]int, len(modes))
	r2 := radius * radius
	for _, p := range points {
		best, bestD := -1, float32(math.Inf(1))
		for k, m := range modes {
			dx, dy := p[0]-m[0], p[1]-m[1]
			if d := dx*dx + dy*dy; d < bestD {
				best, bestD = k, d
			}
		}
		if best >= 0 && bestD <= r2 {
			counts[best]++
		}
	}
	return counts
}

// PointsTensor returns the points as a float32 tensor of shape [len(points), 2].
func PointsTensor(points [][2]float32) *tensors.Tensor {
	flat := make([]float32, 2*len(points))
	for i, p := range points {
		flat[2*i], flat[2*i+1] = p[0], p[1]
	}
	return tensors.FromFlatDataAndDimensions(flat, len(points), 2)
}
