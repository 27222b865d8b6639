package pdfa

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/pdfa/pdfatest"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

func dejaVu(t testing.TB) ([]byte, *Font) {
	t.Helper()
	b, err := os.ReadFile("../zugferd/assets/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFont(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, f
}

func TestParseFontRefuses(t *testing.T) {
	b, _ := dejaVu(t)
	otto := append([]byte("OTTO"), b[4:]...)
	noCmap := append([]byte(nil), b...)
	n := int(binary.BigEndian.Uint16(b[4:]))
	for i := range n {
		if string(noCmap[12+16*i:][:4]) == "cmap" {
			copy(noCmap[12+16*i:], "xxxx")
		}
	}
	for _, c := range []struct {
		name string
		font []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"text", []byte("this is not a font at all"), "not TrueType"},
		{"truncated directory", b[:200], "directory truncated"},
		{"truncated tables", b[:1000], "outside the font"},
		{"CFF outlines", otto, "not TrueType"},
		{"no cmap", noCmap, `"cmap" missing`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFont(c.font)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestFontFacts checks what ParseFont reads through sfnt against DejaVu Sans as
// fontTools shows it (ttx -t head -t hhea -t OS/2 -t hmtx): the box, the line metrics, the
// cap height (of "H": the font's OS/2 table is version 1, without one), the glyph count,
// advance widths and character coverage, and the PostScript name.
func TestFontFacts(t *testing.T) {
	_, f := dejaVu(t)
	got := fmt.Sprint(f.unitsPerEm, f.bbox, f.ascent, f.descent, f.capHeight, f.italic, f.fixedPitch, len(f.widths))
	if want := "2048 [-2090 -948 3673 2524] 1901 -483 1493 0 false 6253"; got != want {
		t.Errorf("metrics %s, want %s", got, want)
	}
	for r, units := range map[rune]int{'A': 1401, 'W': 2025, 'i': 569, ' ': 651, '€': 1303, 'Ж': 2206} {
		want := float64(units) * 1000 / 2048
		if w := f.Width(string(r), 1000); w < want-0.5 || w > want+0.5 {
			t.Errorf("%q: width %v, want %v", r, w, want)
		}
	}
	if f.Has('🚀') || f.Has('株') || !f.Has('Ω') || !f.Has('א') || f.Has('𝐀') || !f.Has('𝔸') {
		t.Error("Has: wrong coverage")
	}
	if f.Name() != "DejaVuSans" {
		t.Errorf("PostScript name %q", f.Name())
	}
	if len(f.cmap) != 5918 { // fontTools: the best cmap's characters from U+0020 to U+1FFFF
		t.Errorf("%d characters mapped, want 5918", len(f.cmap))
	}
}

func TestSubsets(t *testing.T) {
	ttf, f := dejaVu(t)
	a, err := f.subset([]rune("Rechnung"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.subset([]rune("Invoice"))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two texts within the base characters got different subsets")
	}
	c, err := f.subset([]rune("ΩЖ"))
	if err != nil {
		t.Fatal(err)
	}
	if c == a || bytes.Equal(c.program, a.program) {
		t.Fatal("a text beyond the base characters shares the base subset")
	}
	program, err := pdfatest.Inflate(c.program)
	if err != nil {
		t.Fatal(err)
	}
	if len(program) != c.length1 {
		t.Errorf("Length1 %d, program %d bytes", c.length1, len(program))
	}
	sub, err := ParseFont(program)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	for _, r := range "ΩЖAzä€ " {
		if !sub.Has(r) {
			t.Errorf("subset lacks %q", r)
		}
		if sub.Width(string(r), 10) != f.Width(string(r), 10) {
			t.Errorf("%q: subset width %v, font %v", r, sub.Width(string(r), 10), f.Width(string(r), 10))
		}
	}
	if sub.Has('Я') || sub.Has('ł') {
		t.Error("subset has characters nobody asked for")
	}
	// Composite glyphs keep their components, renumbered within the subset.
	composites := 0
	for _, r := range baseRunes {
		g := sub.cmap[r]
		data := sub.glyf[sub.loca[g]:sub.loca[g+1]]
		if len(data) < 10 || int16(binary.BigEndian.Uint16(data)) >= 0 {
			continue
		}
		composites++
		closure, err := sub.glyphClosure([]rune{r})
		if err != nil {
			t.Errorf("%q: %v", r, err)
		}
		if len(closure) < 3 {
			t.Errorf("%q: composite with components %v", r, closure)
		}
	}
	if composites == 0 {
		t.Error("no composite glyph among the base characters: the test proves nothing")
	}
	// No hinting: neither the font's programs nor the glyphs' instructions, and the
	// outlines are the font's.
	tables, err := tableDirectory(program)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"fpgm", "prep", "cvt "} {
		if _, ok := tables[tag]; ok {
			t.Errorf("the subset has the hinting table %q", tag)
		}
	}
	for g := range len(sub.loca) - 1 {
		data := sub.glyf[sub.loca[g]:sub.loca[g+1]]
		if len(data) < 10 {
			continue
		}
		if n := int16(binary.BigEndian.Uint16(data)); n >= 0 {
			if at := 10 + 2*int(n); binary.BigEndian.Uint16(data[at:]) != 0 {
				t.Errorf("subset glyph %d has instructions", g)
			}
		} else if binary.BigEndian.Uint16(data[10:])&haveInstructions != 0 {
			t.Errorf("composite subset glyph %d has instructions", g)
		}
	}
	orig, err := sfnt.Parse(ttf)
	if err != nil {
		t.Fatal(err)
	}
	subFont, err := sfnt.Parse(program)
	if err != nil {
		t.Fatalf("the subset does not parse as sfnt: %v", err)
	}
	var buf sfnt.Buffer
	for _, r := range append([]rune("ΩЖ"), baseRunes...) {
		want, err := outline(orig, &buf, r)
		if err != nil {
			t.Fatalf("%q in the font: %v", r, err)
		}
		got, err := outline(subFont, &buf, r)
		if err != nil {
			t.Fatalf("%q in the subset: %v", r, err)
		}
		if got != want {
			t.Errorf("%q: the subset's outline differs from the font's:\n%s\n%s", r, got, want)
		}
	}
	// The CID (original glyph) → subset glyph map sends Ω to the subset's Ω.
	gidMap, err := pdfatest.Inflate(c.cidToGID)
	if err != nil {
		t.Fatal(err)
	}
	cid := int(f.cmap['Ω'])
	if got := binary.BigEndian.Uint16(gidMap[2*cid:]); got != sub.cmap['Ω'] {
		t.Errorf("CIDToGIDMap sends Ω (CID %d) to glyph %d, the subset has it at %d", cid, got, sub.cmap['Ω'])
	}
}

// outline returns the outline of r's glyph in f, as text.
func outline(f *sfnt.Font, buf *sfnt.Buffer, r rune) (string, error) {
	g, err := f.GlyphIndex(buf, r)
	if err != nil {
		return "", err
	}
	segs, err := f.LoadGlyph(buf, g, fixed.I(1000), nil)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(segs), nil
}

// TestWriteUnhintedRefusesTruncated: glyph data that ends early is an error, never a
// glyph read beyond its end.
func TestWriteUnhintedRefusesTruncated(t *testing.T) {
	header := func(contours int16) []byte {
		return binary.BigEndian.AppendUint16(nil, uint16(contours))[:2:2]
	}
	simple := append(header(1), make([]byte, 8)...)       // one contour, bounding box
	simple = binary.BigEndian.AppendUint16(simple, 2)     // end point: 3 points
	simple = binary.BigEndian.AppendUint16(simple, 3)     // 3 bytes of instructions
	simple = append(simple, 0xb0, 0x00, 0x2f)             // the instructions
	simple = append(simple, 0x01|0x02|0x04|0x08, 2)       // on curve, x and y one byte, repeated twice more
	simple = append(simple, 1, 2, 3, 4, 5, 6)             // x, then y coordinates
	composite := append(header(-1), make([]byte, 8)...)   // bounding box
	composite = append(composite, 0x01, 0x01, 0x00, 0x05) // flags: instructions follow, arguments are words; glyph 5
	composite = append(composite, 0, 0, 0, 0, 0, 1, 0xb0) // arguments, 1 byte of instructions
	var w bytes.Buffer
	if err := writeUnhinted(&w, simple); err != nil {
		t.Fatal(err)
	}
	if want := append(append(append([]byte(nil), simple[:12]...), 0, 0), simple[17:]...); !bytes.Equal(w.Bytes(), want) {
		t.Errorf("simple glyph unhinted:\n% x, want\n% x", w.Bytes(), want)
	}
	w.Reset()
	if err := writeUnhinted(&w, composite); err != nil {
		t.Fatal(err)
	}
	if want := append(append(append([]byte(nil), composite[:10]...), 0x00, 0x01, 0x00, 0x05), composite[14:18]...); !bytes.Equal(w.Bytes(), want) {
		t.Errorf("composite glyph unhinted:\n% x, want\n% x", w.Bytes(), want)
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"header", simple[:9]},
		{"end points", simple[:11]},
		{"instructions", simple[:15]},
		{"flags", simple[:17]},
		{"repeat count", simple[:18]},
		{"coordinates", simple[:22]},
		{"component", composite[:12]},
		{"component arguments", composite[:16]},
	} {
		w.Reset()
		if err := writeUnhinted(&w, tt.data); err == nil {
			t.Errorf("%s truncated: no error", tt.name)
		}
	}
}

func sampleDocument(t testing.TB, f *Font, text string) *Document {
	t.Helper()
	d := NewDocument(595, 842)
	p := d.AddPage()
	p.Rect(50, 50, 200, 20, Color{R: 240, G: 240, B: 240})
	p.Line(50, 80, 545, 80, 0.5, Color{R: 100, G: 100, B: 100})
	p.Text(f, 12, 50, 100, text, Color{})
	d.AddPage().Text(f, 9, 50, 100, "page two", Color{R: 20, G: 60, B: 110})
	return d
}

func TestDocument(t *testing.T) {
	_, f := dejaVu(t)
	b, _ := os.ReadFile("../zugferd/assets/sRGB.icc")
	intent, err := NewOutputIntent(b, "sRGB IEC61966-2.1")
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Title: "Test", Date: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), OutputIntent: intent,
		Attachment: Attachment{Name: "data.xml", MIMEType: "text/xml", Relationship: "Data", Data: []byte("<a>ä</a>")}}
	text := "Grüße aus Łódź, Ω = 1.234,56 €"
	pdf, err := sampleDocument(t, f, text).Write(opt)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := sampleDocument(t, f, text).Write(opt)
	if !bytes.Equal(pdf, again) {
		t.Error("the same document written twice differs")
	}
	got, err := pdfatest.Attached(pdf, "data.xml")
	if err != nil || string(got) != "<a>ä</a>" {
		t.Errorf("attachment: %q, %v", got, err)
	}
	for _, want := range []string{"%PDF-1.7", "/GTS_PDFA1", "/AFRelationship /Data", "<pdfaid:part>3</pdfaid:part>", "/Count 2", "/Encoding /Identity-H"} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("no %s in the PDF", want)
		}
	}
	if _, err := (&Document{}).Write(opt); err == nil {
		t.Error("a document without pages was written")
	}
	opt.OutputIntent = nil
	if _, err := sampleDocument(t, f, text).Write(opt); err == nil {
		t.Error("a document without output intent was written")
	}

	// What a reader extracts is the text shown: the ToUnicode map works.
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("SKIP text extraction: pdftotext (poppler-utils) is not installed; `make deps` installs it")
	}
	path := t.TempDir() + "/doc.pdf"
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), text) || !strings.Contains(string(out), "page two") {
		t.Errorf("pdftotext extracted %q, want %q and %q", out, text, "page two")
	}
}

func BenchmarkSubsetUncached(b *testing.B) {
	_, f := dejaVu(b)
	for b.Loop() {
		if _, err := f.buildSubset(baseRunes); err != nil {
			b.Fatal(err)
		}
	}
}
