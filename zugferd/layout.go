package zugferd

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
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

func lineHeight(size float64) float64 { return size / ptPerMM * lineSpacing }

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

// A band is rows kept together on one page: a table line with its note, the last line
// with the totals. A band that does not fit on the page moves to the next; one taller than
// a page starts where it is and breaks between its rows. head (a table's
// header row) is drawn first on a page the band opens after a page break.
type band struct {
	rows []core.Row
	head []core.Row
}

// sheet is a document as kontor paginates it: bands of maroto rows flowing over as many
// pages as they need, the footer at the bottom of every page and the page number
// ("{current}", "{total}" in pageNumber) below it. maroto's own paginator is tied to
// its gofpdf provider; this one renders the same rows through kontor's.
type sheet struct {
	bands      []band
	footer     []core.Row
	pageNumber string
}

// contentW and contentH are the page's content box, mm.
const (
	contentW = pageW - marginL - marginR
	contentH = pageH - marginT - margB
)

// layout renders the sheet's rows on the pages of a new document.
func (r *Renderer) layout(s sheet) (*pdfa.Document, error) {
	p := &provider{r: r, doc: pdfa.NewDocument(pageW*ptPerMM, pageH*ptPerMM)}
	for _, b := range s.bands {
		setConfig(r.cfg, b.head...)
		setConfig(r.cfg, b.rows...)
	}
	setConfig(r.cfg, s.footer...)
	bottom := contentH - p.height(s.footer...)
	p.newPage(nil)
	for _, b := range s.bands {
		if h := p.height(b.rows...); p.y > 0 && p.y+h > bottom && h <= bottom-p.height(b.head...) {
			p.newPage(b.head)
		}
		for i, rw := range b.rows {
			if i > 0 && p.y+p.height(rw) > bottom {
				p.newPage(b.head)
			}
			p.draw(rw)
		}
	}
	total := p.doc.Pages()
	for i := range total {
		p.page, p.y = p.doc.Page(i), bottom
		for _, rw := range s.footer {
			p.draw(rw)
		}
		num := strings.NewReplacer("{current}", strconv.Itoa(i+1), "{total}", strconv.Itoa(total)).Replace(s.pageNumber)
		p.AddText(num, &entity.Cell{Y: contentH + margB/2 - lineHeight(7), Width: contentW},
			&props.Text{Size: 7, Align: align.Right, Color: mGray})
	}
	if p.err != nil {
		return nil, p.err
	}
	return p.doc, nil
}

func setConfig(cfg *entity.Config, rows ...core.Row) {
	for _, rw := range rows {
		rw.SetConfig(cfg)
	}
}

// height is the rows' height on the page, mm.
func (p *provider) height(rows ...core.Row) float64 {
	h := 0.0
	for _, rw := range rows {
		h += rw.GetHeight(p, &entity.Cell{Width: contentW, Height: contentH})
	}
	return h
}

// newPage starts a page and draws head at its top.
func (p *provider) newPage(head []core.Row) {
	p.page, p.y = p.doc.AddPage(), 0
	for _, rw := range head {
		p.draw(rw)
	}
}

// draw renders a row at the cursor.
func (p *provider) draw(rw core.Row) {
	h := p.height(rw)
	p.x = 0
	y := p.y
	rw.Render(p, entity.Cell{Y: y, Width: contentW, Height: h})
	p.x, p.y = 0, y+h
}
