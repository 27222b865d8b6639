package zugferd

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/pdfa"
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

// Renderer renders invoices as Factur-X PDF/A-3 documents. It holds the parsed fonts and
// the font subsets written so far; it is safe for concurrent use.
type Renderer struct {
	regular, bold *pdfa.Font
	intent        *pdfa.OutputIntent
	// Producer is written into the PDF metadata.
	Producer string
}

// NewRenderer parses the embedded fonts.
func NewRenderer() (*Renderer, error) {
	regular, err := pdfa.ParseFont(fontRegular)
	if err != nil {
		return nil, fmt.Errorf("load font DejaVuSans: %w", err)
	}
	bold, err := pdfa.ParseFont(fontBold)
	if err != nil {
		return nil, fmt.Errorf("load font DejaVuSans-Bold: %w", err)
	}
	intent, err := pdfa.NewOutputIntent(srgbProfile, "sRGB IEC61966-2.1")
	if err != nil {
		return nil, err
	}
	return &Renderer{regular: regular, bold: bold, intent: intent, Producer: "kontor"}, nil
}

// printable returns s as the PDF shows it: characters the embedded fonts have no glyph for
// (emoji, for example) become "?", line breaks and tabs become spaces. The XML keeps the
// original text.
func (r *Renderer) printable(s string) string {
	return strings.Map(func(c rune) rune {
		if c == '\n' || c == '\t' || c == '\r' {
			return ' '
		}
		if c < 0x20 || c == 0x7F {
			return -1
		}
		if !r.regular.Has(c) || !r.bold.Has(c) {
			return '?'
		}
		return c
	}, s)
}

var (
	gray      = pdfa.Color{R: 110, G: 110, B: 110}
	lightGray = pdfa.Color{R: 238, G: 240, B: 243}
	accent    = pdfa.Color{R: 24, G: 62, B: 110}
	white     = pdfa.Color{R: 255, G: 255, B: 255}
)

// PDF renders inv as a Factur-X / ZUGFeRD PDF/A-3b document that embeds xml (the CII of
// inv, from XML) as factur-x.xml with AFRelationship Alternative.
func (r *Renderer) PDF(inv *invoice.Invoice, xml []byte) ([]byte, error) {
	lb := labelsFor(inv.Language)
	title := lb.invoice
	docType := "INVOICE"
	if inv.TypeCode == invoice.CreditNote {
		title = lb.creditNote
	}
	var body []row
	body = append(body, r.header(inv, lb)...)
	body = append(body, r.lines(inv, lb)...)
	body = append(body, r.totals(inv, lb)...)
	body = append(body, r.paymentRows(inv, lb)...)
	doc := r.layout(body, r.footer(inv, lb), lb.page)
	out, err := doc.Write(pdfa.Options{
		Title:        title + " " + inv.Number,
		Author:       inv.Seller.Name,
		Subject:      fmt.Sprintf("%s %s, %s", title, inv.Number, inv.Buyer.Name),
		Keywords:     "Factur-X, ZUGFeRD, EN 16931",
		Creator:      "kontor",
		Producer:     r.Producer,
		Language:     inv.Language,
		Date:         inv.IssueDate.Time(time.UTC),
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

// textStyle is how a cell shows its text; sizes in points, paddings in millimetres.
type textStyle struct {
	size                     float64
	bold, alignRight         bool
	color                    pdfa.Color
	top, bottom, left, right float64
}

// cell is a text spanning span columns of the grid.
type cell struct {
	span int
	text string
	st   textStyle
}

// row is a band across the page: cells side by side, at least height mm high (taller when
// a text wraps), with an optional background or, instead of cells, a horizontal rule.
type row struct {
	height float64
	cells  []cell
	bg     *pdfa.Color
	rule   float64 // thickness of a rule through the middle of the row, mm; 0 for none
}

func (r *Renderer) txt(span int, s string, st textStyle) cell {
	if st.size == 0 {
		st.size = 9
	}
	return cell{span: span, text: r.printable(s), st: st}
}

func space(span int) cell { return cell{span: span} }

func (r *Renderer) header(inv *invoice.Invoice, lb labels) []row {
	s, b := inv.Seller, inv.Buyer
	title := lb.invoice
	if inv.TypeCode == invoice.CreditNote {
		title = lb.creditNote
	}
	if strings.HasPrefix(inv.Number, "DRAFT") {
		title += " (" + lb.draft + ")"
	}
	sellerLine := strings.Join(nonEmpty(s.Name, s.Address.Street, s.Address.Postcode+" "+s.Address.City), " · ")
	rows := []row{
		{height: 12, cells: []cell{
			r.txt(14, s.Name, textStyle{size: 15, bold: true, color: accent}),
			r.txt(10, title, textStyle{size: 15, bold: true, alignRight: true, color: accent}),
		}},
		{height: 5, cells: []cell{r.txt(grid, strings.Join(nonEmpty(s.Email, s.Phone), " · "), textStyle{size: 8, color: gray})}},
		{height: 8},
		{height: 4, cells: []cell{r.txt(14, sellerLine, textStyle{size: 6.5, color: gray})}},
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
		rows = append(rows, row{height: 5, cells: []cell{
			r.txt(13, left, textStyle{size: 9.5, bold: i == 0}),
			r.txt(5, k, textStyle{size: 8, color: gray}),
			r.txt(6, v, textStyle{size: 8.5, alignRight: true}),
		}})
	}
	return append(rows, row{height: 10})
}

// lineCols are the grid widths of the line table: no., description, period, quantity,
// unit price, net.
var lineCols = [6]int{1, 9, 6, 2, 3, 3}

func (r *Renderer) lines(inv *invoice.Invoice, lb labels) []row {
	head := []string{lb.pos, lb.item, lb.servicePeriod, lb.qty, lb.unitPrice, lb.net}
	hdr := row{height: 7, bg: &accent}
	for i, h := range head {
		st := textStyle{size: 8, bold: true, alignRight: i >= 3, top: 1.5, left: 1, right: 1, color: white}
		if i == 0 {
			st.size, st.left, st.right = 7.5, 0.8, 0 // "Pos." in a one-column cell
		}
		hdr.cells = append(hdr.cells, r.txt(lineCols[i], h, st))
	}
	rows := []row{hdr}
	group := ""
	for i, l := range inv.Lines {
		if inv.BuyerKind == invoice.PartnerBuyer && l.EndCustomer.ID != group {
			group = l.EndCustomer.ID
			name := l.EndCustomer.Name
			if name == "" {
				name = l.EndCustomer.ID
			}
			rows = append(rows, row{cells: []cell{r.txt(grid, name+" · "+l.EndCustomer.TenantName+" "+l.EndCustomer.TenantID,
				textStyle{size: 8, bold: true, top: 2, bottom: 1, left: 1, color: accent})}})
		}
		texts := []string{l.ID, l.Name, periodText(l.Period, inv.Language), number(l.Quantity, 0, inv.Language),
			number(l.UnitPrice, 2, inv.Language), number(l.Net, 2, inv.Language)}
		rw := row{}
		for j, c := range texts {
			rw.cells = append(rw.cells, r.txt(lineCols[j], c, textStyle{size: 8, alignRight: j >= 3, top: 1.2, bottom: 0.6, left: 1, right: 1}))
		}
		band := []row{rw}
		if l.Note != "" {
			band = append(band, row{cells: []cell{space(lineCols[0]),
				r.txt(grid-lineCols[0], l.Note, textStyle{size: 6.5, color: gray, bottom: 0.8, left: 1, right: 1})}})
		}
		if i%2 == 1 {
			for k := range band {
				band[k].bg = &lightGray
			}
		}
		rows = append(rows, band...)
	}
	return append(rows, row{height: 3}, row{height: 1, rule: 0.2})
}

func (r *Renderer) totals(inv *invoice.Invoice, lb labels) []row {
	pair := func(k, v string, bold bool) row {
		return row{height: 5.5, cells: []cell{
			space(12),
			r.txt(7, k, textStyle{size: 9, bold: bold, alignRight: true}),
			r.txt(5, v, textStyle{size: 9, bold: bold, alignRight: true, right: 1}),
		}}
	}
	rows := []row{pair(lb.total, money(inv.Totals.TaxBasis, inv), false)}
	for _, v := range inv.VAT {
		label := fmt.Sprintf("%s %s %%", lb.vat, number(v.Rate, 0, inv.Language))
		if v.Category != invoice.StandardRate {
			label = fmt.Sprintf("%s (%s) %s %%", lb.vat, v.Category, number(v.Rate, 0, inv.Language))
		}
		rows = append(rows, pair(label+" · "+number(v.Basis, 2, inv.Language), money(v.Tax, inv), false))
	}
	rows = append(rows, pair(lb.grand, money(inv.Totals.GrandTotal, inv), true), row{height: 6})
	for _, v := range inv.VAT {
		if v.ExemptionText != "" {
			rows = append(rows, row{cells: []cell{r.txt(grid, lb.exemption+": "+v.ExemptionText+" ("+v.ExemptionCode+")", textStyle{size: 8, bottom: 1})}})
		}
	}
	for _, n := range inv.Notes {
		rows = append(rows, row{cells: []cell{r.txt(grid, n, textStyle{size: 8, bottom: 1})}})
	}
	return append(rows, row{height: 4})
}

func (r *Renderer) paymentRows(inv *invoice.Invoice, lb labels) []row {
	p := inv.Payment
	rows := []row{
		{height: 6, cells: []cell{r.txt(grid, lb.payment, textStyle{size: 9, bold: true, color: accent})}},
		{cells: []cell{r.txt(grid, p.Terms, textStyle{size: 8.5, bottom: 1.5})}},
	}
	var kv [][2]string
	switch p.Code {
	case invoice.MeansCreditTransfer:
		kv = [][2]string{{lb.iban, groupIBAN(p.IBAN)}, {lb.bic, p.BIC}, {lb.bank, p.BankName}, {lb.reference, inv.Number}}
	case invoice.MeansDirectDebit:
		kv = [][2]string{{lb.mandate, p.MandateReference}, {lb.creditorID, p.CreditorID}, {lb.debtorIBAN, groupIBAN(p.DebtorIBAN)}}
	case invoice.MeansBankCard, invoice.MeansOnline, invoice.MeansNotDefined: // no account to print
	}
	for _, e := range kv {
		if e[1] == "" {
			continue
		}
		rows = append(rows, row{height: 4.5, cells: []cell{
			r.txt(5, e[0], textStyle{size: 8, color: gray}),
			r.txt(19, e[1], textStyle{size: 8.5}),
		}})
	}
	return rows
}

func (r *Renderer) footer(inv *invoice.Invoice, lb labels) []row {
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
		ids = append(ids, lb.iban+" "+groupIBAN(inv.Payment.IBAN))
	}
	return []row{
		{height: 2, rule: 0.2},
		{height: 3.5, cells: []cell{r.txt(grid, strings.Join(legal, " · "), textStyle{size: 6.5, color: gray})}},
		{height: 3.5, cells: []cell{r.txt(grid, strings.Join(ids, " · "), textStyle{size: 6.5, color: gray})}},
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

// groupIBAN writes an IBAN in groups of four characters, as it is printed for people to
// read and type (ISO 13616's paper format: DE89 3704 0044 0532 0130 00); the XML keeps the
// electronic format, without spaces.
func groupIBAN(iban string) string {
	var b strings.Builder
	for i, r := range iban {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
