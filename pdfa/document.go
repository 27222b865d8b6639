package pdfa

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Document is a PDF/A-3b document written directly, without an intermediate PDF: pages of
// text, filled rectangles, lines and images, in embedded TrueType fonts (as CID fonts, Identity-H,
// with ToUnicode), with one embedded file. Coordinates are in points from the top left
// corner of the page. A Document is for one goroutine; the Fonts it uses may be shared.
type Document struct {
	width, height float64
	pages         []*Page
	fonts         []*docFont
	images        []*Image
}

type docFont struct {
	font  *Font
	runes map[rune]bool
}

// Page is one page of a Document.
type Page struct {
	doc     *Document
	content bytes.Buffer
	fill    Color
	stroke  Color
}

// Color is an RGB color, 0–255 per channel, in the sRGB output intent.
type Color struct{ R, G, B uint8 }

// NewDocument starts a document whose pages are width × height points.
func NewDocument(width, height float64) *Document {
	return &Document{width: width, height: height}
}

// AddPage appends a page and returns it.
func (d *Document) AddPage() *Page {
	p := &Page{doc: d}
	d.pages = append(d.pages, p)
	return p
}

// Page returns page i, counting from 0.
func (d *Document) Page(i int) *Page { return d.pages[i] }

// Pages is the number of pages.
func (d *Document) Pages() int { return len(d.pages) }

func (d *Document) fontIndex(f *Font) int {
	for i, df := range d.fonts {
		if df.font == f {
			return i
		}
	}
	d.fonts = append(d.fonts, &docFont{font: f, runes: map[rune]bool{}})
	return len(d.fonts) - 1
}

func num(b *bytes.Buffer, v float64) {
	b.Write(strconv.AppendFloat(b.AvailableBuffer(), v, 'f', 2, 64))
}

func (p *Page) color(op string, c Color) {
	b := &p.content
	for _, v := range []uint8{c.R, c.G, c.B} {
		b.Write(strconv.AppendFloat(b.AvailableBuffer(), float64(v)/255, 'f', 3, 64))
		b.WriteByte(' ')
	}
	b.WriteString(op + "\n")
}

func (p *Page) setFill(c Color) {
	if c != p.fill {
		p.fill = c
		p.color("rg", c)
	}
}

func (p *Page) setStroke(c Color) {
	if c != p.stroke {
		p.stroke = c
		p.color("RG", c)
	}
}

// Text shows s with its baseline starting at (x, y). Characters the font has no glyph for
// are shown as .notdef; callers replace them first (Font.Has).
func (p *Page) Text(f *Font, size, x, y float64, s string, c Color) {
	if s == "" {
		return
	}
	df := p.doc.fontIndex(f)
	p.setFill(c)
	b := &p.content
	b.WriteString("BT\n")
	fmt.Fprintf(b, "/F%d ", df+1)
	num(b, size)
	b.WriteString(" Tf\n")
	num(b, x)
	b.WriteByte(' ')
	num(b, p.doc.height-y)
	b.WriteString(" Td\n<")
	used := p.doc.fonts[df].runes
	const hex = "0123456789ABCDEF"
	for _, r := range s {
		g := f.glyph(r)
		if g == 0 {
			continue
		}
		used[r] = true
		b.Write([]byte{hex[g>>12], hex[g>>8&15], hex[g>>4&15], hex[g&15]})
	}
	b.WriteString("> Tj\nET\n")
}

// Rect fills the rectangle with top left corner (x, y).
func (p *Page) Rect(x, y, w, h float64, c Color) {
	p.setFill(c)
	b := &p.content
	num(b, x)
	b.WriteByte(' ')
	num(b, p.doc.height-y-h)
	b.WriteByte(' ')
	num(b, w)
	b.WriteByte(' ')
	num(b, h)
	b.WriteString(" re f\n")
}

// Line strokes a straight line of the given width.
func (p *Page) Line(x1, y1, x2, y2, width float64, c Color) {
	p.setStroke(c)
	b := &p.content
	num(b, width)
	b.WriteString(" w ")
	num(b, x1)
	b.WriteByte(' ')
	num(b, p.doc.height-y1)
	b.WriteString(" m ")
	num(b, x2)
	b.WriteByte(' ')
	num(b, p.doc.height-y2)
	b.WriteString(" l S\n")
}

// Write returns the document as PDF/A-3b with opt.Attachment embedded and associated
// (/AF), XMP metadata and the output intent. The same pages and options give the same bytes.
func (d *Document) Write(opt Options) ([]byte, error) {
	if opt.OutputIntent == nil {
		return nil, errors.New("pdfa: an output intent is required")
	}
	if len(d.pages) == 0 {
		return nil, errors.New("pdfa: a document needs at least one page")
	}
	t := &objectTable{objs: map[int]*object{}}
	catalog, pagesObj := t.reserve(), t.reserve()
	fontRes, err := d.writeFonts(t)
	if err != nil {
		return nil, err
	}
	res := fmt.Appendf(nil, "/Font %s", fontRes)
	if len(d.images) > 0 {
		res = fmt.Appendf(res, " /XObject <<%s >>", d.writeImages(t))
	}
	kids := make([]byte, 0, 8*len(d.pages))
	for _, p := range d.pages {
		content := deflateFast(p.content.Bytes())
		c := t.add(&object{dict: fmt.Appendf(nil, "<< /Length %d /Filter /FlateDecode >>", len(content)), stream: content})
		pg := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << %s >> /Contents %d 0 R >>",
			pagesObj, fmtNum(d.width), fmtNum(d.height), res, c)})
		kids = fmt.Appendf(kids, " %d 0 R", pg)
	}
	t.objs[pagesObj] = &object{dict: fmt.Appendf(nil, "<< /Type /Pages /Kids [%s ] /Count %d >>", kids, len(d.pages))}

	date := pdfDate(opt.Date)
	a := opt.Attachment
	fs := t.attach(a, date)
	icc := opt.OutputIntent.deflated
	iccObj := t.add(&object{dict: fmt.Appendf(nil, "<< /N 3 /Filter /FlateDecode /Length %d >>", len(icc)), stream: icc, shared: true})
	cond := opt.OutputIntent.condition
	oi := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier %s /Info %s /RegistryName (http://www.color.org) /DestOutputProfile %d 0 R >>",
		textString(cond), textString(cond), iccObj)})
	xmp := xmpPacket(opt)
	meta := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /Metadata /Subtype /XML /Length %d >>", len(xmp)), stream: xmp})
	info := t.add(&object{dict: fmt.Appendf(nil, "<< /Title %s /Author %s /Subject %s /Keywords %s /Creator %s /Producer %s /CreationDate %s /ModDate %s >>",
		textString(opt.Title), textString(opt.Author), textString(opt.Subject), textString(opt.Keywords),
		textString(opt.Creator), textString(opt.Producer), date, date)})
	lang := ""
	if opt.Language != "" {
		lang = " /Lang " + literal(opt.Language)
	}
	t.objs[catalog] = &object{dict: fmt.Appendf(nil, "<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R /OutputIntents [%d 0 R] /AF [%d 0 R] /Names << /EmbeddedFiles << /Names [%s %d 0 R] >> >>%s >>",
		pagesObj, meta, oi, fs, literal(a.Name), fs, lang)}
	return write(t.objs, t.next, catalog, info), nil
}

// objectTable numbers a PDF's objects as they are added.
type objectTable struct {
	objs map[int]*object
	next int // the last number given
}

// add adds o and returns its number.
func (t *objectTable) add(o *object) int {
	t.next++
	t.objs[t.next] = o
	return t.next
}

// reserve gives a number to an object added later.
func (t *objectTable) reserve() int { t.next++; return t.next }

// writeFonts adds each font's subset of the runes the pages use (program, descriptor,
// CID font, ToUnicode and Type 0 font) and returns the fonts' resource dictionary.
func (d *Document) writeFonts(t *objectTable) ([]byte, error) {
	var fontRes bytes.Buffer
	fontRes.WriteString("<<")
	for i, df := range d.fonts {
		runes := make([]rune, 0, len(df.runes))
		for r := range df.runes {
			runes = append(runes, r)
		}
		slices.Sort(runes)
		s, err := df.font.subset(runes)
		if err != nil {
			return nil, fmt.Errorf("pdfa: font %s: %w", df.font.name, err)
		}
		f := df.font
		base := s.tag + "+" + f.name
		file := t.add(&object{dict: fmt.Appendf(nil, "<< /Length %d /Filter /FlateDecode /Length1 %d >>", len(s.program), s.length1), stream: s.program, shared: true})
		flags := 32 // nonsymbolic
		if f.fixedPitch {
			flags |= 1
		}
		if f.italic != 0 {
			flags |= 64
		}
		desc := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%d %d %d %d] /ItalicAngle %s /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>",
			base, flags, f.scale(f.bbox[0]), f.scale(f.bbox[1]), f.scale(f.bbox[2]), f.scale(f.bbox[3]),
			strconv.FormatFloat(f.italic, 'f', -1, 64), f.scale(f.ascent), f.scale(f.descent), f.scale(f.capHeight), file)})
		gidMap := t.add(&object{dict: fmt.Appendf(nil, "<< /Length %d /Filter /FlateDecode >>", len(s.cidToGID)), stream: s.cidToGID, shared: true})
		cid := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW %d /W %s /CIDToGIDMap %d 0 R >>",
			base, desc, f.widths[0], s.widths, gidMap)})
		tu := t.add(&object{dict: fmt.Appendf(nil, "<< /Length %d /Filter /FlateDecode >>", len(s.toUnicode)), stream: s.toUnicode, shared: true})
		t0 := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", base, cid, tu)})
		fmt.Fprintf(&fontRes, " /F%d %d 0 R", i+1, t0)
	}
	fontRes.WriteString(" >>")
	return fontRes.Bytes(), nil
}

// attach adds the embedded file a (modified on date) and returns its file
// specification's number.
func (t *objectTable) attach(a Attachment, date string) int {
	sum := md5.Sum(a.Data)
	efData := deflateFast(a.Data)
	ef := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /EmbeddedFile /Subtype /%s /Filter /FlateDecode /Length %d /Params << /ModDate %s /Size %d /CheckSum <%X> >> >>",
		nameEscape(a.MIMEType), len(efData), date, len(a.Data), sum[:]), stream: efData})
	return t.add(&object{dict: fmt.Appendf(nil, "<< /Type /Filespec /F %s /UF %s /EF << /F %d 0 R /UF %d 0 R >> /Desc %s /AFRelationship /%s >>",
		literal(a.Name), literal(a.Name), ef, ef, textString(a.Description), a.Relationship)})
}

// scale converts font units to PDF glyph space (1/1000 of the font size).
func (f *Font) scale(v int) int {
	return int(float64(v)*1000/float64(f.unitsPerEm) + 0.5*sign(v))
}

func sign(v int) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
