package zugferd

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kontor-billing/kontor/pdfa"
)

// The page: A4 in millimetres, with the margins of the invoice layout.
const (
	pageW, pageH                     = 210.0, 297.0
	marginL, marginR, marginT, margB = 18.0, 18.0, 15.0, 12.0
	ptPerMM                          = 72 / 25.4
	lineSpacing                      = 1.2                                // line height as a multiple of the font size
	colW                             = (pageW - marginL - marginR) / grid // one grid column, mm
)

// placed is a cell with its text broken into lines that fit its width.
type placed struct {
	cell
	lines []string
}

// block is a row measured for the page: its cells' lines and its height in mm.
type block struct {
	row
	cells  []placed
	height float64
}

func (r *Renderer) face(st textStyle) *pdfa.Font {
	if st.bold {
		return r.bold
	}
	return r.regular
}

func lineHeight(st textStyle) float64 { return st.size / ptPerMM * lineSpacing }

// measure breaks the row's texts into lines and computes its height: the row's own height
// or, when a text needs more, the tallest cell.
func (r *Renderer) measure(rw row) block {
	b := block{row: rw, height: rw.height}
	for _, c := range rw.cells {
		p := placed{cell: c}
		if c.text != "" {
			width := float64(c.span)*colW - c.st.left - c.st.right
			p.lines = wrap(r.face(c.st), c.st.size, width*ptPerMM, c.text)
		}
		b.cells = append(b.cells, p)
	}
	b.height = max(b.height, b.needed())
	return b
}

func (b block) needed() float64 {
	h := 0.0
	for _, c := range b.cells {
		if len(c.lines) > 0 {
			h = max(h, c.st.top+float64(len(c.lines))*lineHeight(c.st)+c.st.bottom)
		}
	}
	return h
}

// split divides a block too tall for the space left (mm) into the lines that fit and the
// rest. ok is false when not even one line of each cell fits.
func (b block) split(space float64) (first, rest block, ok bool) {
	first, rest = block{row: b.row}, block{row: b.row}
	first.height, rest.height = 0, 0
	moved := false
	for _, c := range b.cells {
		n := 0
		if len(c.lines) > 0 {
			n = int((space - c.st.top - c.st.bottom) / lineHeight(c.st))
			if n < 1 {
				return b, block{}, false
			}
			n = min(n, len(c.lines))
		}
		f, s := c, c
		f.lines, s.lines = c.lines[:n], c.lines[n:]
		if len(s.lines) > 0 {
			moved = true
		}
		first.cells, rest.cells = append(first.cells, f), append(rest.cells, s)
	}
	if !moved {
		return b, block{}, false
	}
	first.height, rest.height = first.needed(), rest.needed()
	return first, rest, true
}

// wrap breaks s into lines no wider than width (points) at spaces; a word wider than a
// line is broken between characters.
func wrap(f *pdfa.Font, size, width float64, s string) []string {
	if f.Width(s, size) <= width {
		return []string{s}
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		try := word
		if line != "" {
			try = line + " " + word
		}
		if f.Width(try, size) <= width {
			line = try
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
		for f.Width(word, size) > width {
			cut := 0
			for i := range word {
				if i > 0 && f.Width(word[:i], size) > width {
					break
				}
				cut = i
			}
			if cut == 0 {
				_, cut = utf8.DecodeRuneInString(word)
			}
			lines = append(lines, word[:cut])
			word = word[cut:]
		}
		line = word
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// layout places the body rows on as many pages as they need, the footer rows at the
// bottom of every page and the page number ("{current}", "{total}" in pattern) below.
func (r *Renderer) layout(body, footer []row, pattern string) *pdfa.Document {
	doc := pdfa.NewDocument(pageW*ptPerMM, pageH*ptPerMM)
	var foot []block
	footH := 0.0
	for _, rw := range footer {
		b := r.measure(rw)
		foot = append(foot, b)
		footH += b.height
	}
	bottom := pageH - margB - footH
	page := doc.AddPage()
	y := marginT
	for _, rw := range body {
		b := r.measure(rw)
		for y+b.height > bottom {
			if b.height <= bottom-marginT && y > marginT {
				page, y = doc.AddPage(), marginT // it fits on the next page
				continue
			}
			first, rest, ok := b.split(bottom - y)
			if !ok {
				if y > marginT {
					page, y = doc.AddPage(), marginT
					continue
				}
				break // not one line fits on an empty page: draw it as it is
			}
			r.draw(page, first, y)
			page, y, b = doc.AddPage(), marginT, rest
		}
		r.draw(page, b, y)
		y += b.height
	}
	total := doc.Pages()
	for i := range total {
		p := doc.Page(i)
		y := bottom
		for _, b := range foot {
			r.draw(p, b, y)
			y += b.height
		}
		num := strings.NewReplacer("{current}", strconv.Itoa(i+1), "{total}", strconv.Itoa(total)).Replace(pattern)
		st := textStyle{size: 7, color: gray}
		x := pageW - marginR - r.regular.Width(num, st.size)/ptPerMM
		p.Text(r.regular, st.size, x*ptPerMM, (pageH-margB/2)*ptPerMM, num, st.color)
	}
	return doc
}

// draw paints a block with its top at y (mm).
func (r *Renderer) draw(p *pdfa.Page, b block, y float64) {
	if b.bg != nil {
		p.Rect(marginL*ptPerMM, y*ptPerMM, (pageW-marginL-marginR)*ptPerMM, b.height*ptPerMM, *b.bg)
	}
	if b.rule > 0 {
		mid := (y + b.height/2) * ptPerMM
		p.Line(marginL*ptPerMM, mid, (pageW-marginR)*ptPerMM, mid, b.rule*ptPerMM, gray)
	}
	x := marginL
	for _, c := range b.cells {
		w := float64(c.span) * colW
		f := r.face(c.st)
		lh := lineHeight(c.st)
		base := y + c.st.top + f.Ascent(c.st.size)/ptPerMM
		for i, l := range c.lines {
			tx := x + c.st.left
			if c.st.alignRight {
				tx = x + w - c.st.right - f.Width(l, c.st.size)/ptPerMM
			}
			p.Text(f, c.st.size, tx*ptPerMM, (base+float64(i)*lh)*ptPerMM, l, c.st.color)
		}
		x += w
	}
}
