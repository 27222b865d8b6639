package pdfa

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Font is a TrueType font parsed once and embedded, as a subset, in many documents. Parsing
// a font program is the expensive part of writing a PDF with embedded fonts (DejaVu Sans is
// 760 KB); a Font does it once per process, and it keeps the subsets it has written, so the
// documents of a run that use the same characters share one compressed font program. A
// Font is safe for concurrent use.
type Font struct {
	name       string // PostScript name
	unitsPerEm int
	bbox       [4]int // xMin, yMin, xMax, yMax in font units
	ascent     int
	descent    int
	capHeight  int
	italic     float64
	fixedPitch bool
	cmap       map[rune]uint16
	latin      [256]uint16 // cmap of U+0000 to U+00FF, where nearly every character of an invoice is
	widths     []int       // advance of each glyph, in 1/1000 of the font size (PDF glyph space)
	loca       []uint32
	glyf       []byte
	tables     map[string][]byte // the tables copied into every subset as they are

	mu      sync.Mutex
	subsets map[string]*fontSubset
}

// fontSubset is the part of a document's font objects that depends only on the characters
// it covers: the compressed font program, the /W array and the ToUnicode CMap.
type fontSubset struct {
	tag       string // six capital letters, the subset prefix of the base font name
	program   []byte // deflated
	length1   int    // uncompressed length of program
	widths    string
	toUnicode []byte // deflated
	cidToGID  []byte // deflated
}

// maxSubsets bounds the subsets a Font keeps; a document whose characters are not among
// them gets its own subset, written for it alone.
const maxSubsets = 256

// baseRunes are the characters every subset contains, used or not: printable ASCII and
// Latin-1, the euro sign and typographic punctuation. Nearly every invoice of a Latin
// script language needs nothing else, so nearly all documents share one subset.
var baseRunes = func() []rune {
	var rs []rune
	for r := rune(0x20); r < 0x7F; r++ {
		rs = append(rs, r)
	}
	for r := rune(0xA0); r <= 0xFF; r++ {
		rs = append(rs, r)
	}
	return append(rs, '€', '–', '—', '‘', '’', '‚', '“', '”', '„', '•', '…', '‹', '›')
}()

// ParseFont reads a TrueType font program (glyf outlines, as .ttf files hold them).
//
// golang.org/x/image/font/sfnt reads what a font says of itself: its names, metrics,
// character map and advance widths. It reads fonts to draw glyphs, not to write them, so
// it gives no access to the raw tables; what embedding a subset needs of them is read
// here by hand: the table directory, loca and glyf (the outlines copied into a subset),
// and the tables a subset carries as they are.
func ParseFont(b []byte) (*Font, error) {
	tables, err := tableDirectory(b)
	if err != nil {
		return nil, err
	}
	if _, err := need(tables, "cmap", 4); err != nil {
		return nil, err
	}
	sf, err := sfnt.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("truetype: %w", err)
	}
	f := &Font{name: "Font", subsets: map[string]*fontSubset{}, tables: map[string][]byte{}}
	var buf sfnt.Buffer
	if err := f.readMetrics(sf, &buf); err != nil {
		return nil, err
	}
	if err := f.readGlyphs(tables, len(f.widths)); err != nil {
		return nil, err
	}
	if f.cmap, err = readCmap(sf, &buf, len(f.widths)); err != nil {
		return nil, err
	}
	for r := range rune(len(f.latin)) {
		f.latin[r] = f.cmap[r]
	}
	if n, err := sf.Name(&buf, sfnt.NameIDPostScript); err == nil && validPostScriptName(n) {
		f.name = n
	}
	// The hinting programs (cvt, fpgm, prep, and each glyph's instructions) are left out
	// of the subsets: they only adjust outlines to the pixel grid of small screen sizes,
	// which PDF viewers and printers do without, and are half of a subset's size (22 of
	// 46 KB of the two fonts of an invoice, compressed).
	for _, tag := range []string{"hhea", "hmtx", "maxp", "OS/2", "head"} {
		if t, ok := tables[tag]; ok {
			f.tables[tag] = t
		}
	}
	if post, ok := tables["post"]; ok && len(post) >= 32 {
		p := append([]byte(nil), post[:32]...)
		binary.BigEndian.PutUint32(p, 0x00030000) // format 3: no glyph names
		f.tables["post"] = p
	}
	return f, nil
}

// need returns the table tag, which must be at least n bytes long.
func need(tables map[string][]byte, tag string, n int) ([]byte, error) {
	t, ok := tables[tag]
	if !ok || len(t) < n {
		return nil, fmt.Errorf("truetype: table %q missing or shorter than %d bytes", tag, n)
	}
	return t, nil
}

func i16(t []byte, at int) int { return int(int16(binary.BigEndian.Uint16(t[at:]))) }

// readMetrics reads the font's units, box, ascent, descent, cap height, italic angle,
// pitch and glyph widths (in thousandths of an em).
func (f *Font) readMetrics(sf *sfnt.Font, buf *sfnt.Buffer) error {
	f.unitsPerEm = int(sf.UnitsPerEm())
	if f.unitsPerEm < 16 {
		return fmt.Errorf("truetype: unitsPerEm %d", f.unitsPerEm)
	}
	upem := fixed.I(f.unitsPerEm) // at this size one font unit is one pixel
	units := func(v fixed.Int26_6) int { return int(math.Round(float64(v) / 64)) }
	box, err := sf.Bounds(buf, upem, font.HintingNone)
	if err != nil {
		return fmt.Errorf("truetype: bounds: %w", err)
	}
	// sfnt's y axis points down; the PDF's and the font's up.
	f.bbox = [4]int{units(box.Min.X), -units(box.Max.Y), units(box.Max.X), -units(box.Min.Y)}
	m, err := sf.Metrics(buf, upem, font.HintingNone)
	if err != nil {
		return fmt.Errorf("truetype: metrics: %w", err)
	}
	// sfnt measures the cap height down from the baseline (negative), from the OS/2 table
	// or, where that lacks it, from the outline of "H".
	f.ascent, f.descent, f.capHeight = units(m.Ascent), -units(m.Descent), abs(units(m.CapHeight))
	if f.capHeight == 0 {
		f.capHeight = f.ascent
	}
	if post := sf.PostTable(); post != nil {
		f.italic, f.fixedPitch = post.ItalicAngle, post.IsFixedPitch
	}
	n := sf.NumGlyphs()
	if n == 0 {
		return errors.New("truetype: no glyphs")
	}
	f.widths = make([]int, n)
	for g := range n {
		adv, err := sf.GlyphAdvance(buf, sfnt.GlyphIndex(g), upem, font.HintingNone)
		if err != nil {
			return fmt.Errorf("truetype: advance of glyph %d: %w", g, err)
		}
		f.widths[g] = int(math.Round(float64(adv) / 64 * 1000 / float64(f.unitsPerEm)))
	}
	return nil
}

// readGlyphs reads where each glyph's outline is (loca) and the outlines (glyf).
func (f *Font) readGlyphs(tables map[string][]byte, numGlyphs int) error {
	loca, err := need(tables, "loca", 0)
	if err != nil {
		return err
	}
	f.loca = make([]uint32, numGlyphs+1)
	long := i16(tables["head"], 50) == 1
	for g := range numGlyphs + 1 {
		switch {
		case long && 4*g+4 <= len(loca):
			f.loca[g] = binary.BigEndian.Uint32(loca[4*g:])
		case !long && 2*g+2 <= len(loca):
			f.loca[g] = 2 * uint32(binary.BigEndian.Uint16(loca[2*g:]))
		default:
			return errors.New("truetype: loca table shorter than the glyph count")
		}
	}
	if f.glyf, err = need(tables, "glyf", int(f.loca[numGlyphs])); err != nil {
		return err
	}
	for g := range numGlyphs {
		if f.loca[g] > f.loca[g+1] {
			return fmt.Errorf("truetype: glyph %d has a negative length", g)
		}
	}
	return nil
}

func tableDirectory(b []byte) (map[string][]byte, error) {
	if len(b) < 12 {
		return nil, errors.New("truetype: too short for a table directory")
	}
	switch v := binary.BigEndian.Uint32(b); v {
	case 0x00010000, 0x74727565: // TrueType
	default:
		return nil, fmt.Errorf("truetype: sfnt version %08x is not TrueType outlines", v)
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < 12+16*n {
		return nil, errors.New("truetype: table directory truncated")
	}
	tables := map[string][]byte{}
	for i := range n {
		rec := b[12+16*i:]
		off, length := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if off < 0 || length < 0 || off+length > len(b) {
			return nil, fmt.Errorf("truetype: table %q outside the font", rec[:4])
		}
		tables[string(rec[:4])] = b[off : off+length]
	}
	return tables, nil
}

func abs(v int) int { return max(v, -v) }

// cmapPlanes are the Unicode planes whose characters a font's map is read for: the Basic
// and Supplementary Multilingual Planes, where every script and symbol an invoice may
// print lies. sfnt looks characters up one by one and cannot list a map.
const cmapPlanes = 0x20000

// readCmap reads which glyph each character maps to.
func readCmap(sf *sfnt.Font, buf *sfnt.Buffer, numGlyphs int) (map[rune]uint16, error) {
	m := map[rune]uint16{}
	for r := rune(0x20); r < cmapPlanes; r++ {
		if r >= 0xD800 && r <= 0xDFFF { // surrogates are not characters
			continue
		}
		g, err := sf.GlyphIndex(buf, r)
		if err != nil {
			return nil, fmt.Errorf("truetype: cmap: %w", err)
		}
		if g > 0 && int(g) < numGlyphs {
			m[r] = uint16(g)
		}
	}
	if len(m) == 0 {
		return nil, errors.New("truetype: no Unicode cmap subtable")
	}
	return m, nil
}

// validPostScriptName reports whether s can stand as a PDF font name.
func validPostScriptName(s string) bool {
	for _, c := range s {
		if c <= 0x20 || c >= 0x7F || strings.ContainsRune("[](){}<>/%#", c) {
			return false
		}
	}
	return s != ""
}

// Name is the font's PostScript name.
func (f *Font) Name() string { return f.name }

// Has reports whether the font has a glyph for r.
func (f *Font) Has(r rune) bool { return f.glyph(r) != 0 }

// glyph is the glyph of r, 0 (.notdef) for a character the font lacks.
func (f *Font) glyph(r rune) uint16 {
	if r >= 0 && r < rune(len(f.latin)) {
		return f.latin[r]
	}
	return f.cmap[r]
}

// Width is the advance width of s set in the font at size, in the unit of size, as a PDF
// viewer computes it from the font's /W array (no kerning).
func (f *Font) Width(s string, size float64) float64 {
	w := 0
	for _, r := range s {
		w += f.widths[f.glyph(r)]
	}
	return float64(w) * size / 1000
}

// Ascent and Descent are the font's line metrics at size (Descent is negative).
func (f *Font) Ascent(size float64) float64 { return float64(f.ascent) * size / float64(f.unitsPerEm) }
func (f *Font) Descent(size float64) float64 {
	return float64(f.descent) * size / float64(f.unitsPerEm)
}

// subset returns the subset covering runes (sorted, without duplicates) and baseRunes.
func (f *Font) subset(runes []rune) (*fontSubset, error) {
	all := append(slices.Clone(baseRunes), runes...)
	slices.Sort(all)
	all = slices.Compact(all)
	covered := all[:0]
	for _, r := range all {
		if f.Has(r) {
			covered = append(covered, r)
		}
	}
	key := string(covered)
	f.mu.Lock()
	s, ok := f.subsets[key]
	f.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := f.buildSubset(covered)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if len(f.subsets) < maxSubsets {
		f.subsets[key] = s
	}
	f.mu.Unlock()
	return s, nil
}

const (
	argWords     = 0x0001
	haveScale    = 0x0008
	moreComps    = 0x0020
	haveXYScale  = 0x0040
	haveTwoByTwo = 0x0080
	// haveInstructions marks a composite glyph whose components are followed by hinting
	// instructions.
	haveInstructions = 0x0100
)

// metrics returns the hmtx entry (advance width, left side bearing) of glyph g.
func (f *Font) metrics(g int) []byte {
	hmtx := f.tables["hmtx"]
	numH := int(binary.BigEndian.Uint16(f.tables["hhea"][34:]))
	out := make([]byte, 4)
	copy(out, hmtx[4*min(g, numH-1):][:2])
	if g < numH {
		copy(out[2:], hmtx[4*g+2:][:2])
	} else if at := 4*numH + 2*(g-numH); at+2 <= len(hmtx) {
		copy(out[2:], hmtx[at:][:2])
	}
	return out
}

// renumberComponents rewrites the glyph IDs of a composite glyph's components.
func renumberComponents(data []byte, newID map[uint16]uint16) error {
	if len(data) < 10 || int16(binary.BigEndian.Uint16(data)) >= 0 {
		return nil
	}
	return eachComponent(data, func(comp []byte, _ uint16) error {
		id, ok := newID[binary.BigEndian.Uint16(comp[2:])]
		if !ok {
			return errors.New("component not in the subset")
		}
		binary.BigEndian.PutUint16(comp[2:], id)
		return nil
	})
}

// writeUnhinted writes a glyph's description (glyf table entry) to w without its
// hinting instructions: a simple glyph with an instruction length of 0, a composite one
// with the "instructions follow" flag cleared on each component and none after them.
func writeUnhinted(w *bytes.Buffer, data []byte) error {
	if len(data) == 0 {
		return nil // no outline (a space)
	}
	if len(data) < 10 {
		return errors.New("glyph header truncated")
	}
	if contours := int16(binary.BigEndian.Uint16(data)); contours >= 0 {
		at := 10 + 2*int(contours) // the instruction length, after the contours' end points
		if at+2 > len(data) {
			return errors.New("simple glyph truncated")
		}
		end := at + 2 + int(binary.BigEndian.Uint16(data[at:]))
		if end > len(data) {
			return errors.New("glyph instructions truncated")
		}
		outline, err := outlineSize(data[end:], data[10:at])
		if err != nil {
			return err
		}
		w.Write(data[:at])
		w.Write([]byte{0, 0})
		w.Write(data[end : end+outline]) // without the font's padding: the subset pads its own
		return nil
	}
	w.Write(data[:10])
	return eachComponent(data, func(comp []byte, flags uint16) error {
		at := w.Len()
		w.Write(comp)
		binary.BigEndian.PutUint16(w.Bytes()[at:], flags&^haveInstructions)
		return nil
	})
}

// outlineSize returns the size of a simple glyph's flags and coordinates at the start of
// data, given the end points of its contours (endPts, 2 bytes each).
func outlineSize(data, endPts []byte) (int, error) {
	if len(endPts) == 0 {
		return 0, nil
	}
	points := int(binary.BigEndian.Uint16(endPts[len(endPts)-2:])) + 1
	p, coords := 0, 0
	for n := 0; n < points; {
		if p >= len(data) {
			return 0, errors.New("glyph flags truncated")
		}
		flags, times := data[p], 1
		p++
		if flags&0x08 != 0 { // repeated
			if p >= len(data) {
				return 0, errors.New("glyph flags truncated")
			}
			times += int(data[p])
			p++
		}
		size := 0
		switch {
		case flags&0x02 != 0: // x is one byte
			size++
		case flags&0x10 == 0: // x is two bytes (not the same as before)
			size += 2
		}
		switch {
		case flags&0x04 != 0: // y is one byte
			size++
		case flags&0x20 == 0:
			size += 2
		}
		coords += times * size
		n += times
	}
	if p+coords > len(data) {
		return 0, errors.New("glyph coordinates truncated")
	}
	return p + coords, nil
}

// eachComponent calls fn for each component of a composite glyph's description, with
// the component's bytes (flags, glyph index, arguments and transformation) and flags;
// fn may change the bytes in place. The components' hinting instructions, if any,
// follow the last and are not visited.
func eachComponent(data []byte, fn func(comp []byte, flags uint16) error) error {
	for p := 10; ; {
		if p+4 > len(data) {
			return errors.New("composite glyph truncated")
		}
		flags := binary.BigEndian.Uint16(data[p:])
		next := p + 4 + componentArgs(flags)
		if next > len(data) {
			return errors.New("composite glyph truncated")
		}
		if err := fn(data[p:next], flags); err != nil {
			return err
		}
		if flags&moreComps == 0 {
			return nil
		}
		p = next
	}
}

// componentArgs is the size of a component's arguments and transformation after its
// flags and glyph index.
func componentArgs(flags uint16) int {
	n := 2
	if flags&argWords != 0 {
		n = 4
	}
	switch {
	case flags&haveScale != 0:
		n += 2
	case flags&haveXYScale != 0:
		n += 4
	case flags&haveTwoByTwo != 0:
		n += 8
	}
	return n
}

// glyphClosure returns the glyphs of runes, .notdef and every component of a composite
// glyph among them, sorted.
func (f *Font) glyphClosure(runes []rune) ([]uint16, error) {
	seen := map[uint16]bool{0: true}
	stack := []uint16{0}
	for _, r := range runes {
		g := f.cmap[r]
		if !seen[g] {
			seen[g] = true
			stack = append(stack, g)
		}
	}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		data := f.glyf[f.loca[g]:f.loca[g+1]]
		if len(data) < 10 || int16(binary.BigEndian.Uint16(data)) >= 0 {
			continue
		}
		err := eachComponent(data, func(comp []byte, _ uint16) error {
			c := binary.BigEndian.Uint16(comp[2:])
			if int(c) >= len(f.widths) {
				return fmt.Errorf("a component refers to glyph %d", c)
			}
			if !seen[c] {
				seen[c] = true
				stack = append(stack, c)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("truetype: glyph %d: %w", g, err)
		}
	}
	out := make([]uint16, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	slices.Sort(out)
	return out, nil
}

// buildSubset writes a font program with the glyphs of runes, renumbered from 0 in the
// order of their original IDs. The PDF keeps the original glyph ID as CID (so page content
// does not depend on the subset) and maps it to the subset's glyph with a CIDToGIDMap.
func (f *Font) buildSubset(runes []rune) (*fontSubset, error) {
	gids, err := f.glyphClosure(runes)
	if err != nil {
		return nil, err
	}
	n := len(gids)
	newID := make(map[uint16]uint16, n)
	for i, g := range gids {
		newID[g] = uint16(i)
	}
	tables, err := f.subsetGlyphs(gids, newID)
	if err != nil {
		return nil, err
	}
	cmap := make(map[rune]uint16, len(runes))
	for _, r := range runes {
		if g, ok := f.cmap[r]; ok {
			cmap[r] = newID[g]
		}
	}
	tables["cmap"], tables["name"] = cmapFormat4(runes, cmap), nameTable(f.name)
	for tag, t := range f.tables {
		if tag != "hmtx" {
			tables[tag] = t
		}
	}
	head := append([]byte(nil), f.tables["head"]...)
	binary.BigEndian.PutUint16(head[50:], 1) // long loca offsets
	tables["head"] = head
	hhea := append([]byte(nil), f.tables["hhea"]...)
	binary.BigEndian.PutUint16(hhea[34:], uint16(n))
	tables["hhea"] = hhea
	maxp := append([]byte(nil), f.tables["maxp"]...)
	binary.BigEndian.PutUint16(maxp[4:], uint16(n))
	tables["maxp"] = maxp
	program := assemble(tables)
	cidToGID := make([]byte, 2*(int(gids[n-1])+1))
	for i, g := range gids {
		binary.BigEndian.PutUint16(cidToGID[2*int(g):], uint16(i))
	}
	sum := sha256.Sum256(program)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return &fontSubset{
		tag: string(tag), program: deflate(program), length1: len(program),
		widths: f.widthArray(gids), toUnicode: deflate(toUnicode(runes, f.cmap)), cidToGID: deflate(cidToGID),
	}, nil
}

// subsetGlyphs returns the subset's loca, glyf and hmtx tables: the glyphs gids, without
// hinting, their components renumbered (newID), in that order.
func (f *Font) subsetGlyphs(gids []uint16, newID map[uint16]uint16) (map[string][]byte, error) {
	n := len(gids)
	loca := make([]byte, 4*(n+1))
	hmtx := make([]byte, 0, 4*n)
	var glyf bytes.Buffer
	for i, g := range gids {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(glyf.Len()))
		at := glyf.Len()
		if err := writeUnhinted(&glyf, f.glyf[f.loca[g]:f.loca[g+1]]); err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
		if err := renumberComponents(glyf.Bytes()[at:], newID); err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
		for glyf.Len()%4 != 0 {
			glyf.WriteByte(0)
		}
		hmtx = append(hmtx, f.metrics(int(g))...)
	}
	binary.BigEndian.PutUint32(loca[4*n:], uint32(glyf.Len()))
	return map[string][]byte{"loca": loca, "glyf": glyf.Bytes(), "hmtx": hmtx}, nil
}

// widthArray is the CID font's /W array of the glyphs gids (ascending): runs of
// consecutive glyphs with their widths.
func (f *Font) widthArray(gids []uint16) string {
	var w strings.Builder
	w.WriteString("[")
	prev := -2
	for _, g := range gids {
		if g == 0 {
			continue
		}
		if int(g) == prev+1 {
			w.WriteString(" " + strconv.Itoa(f.widths[g]))
		} else {
			if prev >= 0 {
				w.WriteString("]")
			}
			fmt.Fprintf(&w, " %d [%d", g, f.widths[g])
		}
		prev = int(g)
	}
	if prev >= 0 {
		w.WriteString("]")
	}
	w.WriteString(" ]")
	return w.String()
}

// assemble assembles a font file from its tables, with checksums and head.checkSumAdjustment.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	entry := 1
	for entry*2 <= n {
		entry *= 2
	}
	var b bytes.Buffer
	hdr := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(hdr, 0x00010000)
	binary.BigEndian.PutUint16(hdr[4:], uint16(n))
	binary.BigEndian.PutUint16(hdr[6:], uint16(entry*16))
	binary.BigEndian.PutUint16(hdr[8:], uint16(bitsLen(entry)-1))
	binary.BigEndian.PutUint16(hdr[10:], uint16(n*16-entry*16))
	b.Write(hdr)
	headAt := -1
	for i, tag := range tags {
		t := tables[tag]
		if tag == "head" {
			t = append([]byte(nil), t...)
			binary.BigEndian.PutUint32(t[8:], 0)
			headAt = b.Len()
		}
		rec := hdr[12+16*i:]
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[4:], checksum(t))
		binary.BigEndian.PutUint32(rec[8:], uint32(b.Len()))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(t)))
		b.Write(t)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	out := b.Bytes()
	copy(out, hdr)
	if headAt >= 0 {
		binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	}
	return out
}

func bitsLen(x int) int {
	n := 0
	for ; x > 0; x >>= 1 {
		n++
	}
	return n
}

// cmapFormat4 is a cmap with one (3,1) format 4 subtable for the BMP characters of runes.
func cmapFormat4(runes []rune, cmap map[rune]uint16) []byte {
	type seg struct{ start, end, delta int }
	var segs []seg
	for _, r := range runes {
		g, ok := cmap[r]
		if !ok || r >= 0xFFFF {
			continue
		}
		d := (int(g) - int(r)) & 0xFFFF
		if k := len(segs) - 1; k >= 0 && segs[k].end == int(r)-1 && segs[k].delta == d {
			segs[k].end++
			continue
		}
		segs = append(segs, seg{int(r), int(r), d})
	}
	segs = append(segs, seg{0xFFFF, 0xFFFF, 1})
	n := len(segs)
	entry := 1
	for entry*2 <= n {
		entry *= 2
	}
	length := 16 + 8*n
	b := make([]byte, 12+length)
	binary.BigEndian.PutUint16(b[2:], 1)
	binary.BigEndian.PutUint16(b[4:], 3)
	binary.BigEndian.PutUint16(b[6:], 1)
	binary.BigEndian.PutUint32(b[8:], 12)
	s := b[12:]
	binary.BigEndian.PutUint16(s, 4)
	binary.BigEndian.PutUint16(s[2:], uint16(length))
	binary.BigEndian.PutUint16(s[6:], uint16(2*n))
	binary.BigEndian.PutUint16(s[8:], uint16(2*entry))
	binary.BigEndian.PutUint16(s[10:], uint16(bitsLen(entry)-1))
	binary.BigEndian.PutUint16(s[12:], uint16(2*n-2*entry))
	for i, g := range segs {
		binary.BigEndian.PutUint16(s[14+2*i:], uint16(g.end))
		binary.BigEndian.PutUint16(s[16+2*n+2*i:], uint16(g.start))
		binary.BigEndian.PutUint16(s[16+4*n+2*i:], uint16(g.delta))
	}
	return b
}

// nameTable is a minimal name table: the PostScript name (ID 6) for Windows and Macintosh.
func nameTable(ps string) []byte {
	u := utf16.Encode([]rune(ps))
	b := make([]byte, 6+24, 6+24+2*len(u)+len(ps))
	binary.BigEndian.PutUint16(b[2:], 2)
	binary.BigEndian.PutUint16(b[4:], 30)
	rec := func(at, pid, eid, lang, n, off int) {
		for i, v := range []int{pid, eid, lang, 6, n, off} {
			binary.BigEndian.PutUint16(b[at+2*i:], uint16(v))
		}
	}
	rec(6, 1, 0, 0, len(ps), 0)
	rec(18, 3, 1, 0x409, 2*len(u), len(ps))
	b = append(b, ps...)
	for _, c := range u {
		b = binary.BigEndian.AppendUint16(b, c)
	}
	return b
}

// toUnicode is the ToUnicode CMap sending each glyph (CID) of runes back to its character.
func toUnicode(runes []rune, cmap map[rune]uint16) []byte {
	type pair struct {
		g uint16
		r rune
	}
	var ps []pair
	seen := map[uint16]bool{}
	for _, r := range runes {
		g, ok := cmap[r]
		if ok && !seen[g] {
			seen[g] = true
			ps = append(ps, pair{g, r})
		}
	}
	slices.SortFunc(ps, func(a, b pair) int { return int(a.g) - int(b.g) })
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(ps); i += 100 {
		chunk := ps[i:min(i+100, len(ps))]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, p := range chunk {
			fmt.Fprintf(&b, "<%04X> <", p.g)
			for _, u := range utf16.Encode([]rune{p.r}) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
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
