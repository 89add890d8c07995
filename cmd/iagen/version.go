package main

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/backend"
)

func init() {
	register(&command{
		name: "version", usage: "version [--backend B]", summary: "show the backend, devices and versions",
		run: func(args []string) error {
			var c common
			fs := newFlagSet("version")
			addCommon(fs, &c)
			if _, err := parseFlags(fs, args); err != nil {
				return err
			}
			b, err := backend.New(c.backend)
			if err != nil {
				return err
			}
			defer b.Finalize()
			fmt.Print(backend.Describe(b))
			return nil
		},
	})
}
