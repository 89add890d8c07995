// Command iagen trains, samples, evaluates, compares, audits and benchmarks the generative
// model families of the iagen library, and fetches and verifies its datasets.
//
//	iagen train <family> [--profile P] [--steps N] [--resume] --out DIR
//	iagen data list|fetch|verify
//
// Run "iagen help" for the full list. Every failure exits non-zero with a one-line reason.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
)

// command is one subcommand; each lives in its own file and registers itself in init.
type command struct {
	name, usage, summary string
	run                  func(args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	// Manifests and reports record os.Args as the command that reproduces them: name the
	// program as a checkout builds it (make build), not the file that ran, which for a long run
	// may be a copy kept apart from later builds.
	os.Args[0] = "bin/iagen"
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status. Panics from the libraries below
// are turned into a one-line error: a user never sees a Go stack trace.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "iagen: internal error: %v\n", firstLine(fmt.Sprint(r)))
			status = 2
		}
	}()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "iagen: unknown command %q (run \"iagen help\")\n", args[0])
		return 2
	}
	if err := c.run(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		// A library's own prefix that repeats the command's ("compare: …" under iagen compare) is said once.
		fmt.Fprintf(stderr, "iagen %s: %s\n", c.name, strings.TrimPrefix(firstLine(err.Error()), c.name+": "))
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "iagen: generative models (GAN, VAE, GPT, diffusion, flows, LSTM) on real data")
	fmt.Fprintln(w, "\nusage:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  iagen %-50s %s\n", c.usage, c.summary)
	}
	fmt.Fprintln(w, "\ncommon flags: --backend, --seed, --profile, --out, --data-dir; \"iagen CMD -h\" for details")
}

// common holds the flags every command that runs a model shares (the README's command line).
type common struct {
	backend, profile, out, dataDir string
	seed                           int64
}

func addCommon(fs *flag.FlagSet, c *common) {
	addRunFlags(fs, c)
	fs.Int64Var(&c.seed, "seed", backend.Seed(), "random seed (default $"+backend.SeedEnvVar+", else fixed)")
	fs.StringVar(&c.profile, "profile", "ci", "configuration profile: ci, small, full or bench")
	fs.StringVar(&c.out, "out", "", "output folder")
}

// addRunFlags adds the flags of commands that use a finished run, whose profile, seed and
// configuration come from its folder: --backend and --data-dir.
func addRunFlags(fs *flag.FlagSet, c *common) {
	fs.StringVar(&c.backend, "backend", "", "compute backend: auto (xla:cpu if installed, else go), go, xla:cpu, xla:cuda or xla:/path/plugin.so (default $"+backend.EnvVar+")")
	fs.StringVar(&c.dataDir, "data-dir", "", "data folder (default $"+data.DirEnvVar+", else the user cache folder)")
}

// parseFlags parses args, allowing flags after positional arguments ("train vae --steps 10").
func parseFlags(fs *flag.FlagSet, args []string) (positional []string, err error) {
	fs.SetOutput(os.Stderr)
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func newFlagSet(name string) *flag.FlagSet {
	return flag.NewFlagSet("iagen "+name, flag.ContinueOnError)
}
