package data

import (
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func TestToyDistributions(t *testing.T) {
	for _, name := range ToyNames {
		t.Run(name, func(t *testing.T) {
			d, err := ToyByName(name)
			if err != nil {
				t.Fatal(err)
			}
			if d.Name() != name {
				t.Fatalf("Name() = %q", d.Name())
			}
			a, b := d.Sample(2000, 5), d.Sample(2000, 5)
			if len(a) != 2000 || !slices.Equal(a, b) {
				t.Fatal("same seed, different samples")
			}
			if slices.Equal(a, d.Sample(2000, 6)) {
				t.Fatal("different seeds, same samples")
			}
			var mx, my float64
			for _, p := range a {
				if !(math.Abs(float64(p[0])) <= 4) || !(math.Abs(float64(p[1])) <= 4) {
					t.Fatalf("point %v far outside the support", p)
				}
				mx += float64(p[0]) / 2000
				my += float64(p[1]) / 2000
			}
			if !(math.Abs(mx) <= 0.5) || !(math.Abs(my) <= 0.5) {
				t.Fatalf("mean (%.2f, %.2f) not near the origin", mx, my)
			}
			modes := d.Modes()
			if len(modes) > 0 {
				counts := CountModes(a, modes, 0.5)
				for k, c := range counts {
					if c == 0 {
						t.Fatalf("mode %d (%v) got no sample: %v", k, modes[k], counts)
					}
				}
			}
		})
	}
	if _, err := ToyByName("nope"); err == nil {
		t.Fatal("unknown name accepted")
	}
}

func TestToyModesAndDensity(t *testing.T) {
	ring, _ := ToyByName("ring8")
	grid, _ := ToyByName("grid25")
	if len(ring.Modes()) != 8 || len(grid.Modes()) != 25 {
		t.Fatalf("modes: %d, %d", len(ring.Modes()), len(grid.Modes()))
	}
	// Grid: 1-exp(-9/2) = 98.9% of the samples within 3σ of a centre, each centre about 1/25.
	pts := grid.Sample(25000, 1)
	counts := CountModes(pts, grid.Modes(), 0.15)
	total := 0
	for _, c := range counts {
		total += c
		if c < 800 || c > 1200 {
			t.Fatalf("grid mode counts %v", counts)
		}
	}
	if total < 24600 || total > 24850 {
		t.Fatalf("%d of 25000 points within 3σ, want about 24722", total)
	}
	// Density integrates to 1 (midpoint rule on a fine grid) and peaks at a centre.
	for _, d := range []Toy2D{ring, Ring{K: 8, Radius: 2, Std: 0.3}, grid} {
		const h = 0.025 // the midpoint rule is very accurate on Gaussians, even at h = σ/2
		sum := 0.0
		for x := -3.0 + h/2; x < 3; x += h {
			for y := -3.0 + h/2; y < 3; y += h {
				lp, ok := d.LogDensity(x, y)
				if !ok {
					t.Fatal("mixture without density")
				}
				sum += math.Exp(lp) * h * h
			}
		}
		if !(math.Abs(sum-1) <= 0.01) {
			t.Fatalf("%s density integrates to %v", d.Name(), sum)
		}
	}
	m := ring.Modes()[0]
	lp, _ := ring.LogDensity(float64(m[0]), float64(m[1]))
	want := math.Log(1.0/8) - math.Log(2*math.Pi*0.05*0.05)
	if !(math.Abs(lp-want) <= 1e-4) {
		t.Fatalf("log density at a centre %v, want %v", lp, want)
	}
	if lp, _ := ring.LogDensity(100, 100); math.IsInf(lp, 0) || math.IsNaN(lp) {
		t.Fatalf("far away log density %v should stay finite", lp)
	}
	for _, n := range []string{"moons", "spiral"} {
		d, _ := ToyByName(n)
		if _, ok := d.LogDensity(0, 0); ok {
			t.Fatalf("%s claims a closed-form density", n)
		}
	}
}

func TestPointsTensor(t *testing.T) {
	x := PointsTensor([][2]float32{{1, 2}, {3, 4}})
	if !slices.Equal(x.Shape().Dimensions, []int{2, 2}) || !slices.Equal(tensors.MustCopyFlatData[float32](x), []float32{1, 2, 3, 4}) {
		t.Fatalf("got %v", x)
	}
}
