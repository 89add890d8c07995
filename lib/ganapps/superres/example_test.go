package superres_test

import (
	"context"
	"fmt"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/ganapps/superres"
	"github.com/iagen-course/iagen/lib/viz"
)

// A notebook cell: train the ci profile, measure it, and show low-res | bicubic | GAN | L1 only | original.
func Example() {
	b, _ := backend.New("")
	r, err := family.Train(context.Background(), "superres", family.RunConfig{Options: family.Options{Backend: b, Profile: "ci"},
		Dir: family.RunDir("superres", "ci")})
	if err != nil {
		panic(err)
	}
	m := r.Model.(*superres.Model)
	rep, _ := m.Report()
	fmt.Printf("PSNR bicubic %.2f dB, GAN %.2f dB, L1 only %.2f dB\n", rep.PSNRBicubic, rep.PSNRGAN, rep.PSNRContent)
	u, _ := m.Upscale([]int{0, 1, 2, 3})
	img, _ := viz.Grid(u.Grid(), nil, 5, 3)
	viz.Show(img)
}
