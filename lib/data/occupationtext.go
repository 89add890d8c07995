package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
)

// OccupationCorpusName is the text corpus that [OccupationCorpus] generates with
// [DefaultOccupationCorpusConfig]: what `iagen train gpt|lstm --set corpus=es-ocupaciones`
// trains on, so that `iagen audit` knows the per-occupation truth the model saw.
const OccupationCorpusName = "es-ocupaciones"

// GeneratedTextCorpora names the text corpora that [LoadText] generates offline instead of
// reading them from the data folder (they are not in the catalogue and need no download).
var GeneratedTextCorpora = []string{OccupationCorpusName}

// DefaultOccupationCorpusConfig is the fixed configuration behind [OccupationCorpusName]:
// 200 sentences per occupation (7,000 in all, about 400,000 characters) with the default,
// stereotype-shaped shares (Strength 1). Changing it changes the corpus every run trained on
// the name refers to.
func DefaultOccupationCorpusConfig() OccupationCorpusConfig {
	return OccupationCorpusConfig{PerOccupation: 200, Strength: 1, Seed: 19}
}

// GeneratedOccupationText returns the text and the per-occupation truth of the generated corpus
// name (one of [GeneratedTextCorpora]), the same on every call.
func GeneratedOccupationText(name string) (string, []OccupationTruth, error) {
	if name != OccupationCorpusName {
		return "", nil, fmt.Errorf("data: %q is not a generated occupation corpus (known: %s)", name, OccupationCorpusName)
	}
	return OccupationCorpus(DefaultOccupationCorpusConfig())
}

// generatedChecksums stands in for a catalogue entry's checksums in a run manifest: the
// SHA-256 of the generated text, so that a change to the generator shows up as a new corpus.
func generatedChecksums(name, text string) (map[string]string, bool) {
	if !slices.Contains(GeneratedTextCorpora, name) {
		return nil, false
	}
	sum := sha256.Sum256([]byte(text))
	return map[string]string{"generated.txt": hex.EncodeToString(sum[:])}, true
}
