package viz

import (
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/data"
)

func TestGridPlacesImagesAndZooms(t *testing.T) {
	im := &data.Images{N: 3, Height: 2, Width: 2, Channels: 1, Pixels: []uint8{
		0, 0, 0, 0, // image 0: black
		255, 255, 255, 255, // image 1: white
		10, 20, 30, 40,
	}}
	img, err := Grid(im, []int{1, 2}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 2*(2*3+1)+1 || b.Dy() != 2*3+2 {
		t.Fatalf("grid size %v", b)
	}
	if r, _, _, _ := img.At(1, 1).RGBA(); r>>8 != 255 {
		t.Errorf("first tile should be image 1 (white), got %d", r>>8)
	}
	// Second tile starts at x = 8; its bottom-right source pixel (40) covers the last 3x3 block.
	if r, _, _, _ := img.At(8+5, 1+5).RGBA(); r>>8 != 40 {
		t.Errorf("zoomed pixel = %d, want 40", r>>8)
	}
	if _, err := Grid(im, []int{3}, 1, 1); err == nil {
		t.Error("out-of-range index must fail")
	}
}

func TestGridNilIndexDrawsAllImages(t *testing.T) {
	im := &data.Images{N: 100, Height: 3, Width: 2, Channels: 1, Pixels: make([]uint8, 100*6)}
	img, err := Grid(im, nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	// 10×10 cells of (2+1)×(3+1) pixels, plus the closing border.
	if b := img.Bounds(); b.Dx() != 10*3+1 || b.Dy() != 10*4+1 {
		t.Errorf("grid of %v, want 31×41 (100 cells)", b.Size())
	}
}

func TestFromFloat32ClipsAndScales(t *testing.T) {
	tt := tensors.FromFlatDataAndDimensions([]float32{-1, 0, 1, 2}, 1, 2, 2, 1)
	im, err := FromFloat32(tt, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{0, 128, 255, 255}
	for i, v := range want {
		if im.Pixels[i] != v {
			t.Errorf("pixel %d = %d, want %d", i, im.Pixels[i], v)
		}
	}
}

func TestTableEscapes(t *testing.T) {
	h := Table([]string{"a"}, [][]string{{"<b>"}})
	if !strings.Contains(h, "&lt;b&gt;") || strings.Contains(h, "<b>") {
		t.Errorf("cells not escaped: %s", h)
	}
	if got := stripTags(h); !strings.Contains(got, "<b>") {
		t.Errorf("text fallback lost the cell: %q", got)
	}
}
