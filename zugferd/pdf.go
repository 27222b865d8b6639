package zugferd

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
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
	"github.com/kontor-billing/kontor/pdfa"
	"github.com/phpdave11/gofpdf"
	"golang.org/x/image/font/sfnt"
)

var (
	//go:embed assets/DejaVuSans.ttf
	fontRegular []byte
	//go:embed assets/DejaVuSans-Bold.ttf
	fontBold []byte
	//go:embed assets/sRGB.icc
	srgbProfile []byte
)

const (
	fontFamily = "dejavu"
	grid       = 24 // columns of the layout grid
)

// Renderer renders invoices as Factur-X PDF/A-3 documents. It holds the parsed fonts; it is
// safe for concurrent use.
type Renderer struct {
	fonts    []*entity.CustomFont
	coverage []*sfnt.Font
	intent   *pdfa.OutputIntent
	// Producer is written into the PDF metadata.
	Producer string
}

// sortCatalog makes gofpdf write its fonts and other catalog entries in a fixed order; by
// default it follows Go map order, and the same invoice would give different bytes.
// maroto does not reach gofpdf's per-document switch, so the package default is set, once.
var sortCatalog sync.Once

// NewRenderer loads the embedded fonts.
func NewRenderer() (*Renderer, error) {
	sortCatalog.Do(func() { gofpdf.SetDefaultCatalogSort(true) })
	fonts, err := repository.New().
		AddUTF8FontFromBytes(fontFamily, fontstyle.Normal, fontRegular).
		AddUTF8FontFromBytes(fontFamily, fontstyle.Bold, fontBold).
		Load()
	if err != nil {
		return nil, fmt.Errorf("load fonts: %w", err)
	}
	intent, err := pdfa.NewOutputIntent(srgbProfile, "sRGB IEC61966-2.1")
	if err != nil {
		return nil, err
	}
	r := &Renderer{fonts: fonts, intent: intent, Producer: "kontor"}
	for _, b := range [][]byte{fontRegular, fontBold} {
		f, err := sfnt.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("parse font: %w", err)
		}
		r.coverage = append(r.coverage, f)
	}
	return r, nil
}

// fontsForOneDocument returns the fonts with a private copy of their bytes: gofpdf pads
// font tables in place (append on a sub-slice of the font program), so documents rendered
// concurrently must not share the bytes.
func (r *Renderer) fontsForOneDocument() []*entity.CustomFont {
	out := make([]*entity.CustomFont, len(r.fonts))
	for i, f := range r.fonts {
		c := *f
		c.Bytes = append([]byte(nil), f.Bytes...)
		out[i] = &c
	}
	return out
}

// printable returns s as the PDF shows it: characters the embedded fonts have no glyph for
// (emoji, for example) become "?", line breaks and tabs become spaces. The XML keeps the
// original text.
func (r *Renderer) printable(s string) string {
	var buf sfnt.Buffer
	return strings.Map(func(c rune) rune {
		if c == '\n' || c == '\t' || c == '\r' {
			return ' '
		}
		if c < 0x20 || c == 0x7F {
			return -1
		}
		for _, f := range r.coverage {
			if gi, err := f.GlyphIndex(&buf, c); err != nil || gi == 0 {
				return '?'
			}
		}
		return c
	}, s)
}

var (
	gray      = &props.Color{Red: 110, Green: 110, Blue: 110}
	lightGray = &props.Color{Red: 238, Green: 240, Blue: 243}
	accent    = &props.Color{Red: 24, Green: 62, Blue: 110}
	white     = &props.Color{Red: 255, Green: 255, Blue: 255}
)

// PDF renders inv as a Factur-X / ZUGFeRD PDF/A-3b document that embeds xml (the CII of
// inv, from XML) as factur-x.xml with AFRelationship Alternative.
func (r *Renderer) PDF(inv *invoice.Invoice, xml []byte) ([]byte, error) {
	lb := labelsFor(inv.Language)
	created := inv.IssueDate.Time(time.UTC)
	layout, err := r.Layout(inv)
	if err != nil {
		return nil, err
	}
	title := lb.invoice
	docType := "INVOICE"
	if inv.TypeCode == invoice.CreditNote {
		title = lb.creditNote
	}
	out, err := pdfa.Convert(layout, pdfa.Options{
		Title:        title + " " + inv.Number,
		Author:       inv.Seller.Name,
		Subject:      fmt.Sprintf("%s %s, %s", title, inv.Number, inv.Buyer.Name),
		Keywords:     "Factur-X, ZUGFeRD, EN 16931",
		Creator:      "kontor",
		Producer:     r.Producer,
		Language:     inv.Language,
		Date:         created,
		OutputIntent: r.intent,
		Attachment: pdfa.Attachment{
			Name: AttachmentName, Description: "Factur-X/ZUGFeRD invoice data (EN 16931)",
			MIMEType: "text/xml", Relationship: "Alternative", Data: xml,
		},
		XMPExtension: facturXMP(docType, "EN 16931"),
	})
	if err != nil {
		return nil, fmt.Errorf("invoice %s: PDF/A-3: %w", inv.Number, err)
	}
	return out, nil
}

// Layout renders inv with maroto alone: the plain PDF before the PDF/A-3 finishing and
// without the XML. PDF uses it; benchmarks compare against it.
func (r *Renderer) Layout(inv *invoice.Invoice) ([]byte, error) {
	lb := labelsFor(inv.Language)
	created := inv.IssueDate.Time(time.UTC)
	cfg := config.NewBuilder().
		WithPageSize(pagesize.A4).
		WithMaxGridSize(grid).
		WithLeftMargin(18).WithRightMargin(18).WithTopMargin(15).WithBottomMargin(12).
		WithCustomFonts(r.fontsForOneDocument()).
		WithDefaultFont(&props.Font{Family: fontFamily, Size: 9}).
		WithPageNumber(props.PageNumber{Pattern: lb.page, Place: props.RightBottom, Family: fontFamily, Size: 7, Color: gray}).
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

func (r *Renderer) txt(s string, p props.Text) core.Component {
	if p.Family == "" {
		p.Family = fontFamily
	}
	return text.New(r.printable(s), p)
}

func (r *Renderer) header(inv *invoice.Invoice, lb labels) []core.Row {
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
		row.New(12).Add(
			col.New(14).Add(r.txt(s.Name, props.Text{Size: 15, Style: fontstyle.Bold, Color: accent})),
			col.New(10).Add(r.txt(title, props.Text{Size: 15, Style: fontstyle.Bold, Align: align.Right, Color: accent})),
		),
		row.New(5).Add(col.New(grid).Add(r.txt(strings.Join(nonEmpty(s.Email, s.Phone), " · "), props.Text{Size: 8, Color: gray}))),
		row.New(8),
		row.New(4).Add(col.New(14).Add(r.txt(sellerLine, props.Text{Size: 6.5, Color: gray}))),
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
		rows = append(rows, row.New(5).Add(
			col.New(13).Add(r.txt(left, props.Text{Size: 9.5, Style: style})),
			col.New(5).Add(r.txt(k, props.Text{Size: 8, Color: gray})),
			col.New(6).Add(r.txt(v, props.Text{Size: 8.5, Align: align.Right})),
		))
	}
	return append(rows, row.New(10))
}

// lineCols are the grid widths of the line table: no., description, period, quantity,
// unit price, net.
var lineCols = [6]int{1, 9, 6, 2, 3, 3}

func (r *Renderer) lines(inv *invoice.Invoice, lb labels) []core.Row {
	head := []string{lb.pos, lb.item, lb.servicePeriod, lb.qty, lb.unitPrice, lb.net}
	hdr := row.New(7)
	for i, h := range head {
		a := align.Left
		if i >= 3 {
			a = align.Right
		}
		hdr.Add(col.New(lineCols[i]).Add(r.txt(h, props.Text{Size: 8, Style: fontstyle.Bold, Align: a, Top: 1.5, Left: 1, Right: 1, Color: white})))
	}
	hdr.WithStyle(&props.Cell{BackgroundColor: accent})
	rows := []core.Row{hdr}
	group := ""
	for i, l := range inv.Lines {
		if inv.BuyerKind == "partner" && l.EndCustomer.ID != group {
			group = l.EndCustomer.ID
			name := l.EndCustomer.Name
			if name == "" {
				name = l.EndCustomer.ID
			}
			rows = append(rows, row.New().Add(col.New(grid).Add(r.txt(name+" · "+l.EndCustomer.TenantName+" "+l.EndCustomer.TenantID,
				props.Text{Size: 8, Style: fontstyle.Bold, Top: 2, Bottom: 1, Left: 1, Color: accent}))))
		}
		cells := []string{l.ID, l.Name, periodText(l.Period, inv.Language), number(l.Quantity, 0, inv.Language),
			number(l.UnitPrice, 2, inv.Language), number(l.Net, 2, inv.Language)}
		rw := row.New()
		for j, c := range cells {
			a := align.Left
			if j >= 3 {
				a = align.Right
			}
			rw.Add(col.New(lineCols[j]).Add(r.txt(c, props.Text{Size: 8, Align: a, Top: 1.2, Bottom: 0.6, Left: 1, Right: 1})))
		}
		band := []core.Row{rw}
		if l.Note != "" {
			band = append(band, row.New().Add(col.New(lineCols[0]),
				col.New(grid-lineCols[0]).Add(r.txt(l.Note, props.Text{Size: 6.5, Color: gray, Bottom: 0.8, Left: 1, Right: 1}))))
		}
		if i%2 == 1 {
			for _, b := range band {
				b.WithStyle(&props.Cell{BackgroundColor: lightGray})
			}
		}
		rows = append(rows, band...)
	}
	return append(rows, row.New(3), line.NewRow(1, props.Line{Color: gray, Thickness: 0.2}))
}

func (r *Renderer) totals(inv *invoice.Invoice, lb labels) []core.Row {
	pair := func(k, v string, bold bool) core.Row {
		st := fontstyle.Normal
		if bold {
			st = fontstyle.Bold
		}
		return row.New(5.5).Add(
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
	rows = append(rows, pair(lb.grand, money(inv.Totals.GrandTotal, inv), true), row.New(6))
	for _, v := range inv.VAT {
		if v.ExemptionText != "" {
			rows = append(rows, row.New().Add(col.New(grid).Add(r.txt(lb.exemption+": "+v.ExemptionText+" ("+v.ExemptionCode+")", props.Text{Size: 8, Bottom: 1}))))
		}
	}
	for _, n := range inv.Notes {
		rows = append(rows, row.New().Add(col.New(grid).Add(r.txt(n, props.Text{Size: 8, Bottom: 1}))))
	}
	return append(rows, row.New(4))
}

func (r *Renderer) paymentRows(inv *invoice.Invoice, lb labels) []core.Row {
	p := inv.Payment
	rows := []core.Row{
		row.New(6).Add(col.New(grid).Add(r.txt(lb.payment, props.Text{Size: 9, Style: fontstyle.Bold, Color: accent}))),
		row.New().Add(col.New(grid).Add(r.txt(p.Terms, props.Text{Size: 8.5, Bottom: 1.5}))),
	}
	var kv [][2]string
	switch p.Code {
	case "58":
		kv = [][2]string{{lb.iban, p.IBAN}, {lb.bic, p.BIC}, {lb.bank, p.BankName}, {lb.reference, inv.Number}}
	case "59":
		kv = [][2]string{{lb.mandate, p.MandateReference}, {lb.creditorID, p.CreditorID}, {lb.debtorIBAN, p.DebtorIBAN}}
	}
	for _, e := range kv {
		if e[1] == "" {
			continue
		}
		rows = append(rows, row.New(4.5).Add(
			col.New(5).Add(r.txt(e[0], props.Text{Size: 8, Color: gray})),
			col.New(19).Add(r.txt(e[1], props.Text{Size: 8.5})),
		))
	}
	return rows
}

func (r *Renderer) footer(inv *invoice.Invoice, lb labels) []core.Row {
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
		line.NewRow(2, props.Line{Color: gray, Thickness: 0.2}),
		row.New(3.5).Add(col.New(grid).Add(r.txt(strings.Join(legal, " · "), props.Text{Size: 6.5, Color: gray}))),
		row.New(3.5).Add(col.New(grid).Add(r.txt(strings.Join(ids, " · "), props.Text{Size: 6.5, Color: gray}))),
	}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// countryLine is the country line of a postal address: none for the seller's own country.
func countryLine(country, home string) string {
	if country == home {
		return ""
	}
	return country
}

// facturXMP is the Factur-X PDF/A extension schema and its properties (Factur-X 1.0).
func facturXMP(docType, level string) string {
	prop := func(name, desc string) string {
		return `<rdf:li rdf:parseType="Resource"><pdfaProperty:name>` + name + `</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>` + desc + `</pdfaProperty:description></rdf:li>
`
	}
	return `<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>fx</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq>
` + prop("DocumentFileName", "The name of the embedded XML document") +
		prop("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER") +
		prop("Version", "The actual version of the standard applying to the embedded XML document") +
		prop("ConformanceLevel", "The conformance level of the embedded XML document") + `</rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#">
<fx:DocumentType>` + docType + `</fx:DocumentType>
<fx:DocumentFileName>` + AttachmentName + `</fx:DocumentFileName>
<fx:Version>1.0</fx:Version>
<fx:ConformanceLevel>` + level + `</fx:ConformanceLevel>
</rdf:Description>
`
}
