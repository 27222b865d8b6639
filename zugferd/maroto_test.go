package zugferd

// The invoice layout as plain maroto renders it, with its embedded UTF-8 fonts and without
// the XML or any PDF/A step: what kontor rendered with before it wrote PDF/A-3 itself, kept
// as the baseline the render benchmark compares against (BenchmarkLayoutOnly).

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	mrow "github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/pagesize"
	"github.com/johnfercher/maroto/v2/pkg/core"
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
	marotoOnce sync.Once
	marotoR    *marotoRenderer
	marotoErr  error
)

// MarotoLayout renders inv with plain maroto.
func MarotoLayout(inv *invoice.Invoice) ([]byte, error) {
	marotoOnce.Do(func() {
		gofpdf.SetDefaultCatalogSort(true)
		var base *Renderer
		if base, marotoErr = NewRenderer(); marotoErr != nil {
			return
		}
		var fonts []*entity.CustomFont
		fonts, marotoErr = repository.New().
			AddUTF8FontFromBytes(fontFamily, fontstyle.Normal, fontRegular).
			AddUTF8FontFromBytes(fontFamily, fontstyle.Bold, fontBold).
			Load()
		marotoR = &marotoRenderer{Renderer: base, fonts: fonts}
	})
	if marotoErr != nil {
		return nil, marotoErr
	}
	return marotoR.Layout(inv)
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

var (
	mGray      = &props.Color{Red: 110, Green: 110, Blue: 110}
	mLightGray = &props.Color{Red: 238, Green: 240, Blue: 243}
	mAccent    = &props.Color{Red: 24, Green: 62, Blue: 110}
	mWhite     = &props.Color{Red: 255, Green: 255, Blue: 255}
)

// Layout renders inv with maroto alone: the plain PDF before the PDF/A-3 finishing and
// without the XML. PDF uses it; benchmarks compare against it.
func (r *marotoRenderer) Layout(inv *invoice.Invoice) ([]byte, error) {
	lb := labelsFor(inv.Language)
	created := inv.IssueDate.Time(time.UTC)
	cfg := config.NewBuilder().
		WithPageSize(pagesize.A4).
		WithMaxGridSize(grid).
		WithLeftMargin(18).WithRightMargin(18).WithTopMargin(15).WithBottomMargin(12).
		WithCustomFonts(r.fontsForOneDocument()).
		WithDefaultFont(&props.Font{Family: fontFamily, Size: 9}).
		WithPageNumber(props.PageNumber{Pattern: lb.page, Place: props.RightBottom, Family: fontFamily, Size: 7, Color: mGray}).
		WithCreationDate(created).
		WithCompression(true).
		Build()
	m := maroto.New(cfg)
	if err := m.RegisterFooter(r.footer(inv, lb)...); err != nil {
		return nil, fmt.Errorf("invoice %s: footer: %w", inv.Number, err)
	}
	m.AddRows(r.header(inv, lb)...)
	m.AddRows(r.lines(inv, lb)...)
	m.AddRows(r.totals(inv, lb)...)
	m.AddRows(r.paymentRows(inv, lb)...)
	doc, err := m.Generate()
	if err != nil {
		return nil, fmt.Errorf("invoice %s: layout: %w", inv.Number, err)
	}
	return doc.GetBytes(), nil
}

func (r *marotoRenderer) txt(s string, p props.Text) core.Component {
	if p.Family == "" {
		p.Family = fontFamily
	}
	return text.New(r.printable(s), p)
}

func (r *marotoRenderer) header(inv *invoice.Invoice, lb labels) []core.Row {
	s, b := inv.Seller, inv.Buyer
	title := lb.invoice
	if inv.TypeCode == invoice.CreditNote {
		title = lb.creditNote
	}
	if strings.HasPrefix(inv.Number, "DRAFT") {
		title += " (" + lb.draft + ")"
	}
	sellerLine := strings.Join(nonEmpty(s.Name, s.Address.Street, s.Address.Postcode+" "+s.Address.City), " · ")
	rows := []core.Row{
		mrow.New(12).Add(
			col.New(14).Add(r.txt(s.Name, props.Text{Size: 15, Style: fontstyle.Bold, Color: mAccent})),
			col.New(10).Add(r.txt(title, props.Text{Size: 15, Style: fontstyle.Bold, Align: align.Right, Color: mAccent})),
		),
		mrow.New(5).Add(col.New(grid).Add(r.txt(strings.Join(nonEmpty(s.Email, s.Phone), " · "), props.Text{Size: 8, Color: mGray}))),
		mrow.New(8),
		mrow.New(4).Add(col.New(14).Add(r.txt(sellerLine, props.Text{Size: 6.5, Color: mGray}))),
	}
	addr := nonEmpty(b.Name, b.Address.Street, b.Address.Street2, strings.TrimSpace(b.Address.Postcode+" "+b.Address.City), countryLine(b.Address.Country, s.Address.Country))
	if b.VATID != "" {
		addr = append(addr, lb.vatID+" "+b.VATID)
	}
	meta := [][2]string{
		{lb.number, inv.Number},
		{lb.date, dateText(inv.IssueDate, inv.Language)},
		{lb.due, dateText(inv.DueDate, inv.Language)},
		{lb.customer, inv.BuyerID},
	}
	if b.MicrosoftPartnerID != "" {
		meta = append(meta, [2]string{lb.partnerID, b.MicrosoftPartnerID})
	}
	meta = append(meta, [2]string{lb.period, periodText(inv.Period, inv.Language)})
	if inv.Preceding != "" {
		meta = append(meta, [2]string{lb.refersTo, inv.Preceding + " (" + dateText(inv.PrecedingDate, inv.Language) + ")"})
	}
	for i := 0; i < max(len(addr), len(meta)); i++ {
		left, k, v := "", "", ""
		if i < len(addr) {
			left = addr[i]
		}
		if i < len(meta) {
			k, v = meta[i][0], meta[i][1]
		}
		style := fontstyle.Normal
		if i == 0 {
			style = fontstyle.Bold
		}
		rows = append(rows, mrow.New(5).Add(
			col.New(13).Add(r.txt(left, props.Text{Size: 9.5, Style: style})),
			col.New(5).Add(r.txt(k, props.Text{Size: 8, Color: mGray})),
			col.New(6).Add(r.txt(v, props.Text{Size: 8.5, Align: align.Right})),
		))
	}
	return append(rows, mrow.New(10))
}

func (r *marotoRenderer) lines(inv *invoice.Invoice, lb labels) []core.Row {
	head := []string{lb.pos, lb.item, lb.servicePeriod, lb.qty, lb.unitPrice, lb.net}
	hdr := mrow.New(7)
	for i, h := range head {
		a := align.Left
		if i >= 3 {
			a = align.Right
		}
		hdr.Add(col.New(lineCols[i]).Add(r.txt(h, props.Text{Size: 8, Style: fontstyle.Bold, Align: a, Top: 1.5, Left: 1, Right: 1, Color: mWhite})))
	}
	hdr.WithStyle(&props.Cell{BackgroundColor: mAccent})
	rows := []core.Row{hdr}
	group := ""
	for i, l := range inv.Lines {
		if inv.BuyerKind == "partner" && l.EndCustomer.ID != group {
			group = l.EndCustomer.ID
			name := l.EndCustomer.Name
			if name == "" {
				name = l.EndCustomer.ID
			}
			rows = append(rows, mrow.New().Add(col.New(grid).Add(r.txt(name+" · "+l.EndCustomer.TenantName+" "+l.EndCustomer.TenantID,
				props.Text{Size: 8, Style: fontstyle.Bold, Top: 2, Bottom: 1, Left: 1, Color: mAccent}))))
		}
		cells := []string{l.ID, l.Name, periodText(l.Period, inv.Language), number(l.Quantity, 0, inv.Language),
			number(l.UnitPrice, 2, inv.Language), number(l.Net, 2, inv.Language)}
		rw := mrow.New()
		for j, c := range cells {
			a := align.Left
			if j >= 3 {
				a = align.Right
			}
			rw.Add(col.New(lineCols[j]).Add(r.txt(c, props.Text{Size: 8, Align: a, Top: 1.2, Bottom: 0.6, Left: 1, Right: 1})))
		}
		band := []core.Row{rw}
		if l.Note != "" {
			band = append(band, mrow.New().Add(col.New(lineCols[0]),
				col.New(grid-lineCols[0]).Add(r.txt(l.Note, props.Text{Size: 6.5, Color: mGray, Bottom: 0.8, Left: 1, Right: 1}))))
		}
		if i%2 == 1 {
			for _, b := range band {
				b.WithStyle(&props.Cell{BackgroundColor: mLightGray})
			}
		}
		rows = append(rows, band...)
	}
	return append(rows, mrow.New(3), line.NewRow(1, props.Line{Color: mGray, Thickness: 0.2}))
}

func (r *marotoRenderer) totals(inv *invoice.Invoice, lb labels) []core.Row {
	pair := func(k, v string, bold bool) core.Row {
		st := fontstyle.Normal
		if bold {
			st = fontstyle.Bold
		}
		return mrow.New(5.5).Add(
			col.New(12),
			col.New(7).Add(r.txt(k, props.Text{Size: 9, Style: st, Align: align.Right})),
			col.New(5).Add(r.txt(v, props.Text{Size: 9, Style: st, Align: align.Right, Right: 1})),
		)
	}
	rows := []core.Row{pair(lb.total, money(inv.Totals.TaxBasis, inv), false)}
	for _, v := range inv.VAT {
		label := fmt.Sprintf("%s %s %%", lb.vat, number(v.Rate, 0, inv.Language))
		if v.Category != "S" {
			label = fmt.Sprintf("%s (%s) %s %%", lb.vat, v.Category, number(v.Rate, 0, inv.Language))
		}
		rows = append(rows, pair(label+" · "+number(v.Basis, 2, inv.Language), money(v.Tax, inv), false))
	}
	rows = append(rows, pair(lb.grand, money(inv.Totals.GrandTotal, inv), true), mrow.New(6))
	for _, v := range inv.VAT {
		if v.ExemptionText != "" {
			rows = append(rows, mrow.New().Add(col.New(grid).Add(r.txt(lb.exemption+": "+v.ExemptionText+" ("+v.ExemptionCode+")", props.Text{Size: 8, Bottom: 1}))))
		}
	}
	for _, n := range inv.Notes {
		rows = append(rows, mrow.New().Add(col.New(grid).Add(r.txt(n, props.Text{Size: 8, Bottom: 1}))))
	}
	return append(rows, mrow.New(4))
}

func (r *marotoRenderer) paymentRows(inv *invoice.Invoice, lb labels) []core.Row {
	p := inv.Payment
	rows := []core.Row{
		mrow.New(6).Add(col.New(grid).Add(r.txt(lb.payment, props.Text{Size: 9, Style: fontstyle.Bold, Color: mAccent}))),
		mrow.New().Add(col.New(grid).Add(r.txt(p.Terms, props.Text{Size: 8.5, Bottom: 1.5}))),
	}
	var kv [][2]string
	switch p.Code {
	case invoice.MeansCreditTransfer:
		kv = [][2]string{{lb.iban, p.IBAN}, {lb.bic, p.BIC}, {lb.bank, p.BankName}, {lb.reference, inv.Number}}
	case invoice.MeansDirectDebit:
		kv = [][2]string{{lb.mandate, p.MandateReference}, {lb.creditorID, p.CreditorID}, {lb.debtorIBAN, p.DebtorIBAN}}
	case invoice.MeansBankCard, invoice.MeansOnline, invoice.MeansNotDefined:
	}
	for _, e := range kv {
		if e[1] == "" {
			continue
		}
		rows = append(rows, mrow.New(4.5).Add(
			col.New(5).Add(r.txt(e[0], props.Text{Size: 8, Color: mGray})),
			col.New(19).Add(r.txt(e[1], props.Text{Size: 8.5})),
		))
	}
	return rows
}

func (r *marotoRenderer) footer(inv *invoice.Invoice, lb labels) []core.Row {
	s := inv.Seller
	legal := []string{s.Name, s.Address.Street + ", " + s.Address.Postcode + " " + s.Address.City}
	ids := []string{}
	if s.VATID != "" {
		ids = append(ids, lb.vatID+" "+s.VATID)
	}
	if s.TaxNumber != "" {
		ids = append(ids, lb.taxNumber+" "+s.TaxNumber)
	}
	if inv.Payment.IBAN != "" {
		ids = append(ids, lb.iban+" "+inv.Payment.IBAN)
	}
	return []core.Row{
		line.NewRow(2, props.Line{Color: mGray, Thickness: 0.2}),
		mrow.New(3.5).Add(col.New(grid).Add(r.txt(strings.Join(legal, " · "), props.Text{Size: 6.5, Color: mGray}))),
		mrow.New(3.5).Add(col.New(grid).Add(r.txt(strings.Join(ids, " · "), props.Text{Size: 6.5, Color: mGray}))),
	}
}
