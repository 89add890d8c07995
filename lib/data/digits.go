package data

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// Load8x8Digits loads the 1797 8x8 handwritten digits (UCI optical digits, as scikit-learn
// ships them) from dir/digits8x8/, checksum first: an Images with Height = Width = 8,
// Channels = 1, NumClasses = 10. The source counts 0..16 (ink in each 4x4 cell of a 32x32
// bitmap) are rescaled to 0..255 as round(v*255/16), so [Images.Float32] works as for MNIST;
// the original count is round(p*16/255). There is no train/test split: pick one with
// [BatchIndices] or [Images.Subset].
func Load8x8Digits(dir string) (*Images, error) {
	files, sums, err := readVerified(dir, "digits8x8")
	if err != nil {
		return nil, err
	}
	raw, err := gunzip(files["digits.csv.gz"], 16<<20)
	if err != nil {
		return nil, fmt.Errorf("data: digits8x8: digits.csv.gz: %w; %s", err, fixHint("digits8x8", dir))
	}
	im, err := parseDigitsCSV(raw)
	if err != nil {
		return nil, fmt.Errorf("data: digits8x8: digits.csv.gz: %w; %s", err, fixHint("digits8x8", dir))
	}
	im.Files = sums
	return im, nil
}

// parseDigitsCSV reads rows of 64 pixel counts in 0..16 followed by a label in 0..9, no header.
func parseDigitsCSV(b []byte) (*Images, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = 65
	r.ReuseRecord = true
	im := &Images{Name: "digits8x8", Height: 8, Width: 8, Channels: 1, NumClasses: 10, ClassNames: digitNames}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		row := im.N + 1
		for i, s := range rec {
			v, err := strconv.Atoi(s)
			if i == 64 {
				if err != nil || v < 0 || v > 9 {
					return nil, fmt.Errorf("row %d: label %q is not a digit 0..9", row, s)
				}
				im.Labels = append(im.Labels, uint8(v))
				break
			}
			if err != nil || v < 0 || v > 16 {
				return nil, fmt.Errorf("row %d, pixel %d: %q is not a count 0..16", row, i, s)
			}
			im.Pixels = append(im.Pixels, uint8((v*255+8)/16))
		}
		im.N++
	}
	if im.N == 0 {
		return nil, fmt.Errorf("no rows")
	}
	return im, nil
}
