package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
)

// IDX magic numbers (big-endian): two zero bytes, the element type (0x08 = unsigned byte), the
// number of dimensions.
const (
	idxLabelsMagic = 0x00000801 // 1-D unsigned bytes
	idxImagesMagic = 0x00000803 // 3-D unsigned bytes
)

// maxIDXElements bounds what a header may announce, so a corrupt header cannot ask for
// gigabytes: the largest real file here holds 47 M bytes.
const maxIDXElements = 1 << 28

// parseIDX decodes an uncompressed IDX file of unsigned bytes: a big-endian magic
// 0x000008NN (NN = number of dimensions), NN big-endian uint32 dimensions, then exactly the
// product of the dimensions in bytes. It returns the dimensions and the data.
func parseIDX(b []byte) (dims []int, values []byte, err error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("IDX: %d bytes, too short for a header", len(b))
	}
	magic := binary.BigEndian.Uint32(b)
	if magic>>8 != 0x08 {
		return nil, nil, fmt.Errorf("IDX: wrong magic number 0x%08x (want 0x000008NN: unsigned bytes)", magic)
	}
	rank := int(magic & 0xff)
	if rank < 1 || rank > 4 {
		return nil, nil, fmt.Errorf("IDX: wrong magic number 0x%08x (rank %d not in 1..4)", magic, rank)
	}
	header := 4 + 4*rank
	if len(b) < header {
		return nil, nil, fmt.Errorf("IDX: truncated header (%d bytes, want %d)", len(b), header)
	}
	dims = make([]int, rank)
	total := 1
	for i := range dims {
		d := binary.BigEndian.Uint32(b[4+4*i:])
		if d == 0 || d > maxIDXElements {
			return nil, nil, fmt.Errorf("IDX: dimension %d is %d", i, d)
		}
		dims[i] = int(d)
		total *= dims[i]
		if total > maxIDXElements {
			return nil, nil, fmt.Errorf("IDX: header announces more than %d elements", maxIDXElements)
		}
	}
	if got := len(b) - header; got != total {
		return nil, nil, fmt.Errorf("IDX: %d data bytes after the header, want %d (dimensions %v): truncated or padded", got, total, dims)
	}
	return dims, b[header:], nil
}

// gunzip decompresses a whole gzip stream, refusing more than limit bytes of output.
func gunzip(b []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not a gzip stream: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("gzip: more than %d bytes once decompressed", limit)
	}
	return out, nil
}

// parseIDXGz decodes a gzipped IDX file and checks its magic number.
func parseIDXGz(b []byte, wantMagic uint32) (dims []int, values []byte, err error) {
	raw, err := gunzip(b, maxIDXElements+64)
	if err != nil {
		return nil, nil, err
	}
	if len(raw) >= 4 {
		if m := binary.BigEndian.Uint32(raw); m != wantMagic {
			return nil, nil, fmt.Errorf("IDX: wrong magic number 0x%08x, want 0x%08x", m, wantMagic)
		}
	}
	return parseIDX(raw)
}
