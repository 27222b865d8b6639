package zugferd

// The invoice layout as plain maroto renders it, with its embedded UTF-8 fonts and without
// the XML or any PDF/A step: what kontor rendered with before it wrote PDF/A-3 itself, kept
// as the baseline the render benchmark compares against (BenchmarkLayoutOnly).

import (
	"fmt"
	"sync"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/johnfercher/maroto/v2/pkg/repository"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/phpdave11/gofpdf"
)

type marotoRenderer struct {
	*Renderer
	fonts []*entity.CustomFont
}

var (
	marotoOnce  sync.Once
	marotoFonts []*entity.CustomFont
	marotoErr   error
)

// MarotoLayout renders inv with plain maroto: the rows r lays out (with the logos r was
// given), through maroto's gofpdf provider.
func MarotoLayout(r *Renderer, inv *invoice.Invoice) ([]byte, error) {
	marotoOnce.Do(func() {
		gofpdf.SetDefaultCatalogSort(true)
		marotoFonts, marotoErr = repository.New().
			AddUTF8FontFromBytes(fontFamily, fontstyle.Normal, fontRegular).
			AddUTF8FontFromBytes(fontFamily, fontstyle.Bold, fontBold).
			Load()
	})
	if marotoErr != nil {
		return nil, marotoErr
	}
	return (&marotoRenderer{Renderer: r, fonts: marotoFonts}).Layout(inv)
}

// fontsForOneDocument returns the fonts with a private copy of their bytes: gofpdf pads
// font tables in place, so documents rendered concurrently must not share the bytes.
func (r *marotoRenderer) fontsForOneDocument() []*entity.CustomFont {
	out := make([]*entity.CustomFont, len(r.fonts))
	for i, f := range r.fonts {
		c := *f
		c.Bytes = append([]byte(nil), f.Bytes...)
		out[i] = &c
	}
	return out
}

// Layout renders inv with maroto alone, through its gofpdf provider and paginator: the
// same rows as Renderer.PDF, as a plain PDF without the XML or any PDF/A step. Benchmarks
// compare against it.
func (r *marotoRenderer) Layout(inv *invoice.Invoice) ([]byte, error) {
	lb := labelsFor(inv.Language)
	cfg := marotoBuilder().
		WithCustomFonts(r.fontsForOneDocument()).
		WithPageNumber(props.PageNumber{Pattern: lb.page, Place: props.RightBottom, Family: fontFamily, Size: 7, Color: mGray}).
		WithCreationDate(inv.IssueDate.Time(time.UTC)).
		WithCompression(true).
		Build()
	m := maroto.New(cfg)
	s, err := r.sheet(inv, lb)
	if err != nil {
		return nil, err
	}
	if err := m.RegisterFooter(s.footer...); err != nil {
		return nil, fmt.Errorf("invoice %s: footer: %w", inv.Number, err)
	}
	for _, b := range s.bands {
		m.AddRows(b.rows...)
	}
	doc, err := m.Generate()
	if err != nil {
		return nil, fmt.Errorf("invoice %s: layout: %w", inv.Number, err)
	}
	return doc.GetBytes(), nil
}
