// Package family is the registry of model families and the kit they share. Each family package
// registers itself (in init) under a short name, so the CLI, the comparison table and the
// notebooks reach every family the same way and need no per-family code:
//
//	import _ "github.com/iagen-course/iagen/lib/vae"   // registers "vae"
//	r, err := family.Train(ctx, "vae", family.RunConfig{Options: family.Options{Backend: b, Profile: "ci"}, Dir: dir})
//	r, err = family.Load("vae", dir, family.Options{Backend: b})   // the configuration it trained with
//
// # What a family gets from the kit
//
//   - Run folders (Train, Load, Run.Evaluate, Run.Sample, Publish): metrics.json, manifest.json
//     with the datasets' SHA-256, log.jsonl, atomic checkpoints with exact resume, samples, and
//     the published copy under results/<family>/<profile>.
//   - The harness (lib/train): seeding, progress, NaN guard, evaluation hooks, learning-rate
//     schedules (train.Schedule), the EMA of weights (train.UpdateEMA), benchmarks.
//   - Numerics (lib/nn): safe standard normals (nn.StandardNormal, never graph.RandomNormal),
//     layers checked against finite differences on every backend.
//   - Image families (lib/imagegen): latents, one batched decode to images, the grid of all n
//     samples, and one scorer on the reference classifier, so every image family reports the
//     same metrics.json fields.
//   - Overrides (--set / --config for training, --set for sampling) through one type, with
//     unknown fields rejected by name.
//   - Plots (lib/viz) and notebook helpers (lib/notebook).
//
// # How to add a family
//
//  1. A package lib/<name> with:
//     config.go — a Config struct with JSON names, ProfileConfig(profile) for the profiles ci
//     (seconds), small (reaches BENCH.md's "pass" on 2 CPU cores), full and bench (BENCH.md's
//     exact configuration), and Config.Check;
//     <name>.go — the package doc with the maths and the papers, New(opts) =
//     family.New(opts, ProfileConfig, NewWithConfig), the model, its loss and Step;
//     sampling and evaluation in their own files (an image family implements
//     imagegen.Generator and scores with imagegen.Scorer; a sampler with options implements
//     SamplingOptions).
//  2. One registration line in its init: family.Register(family.Family{Name, Title, Generative,
//     New, Curves}), and a blank import in lib/family/all (the CLI and the notebooks import it).
//  3. Tests calling the contract checks of lib/train/traintest: ProfilesAreValid,
//     ResumeMatchesUninterrupted, AgreesAcrossBackends and RunFolderRoundTrip; plus the loss
//     against an independent computation and a ci run that beats a trivial baseline.
//  4. Its published results: `iagen train <name> --profile small --out runs/<name>` then
//     `iagen publish <name> --from runs/<name>`, and the line in scripts/results.sh that
//     `make results` runs.
//  5. Its notebook, notebooks/NN_<tema>.ipynb, to the course standard (notebooks/README.md), showing
//     the published results next to a live ci run (notebook.ShowPublished).
package family
