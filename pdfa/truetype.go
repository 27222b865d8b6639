package pdfa

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// RepairTrueType fixes what font subsetters get wrong in a TrueType font program: a format
// 4 cmap subtable whose declared length does not cover the bytes it occupies (gofpdf
// declares 16 + 8·segCount + numGlyphs + 1, counting the glyph array in bytes instead of
// 16-bit entries). The length is set to the subtable's true extent, and the table checksum
// and head.checkSumAdjustment are recomputed. A font without such a problem is returned
// unchanged.
func RepairTrueType(font []byte) ([]byte, error) {
	if len(font) < 12 {
		return nil, errors.New("truetype: too short for a table directory")
	}
	n := int(binary.BigEndian.Uint16(font[4:]))
	if len(font) < 12+16*n {
		return nil, errors.New("truetype: table directory truncated")
	}
	type table struct{ rec, off, length int }
	tables := map[string]table{}
	for i := range n {
		rec := 12 + 16*i
		off, length := int(binary.BigEndian.Uint32(font[rec+8:])), int(binary.BigEndian.Uint32(font[rec+12:]))
		if off < 0 || length < 0 || off+length > len(font) {
			return nil, fmt.Errorf("truetype: table %q outside the font", font[rec:rec+4])
		}
		tables[string(font[rec:rec+4])] = table{rec, off, length}
	}
	cm, ok := tables["cmap"]
	if !ok || cm.length < 4 {
		return font, nil
	}
	cmap := font[cm.off : cm.off+cm.length]
	count := int(binary.BigEndian.Uint16(cmap[2:]))
	if len(cmap) < 4+8*count {
		return nil, errors.New("truetype: cmap encoding records truncated")
	}
	var starts []int
	for i := range count {
		starts = append(starts, int(binary.BigEndian.Uint32(cmap[4+8*i+4:])))
	}
	sort.Ints(starts)
	out := append([]byte(nil), font...)
	cmap = out[cm.off : cm.off+cm.length]
	changed := false
	for i, s := range starts {
		if i > 0 && s == starts[i-1] {
			continue
		}
		end := len(cmap)
		for _, t := range starts[i+1:] {
			if t > s {
				end = t
				break
			}
		}
		if s+4 > len(cmap) || binary.BigEndian.Uint16(cmap[s:]) != 4 {
			continue
		}
		extent := end - s
		if extent > 0xFFFF || extent%2 != 0 {
			return nil, fmt.Errorf("truetype: cmap format 4 subtable of %d bytes cannot be described", extent)
		}
		segX2 := int(binary.BigEndian.Uint16(cmap[s+6:]))
		if 16+4*segX2 > extent {
			return nil, fmt.Errorf("truetype: cmap format 4 subtable has %d segments but only %d bytes", segX2/2, extent)
		}
		if int(binary.BigEndian.Uint16(cmap[s+2:])) != extent {
			binary.BigEndian.PutUint16(cmap[s+2:], uint16(extent))
			changed = true
		}
	}
	if !changed {
		return font, nil
	}
	binary.BigEndian.PutUint32(out[cm.rec+4:], checksum(cmap))
	if head, ok := tables["head"]; ok && head.length >= 12 {
		binary.BigEndian.PutUint32(out[head.off+8:], 0)
		binary.BigEndian.PutUint32(out[head.rec+4:], checksum(out[head.off:head.off+head.length]))
		binary.BigEndian.PutUint32(out[head.off+8:], 0xB1B0AFBA-checksum(out))
	}
	return out, nil
}

// checksum is the TrueType table checksum: the sum of big-endian uint32s, zero-padded.
func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
