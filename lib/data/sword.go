package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SWORD zText modules (the format of the Debian sword-text-* packages) store each testament in
// three files; the converter here reads two of them:
//
//	ot.bzs / nt.bzs  block index: 12-byte little-endian entries (offset, compressed size,
//	                 uncompressed size) into the .bzz file, one per block (one book per block
//	                 for these modules);
//	ot.bzz / nt.bzz  the blocks, each a zlib stream of UTF-8 OSIS XML: the verses of the
//	                 block concatenated in canonical order.
//
// The third file (.bzv) locates single verses inside blocks; running text does not need it.

const (
	bzsEntrySize  = 12
	maxSwordBlock = 64 << 20 // no real block is near this (the largest book is under 1 MB)
)

// swordBlocks splits a zText testament into its decompressed blocks, checking every index
// entry against the data file and every block's decompressed size against the index.
func swordBlocks(bzs, bzz []byte) ([][]byte, error) {
	if len(bzs)%bzsEntrySize != 0 {
		return nil, fmt.Errorf("SWORD index: %d bytes is not a whole number of %d-byte entries", len(bzs), bzsEntrySize)
	}
	n := len(bzs) / bzsEntrySize
	blocks := make([][]byte, 0, n)
	var total int
	for i := range n {
		e := bzs[i*bzsEntrySize:]
		off, size, usize := binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:]), binary.LittleEndian.Uint32(e[8:])
		if size == 0 {
			continue // an empty slot
		}
		if uint64(off)+uint64(size) > uint64(len(bzz)) {
			return nil, fmt.Errorf("SWORD block %d: bytes %d..%d lie outside the %d-byte data file", i, off, uint64(off)+uint64(size), len(bzz))
		}
		if usize > maxSwordBlock {
			return nil, fmt.Errorf("SWORD block %d: announced size %d is too large", i, usize)
		}
		total += int(usize)
		if total > 8*maxSwordBlock {
			return nil, fmt.Errorf("SWORD index announces more than %d bytes of text", 8*maxSwordBlock)
		}
		zr, err := zlib.NewReader(bytes.NewReader(bzz[off : off+size]))
		if err != nil {
			return nil, fmt.Errorf("SWORD block %d: %w", i, err)
		}
		b, err := io.ReadAll(io.LimitReader(zr, int64(usize)+1))
		zr.Close()
		if err != nil {
			return nil, fmt.Errorf("SWORD block %d: %w", i, err)
		}
		if len(b) != int(usize) {
			return nil, fmt.Errorf("SWORD block %d: %d bytes once decompressed, index says %d", i, len(b), usize)
		}
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("SWORD block %d: not valid UTF-8", i)
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// osisToText turns OSIS XML into plain text:
//   - <note>…</note> (footnotes, cross-references) is dropped with its content, leaving a
//     space when a word follows it directly;
//   - chapter and div milestones, titles, poetry lines (l, lg), line breaks (lb) and list items
//     become newlines, so each chapter or paragraph, title and poetry line is a line;
//   - <transChange> (words supplied by the translators) and <milestone/> separate words: they
//     leave a space when a word follows and none precedes;
//   - every other tag (w, q, seg, name, reference, …) is stripped, keeping its text;
//   - the five XML entities and numeric character references are decoded;
//   - runs of spaces collapse to one space, lines are trimmed, empty lines dropped.
//
// It never fails: malformed markup (an unclosed '<') is kept as text.
func osisToText(s string) string {
	var b strings.Builder
	b.Grow(len(s) / 2)
	noteDepth := 0
	// A dropped note often sits between two words with no space around it
	// ("Christ,<note>…</note>the son"): after one, a space is owed before a word.
	// The same holds around <transChange> ("la<transChange>que fué mujer</transChange><w>de")
	// and milestones, while "será</transChange>." must not become "será .".
	spaceOwed := false
	last := '\n' // last rune written
	text := func(t string) {
		if t == "" {
			return
		}
		if spaceOwed {
			r, _ := utf8.DecodeRuneInString(t)
			wordNext := unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("“‘(¿¡«", r)
			if wordNext && !unicode.IsSpace(last) && !strings.ContainsRune("“‘(¿¡«", last) {
				b.WriteByte(' ')
			}
			spaceOwed = false
		}
		writeXMLText(&b, t)
		last, _ = utf8.DecodeLastRuneInString(t)
	}
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			if noteDepth == 0 {
				text(s)
			}
			break
		}
		if lt > 0 && noteDepth == 0 {
			text(s[:lt])
		}
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 { // not a tag: keep the rest as text
			if noteDepth == 0 {
				text(s[lt:])
			}
			break
		}
		tag := s[lt+1 : lt+gt]
		s = s[lt+gt+1:]
		name, closing, selfClosing := tagName(tag)
		if name == "note" {
			switch {
			case selfClosing:
			case closing:
				if noteDepth > 0 {
					noteDepth--
					spaceOwed = noteDepth == 0
				}
			default:
				noteDepth++
			}
			continue
		}
		if noteDepth > 0 {
			continue
		}
		switch name {
		case "chapter", "div", "title", "l", "lg", "lb", "item", "list", "p", "head":
			b.WriteByte('\n')
			last, spaceOwed = '\n', false
		case "transChange", "milestone":
			spaceOwed = true
		}
	}
	return tidySpaces(b.String())
}

// tagName parses the inside of a tag ("/w", "w lemma=\"x\"", "div sID=\"a\"/").
func tagName(tag string) (name string, closing, selfClosing bool) {
	if strings.HasPrefix(tag, "/") {
		closing = true
		tag = tag[1:]
	}
	if strings.HasSuffix(tag, "/") {
		selfClosing = true
		tag = tag[:len(tag)-1]
	}
	end := strings.IndexAny(tag, " \t\r\n")
	if end < 0 {
		end = len(tag)
	}
	return tag[:end], closing, selfClosing
}

var xmlEntities = map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"}

// writeXMLText writes XML character data, decoding entities; unknown entities stay as written.
func writeXMLText(b *strings.Builder, s string) {
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		s = s[i:]
		j := strings.IndexByte(s, ';')
		if j < 0 || j > 12 {
			b.WriteByte('&')
			s = s[1:]
			continue
		}
		ent := s[1:j]
		if r, ok := xmlEntities[ent]; ok {
			b.WriteString(r)
		} else if r, ok := numericEntity(ent); ok {
			b.WriteRune(r)
		} else {
			b.WriteString(s[:j+1])
		}
		s = s[j+1:]
	}
}

func numericEntity(ent string) (rune, bool) {
	if !strings.HasPrefix(ent, "#") {
		return 0, false
	}
	base, digits := 10, ent[1:]
	if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
		base, digits = 16, digits[1:]
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil || v == 0 || !utf8.ValidRune(rune(v)) {
		return 0, false
	}
	return rune(v), true
}

// tidySpaces collapses runs of spaces and tabs into one space, trims every line and drops
// empty lines; the result ends with a newline unless it is empty.
func tidySpaces(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.Join(strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\u00a0' }), " ")
		if line == "" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// swordText converts a whole zText module (old then new testament; either may be absent) to
// plain text.
func swordText(otBzs, otBzz, ntBzs, ntBzz []byte) (string, error) {
	var b strings.Builder
	for _, t := range []struct {
		name     string
		bzs, bzz []byte
	}{{"ot", otBzs, otBzz}, {"nt", ntBzs, ntBzz}} {
		blocks, err := swordBlocks(t.bzs, t.bzz)
		if err != nil {
			return "", fmt.Errorf("%s: %w", t.name, err)
		}
		for _, blk := range blocks {
			b.WriteString(osisToText(string(blk)))
		}
	}
	return b.String(), nil
}
