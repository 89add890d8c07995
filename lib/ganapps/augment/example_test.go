package augment_test

import (
	"context"
	"fmt"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/ganapps/augment"
	"github.com/iagen-course/iagen/lib/viz"
)

// A notebook cell: the ci experiment over three seeds, its table and its chart.
func Example() {
	b, _ := backend.New("")
	cfg, _ := augment.ProfileConfig("ci")
	rep, err := augment.Run(context.Background(), cfg, augment.Options{Backend: b, Profile: "ci", Seeds: []int64{1, 2, 3}})
	if err != nil {
		panic(err)
	}
	fmt.Print(rep.Markdown())
	chart, _ := rep.Chart()
	viz.ShowChart(chart)
}
