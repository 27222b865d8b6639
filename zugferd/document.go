package zugferd

// The invoice and credit-note layouts as maroto documents: rows of columns holding text,
// line, image and QR code components. Renderer.PDF renders them through kontor's PDF/A-3
// provider (provider.go) and paginator (layout.go); the benchmarks render the same rows
// through maroto's own gofpdf provider.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/johnfercher/maroto/v2/pkg/components/code"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/image"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	mrow "github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/extension"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/pagesize"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
)

var (
	mGray      = &props.Color{Red: 110, Green: 110, Blue: 110}
	mLightGray = &props.Color{Red: 238, Green: 240, Blue: 243}
	mWhite     = &props.Color{Red: 255, Green: 255, Blue: 255}
	// defaultAccent is the accent colour of a seller that names none.
	defaultAccent = &props.Color{Red: 24, Green: 62, Blue: 110}
)

// marotoBuilder configures the page the layouts are built for: A4 with the layout's
// margins, a grid of 24 columns, DejaVu Sans at 9 pt.
func marotoBuilder() config.Builder {
	return config.NewBuilder().
		WithPageSize(pagesize.A4).
		WithMaxGridSize(grid).
		WithLeftMargin(marginL).WithRightMargin(marginR).WithTopMargin(marginT).WithBottomMargin(margB).
		WithDefaultFont(&props.Font{Family: fontFamily, Size: 9})
}

func marotoConfig() *entity.Config { return marotoBuilder().Build() }

// page is one document's layout: the invoice, its labels in the buyer's language, the
// seller's accent colour and logo.
type page struct {
	r      *Renderer
	inv    *invoice.Invoice
	lb     labels
	accent *props.Color
	logo   []byte
}

// sheet lays inv out: the header, the line table (its header row repeated on every page it
// continues on), the totals kept with the last line, the payment block and the footer.
func (r *Renderer) sheet(inv *invoice.Invoice, lb labels) (sheet, error) {
	pg := page{r: r, inv: inv, lb: lb, accent: accentOf(inv.Letterhead.AccentColor)}
	if id := inv.Letterhead.Logo; id != "" {
		var ok bool
		if pg.logo, ok = r.logo(id); !ok {
			return sheet{}, fmt.Errorf("logo %s: not given to the renderer (Renderer.AddLogo)", id)
		}
	}
	bands := append([]band{{rows: pg.header()}}, pg.lineTable()...)
	last := &bands[len(bands)-1]
	last.rows = append(last.rows, pg.totals()...)
	bands = append(bands, band{rows: pg.paymentRows()})
	return sheet{bands: bands, footer: pg.footer(), pageNumber: lb.page}, nil
}

// accentOf parses a colour "#RRGGBB" (the dataset checked it); the default for "".
func accentOf(hex string) *props.Color {
	var c [3]int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &c[0], &c[1], &c[2]); err != nil {
		return defaultAccent
	}
	return &props.Color{Red: c[0], Green: c[1], Blue: c[2]}
}

// imageType is the type of a PNG or JPEG image, for maroto's image components.
func imageType(data []byte) extension.Type {
	if len(data) > 1 && data[0] == 0xFF && data[1] == 0xD8 {
		return extension.Jpg
	}
	return extension.Png
}

func (r *Renderer) txt(s string, p props.Text) core.Component {
	if p.Family == "" {
		p.Family = fontFamily
	}
	return text.New(r.printable(s), p)
}

func (pg page) txt(s string, p props.Text) core.Component { return pg.r.txt(s, p) }

// title is the document's title: an invoice, or a correction of one (a credit note, 381;
// not "Gutschrift", which in German VAT law is a self-billed invoice, §14 Abs. 2 UStG).
func (pg page) title() string {
	t := pg.lb.invoice
	if pg.inv.TypeCode == invoice.CreditNote {
		t = pg.lb.creditNote
	}
	if strings.HasPrefix(pg.inv.Number, "DRAFT") {
		t += " (" + pg.lb.draft + ")"
	}
	return t
}

// header is the letterhead (logo, seller, title), the seller's address line, the buyer's
// address and the document's details beside it.
func (pg page) header() []core.Row {
	s := pg.inv.Seller
	big := props.Text{Size: 14, Style: fontstyle.Bold, Color: pg.accent, Top: 3}
	title := big
	title.Align = align.Right
	top := mrow.New(16).Add(col.New(14).Add(pg.txt(s.Name, big)), col.New(10).Add(pg.txt(pg.title(), title)))
	if pg.logo != nil {
		big.Left = 2
		top = mrow.New(16).Add(
			col.New(2).Add(image.NewFromBytes(pg.logo, imageType(pg.logo), props.Rect{Percent: 100})),
			col.New(13).Add(pg.txt(s.Name, big)),
			col.New(9).Add(pg.txt(pg.title(), title)))
	}
	sellerLine := strings.Join(nonEmpty(s.Name, s.Address.Street, s.Address.Postcode+" "+s.Address.City), " · ")
	rows := []core.Row{
		top,
		mrow.New(5).Add(col.New(grid).Add(pg.txt(strings.Join(nonEmpty(s.Email, s.Phone), " · "), props.Text{Size: 8, Color: mGray}))),
		mrow.New(6),
		mrow.New(4).Add(col.New(14).Add(pg.txt(sellerLine, props.Text{Size: 6.5, Color: mGray}))),
	}
	addr, meta := pg.buyerAddress(), pg.details()
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
			col.New(13).Add(pg.txt(left, props.Text{Size: 9.5, Style: style})),
			col.New(5).Add(pg.txt(k, props.Text{Size: 8, Color: mGray})),
			col.New(6).Add(pg.txt(v, props.Text{Size: 8.5, Align: align.Right})),
		))
	}
	return append(rows, mrow.New(8))
}

// buyerAddress is the buyer's postal address, its country by name in the buyer's
// language unless it is the seller's, and its VAT ID.
func (pg page) buyerAddress() []string {
	b, lang := pg.inv.Buyer, pg.inv.Language
	country := ""
	if b.Address.Country != pg.inv.Seller.Address.Country {
		country = countryName(b.Address.Country, lang)
	}
	addr := nonEmpty(b.Name, b.Address.Street, b.Address.Street2, strings.TrimSpace(b.Address.Postcode+" "+b.Address.City), country)
	if b.VATID != "" {
		addr = append(addr, pg.lb.vatID+" "+b.VATID)
	}
	return addr
}

// details are the document's number, dates, the buyer's numbers and the period; a
// correction's name the invoice it corrects instead of a due date.
func (pg page) details() [][2]string {
	inv, lb, lang := pg.inv, pg.lb, pg.inv.Language
	meta := [][2]string{{lb.number, inv.Number}, {lb.date, dateText(inv.IssueDate, lang)}}
	if inv.TypeCode == invoice.CreditNote {
		meta = [][2]string{{lb.correctionNumber, inv.Number}, {lb.correctionDate, dateText(inv.IssueDate, lang)},
			{lb.corrects, inv.Preceding}, {lb.correctsDate, dateText(inv.PrecedingDate, lang)}}
	} else {
		meta = append(meta, [2]string{lb.due, dateText(inv.DueDate, lang)})
	}
	meta = append(meta, [2]string{lb.customer, inv.BuyerID})
	if id := inv.Buyer.MicrosoftPartnerID; id != "" {
		meta = append(meta, [2]string{lb.partnerID, id})
	}
	return append(meta, [2]string{lb.period, periodText(inv.Period, lang)})
}

// lineTable lays out the line table: its header row, then a band per line (with its note);
// on a partner's invoice the lines grouped by end customer, each group under a heading that
// names the customer and tenant once and closed by its subtotal.
func (pg page) lineTable() []band {
	inv := pg.inv
	hdr := pg.tableHeader()
	var bands []band
	partner := inv.BuyerKind == invoice.PartnerBuyer
	for i, l := range inv.Lines {
		var rows []core.Row
		note := l.Note
		if partner {
			endNote := l.EndCustomer.Note(inv.Language)
			note = strings.TrimPrefix(strings.TrimPrefix(note, endNote), "; ")
			if i == 0 || inv.Lines[i-1].EndCustomer.ID != l.EndCustomer.ID {
				rows = append(rows, mrow.New().Add(col.New(grid).Add(pg.txt(endNote,
					props.Text{Size: 8, Style: fontstyle.Bold, Top: 2, Bottom: 1, Left: 1, Color: pg.accent}))))
			}
		}
		rows = append(rows, pg.lineRows(l, note, i%2 == 1)...)
		if partner && (i == len(inv.Lines)-1 || inv.Lines[i+1].EndCustomer.ID != l.EndCustomer.ID) {
			rows = append(rows, pg.subtotal(l.EndCustomer.ID))
		}
		bands = append(bands, band{rows: rows, head: []core.Row{hdr}})
	}
	if len(bands) == 0 {
		bands = append(bands, band{})
	}
	bands[0].rows = append([]core.Row{hdr}, bands[0].rows...)
	bands[0].head = nil
	return bands
}

// lineCols are the grid widths of the line table: no., description, period, quantity,
// unit price, net.
var lineCols = [6]int{2, 7, 6, 3, 3, 3}

func (pg page) tableHeader() core.Row {
	lb := pg.lb
	head := []string{lb.pos, lb.item, lb.servicePeriod, lb.qty, lb.unitPrice, lb.net}
	hdr := mrow.New(7)
	for i, h := range head {
		p := props.Text{Size: 8, Style: fontstyle.Bold, Align: align.Left, Top: 1.5, Left: 1, Right: 1, Color: mWhite}
		if i >= 3 {
			p.Align = align.Right
		}
		hdr.Add(col.New(lineCols[i]).Add(pg.txt(h, p)))
	}
	return hdr.WithStyle(&props.Cell{BackgroundColor: pg.accent})
}

// lineRows are a line's row and, when it has one, its note's row; shaded when odd.
func (pg page) lineRows(l invoice.Line, note string, odd bool) []core.Row {
	lang := pg.inv.Language
	cells := []string{l.ID, l.Name, periodText(l.Period, lang), number(l.Quantity, 0, lang) + " " + unitName(l.UnitCode, lang),
		number(l.UnitPrice, 2, lang), number(l.Net, 2, lang)}
	rw := mrow.New()
	for j, c := range cells {
		a := align.Left
		if j >= 3 {
			a = align.Right
		}
		rw.Add(col.New(lineCols[j]).Add(pg.txt(c, props.Text{Size: 8, Align: a, Top: 1.2, Bottom: 0.6, Left: 1, Right: 1})))
	}
	rows := []core.Row{rw}
	if note != "" {
		rows = append(rows, mrow.New().Add(col.New(lineCols[0]),
			col.New(grid-lineCols[0]).Add(pg.txt(note, props.Text{Size: 6.5, Color: mGray, Bottom: 0.8, Left: 1, Right: 1}))))
	}
	if odd {
		for _, b := range rows {
			b.WithStyle(&props.Cell{BackgroundColor: mLightGray})
		}
	}
	return rows
}

// subtotal is the row closing an end customer's group: the sum of its lines' net amounts.
func (pg page) subtotal(endCustomer string) core.Row {
	inv := pg.inv
	sum := decimal.Zero
	for _, l := range inv.Lines {
		if l.EndCustomer.ID == endCustomer {
			sum = sum.Add(l.Net)
		}
	}
	return mrow.New(5.5).Add(
		col.New(8),
		col.New(11).Add(pg.txt(pg.lb.subtotal, props.Text{Size: 8, Style: fontstyle.Bold, Align: align.Right, Top: 1})),
		col.New(5).Add(pg.txt(money(sum, inv), props.Text{Size: 8, Style: fontstyle.Bold, Align: align.Right, Top: 1, Right: 1})),
	)
}

// totals are the rule under the table, the net total, the VAT breakdown, the amount due
// and the document's notes; the exemption reason (BT-120) where no note gives it already.
func (pg page) totals() []core.Row {
	inv, lb, lang := pg.inv, pg.lb, pg.inv.Language
	pair := func(k, v string, bold bool) core.Row {
		st := fontstyle.Normal
		if bold {
			st = fontstyle.Bold
		}
		return mrow.New().Add(
			col.New(8),
			col.New(11).Add(pg.txt(k, props.Text{Size: 9, Style: st, Align: align.Right, Top: 1, Bottom: 0.6})),
			col.New(5).Add(pg.txt(v, props.Text{Size: 9, Style: st, Align: align.Right, Top: 1, Right: 1})),
		)
	}
	rows := []core.Row{mrow.New(3), line.NewRow(1, props.Line{Color: mGray, Thickness: 0.2, SizePercent: 100, OffsetPercent: 50}),
		pair(lb.total, money(inv.Totals.TaxBasis, inv), false)}
	for _, v := range inv.VAT {
		label := fmt.Sprintf("%s %s %% · %s", lb.vat, number(v.Rate, 0, lang), number(v.Basis, 2, lang))
		rows = append(rows, pair(label, money(v.Tax, inv), false))
	}
	rows = append(rows, pair(lb.grand, money(inv.Totals.GrandTotal, inv), true), mrow.New(6))
	for _, v := range inv.VAT {
		if v.ExemptionText != "" && !slices.ContainsFunc(inv.Notes, func(n string) bool { return strings.Contains(n, v.ExemptionText) }) {
			rows = append(rows, mrow.New().Add(col.New(grid).Add(pg.txt(lb.exemption+": "+v.ExemptionText, props.Text{Size: 8, Bottom: 1}))))
		}
	}
	for _, n := range inv.Notes {
		rows = append(rows, mrow.New().Add(col.New(grid).Add(pg.txt(n, props.Text{Size: 8, Bottom: 1}))))
	}
	return append(rows, mrow.New(4))
}

// paymentRows are how to pay: the terms, the account or mandate, and for a SEPA credit
// transfer in euros the EPC QR code a banking app reads the transfer from.
func (pg page) paymentRows() []core.Row {
	inv, lb := pg.inv, pg.lb
	p := inv.Payment
	rows := []core.Row{
		mrow.New(6).Add(col.New(grid).Add(pg.txt(lb.payment, props.Text{Size: 9, Style: fontstyle.Bold, Color: pg.accent}))),
		mrow.New().Add(col.New(grid).Add(pg.txt(p.Terms, props.Text{Size: 8.5, Bottom: 1.5}))),
	}
	var kv [][2]string
	switch p.Code {
	case invoice.MeansCreditTransfer:
		kv = [][2]string{{lb.payee, inv.Seller.Name}, {lb.iban, groupIBAN(p.IBAN)}, {lb.bic, p.BIC}, {lb.bank, p.BankName},
			{lb.amount, money(inv.Totals.DuePayable, inv)}, {lb.reference, inv.Number}}
	case invoice.MeansDirectDebit:
		kv = [][2]string{{lb.mandate, p.MandateReference}, {lb.creditorID, p.CreditorID}, {lb.debtorIBAN, groupIBAN(p.DebtorIBAN)}}
	case invoice.MeansBankCard, invoice.MeansOnline, invoice.MeansNotDefined: // no account to print
	}
	var labels, values []core.Component
	for _, e := range kv {
		if e[1] == "" {
			continue
		}
		top := 4.5 * float64(len(labels))
		labels = append(labels, pg.txt(e[0], props.Text{Size: 8, Color: mGray, Top: top}))
		values = append(values, pg.txt(e[1], props.Text{Size: 8.5, Top: top}))
	}
	if len(labels) == 0 {
		return rows
	}
	details := []core.Col{col.New(5).Add(labels...), col.New(11).Add(values...)}
	if payload, ok := EPCPayload(inv); ok {
		// The code beside the details, 31 mm square, with a caption under it.
		details = append(details, col.New(8).Add(code.NewQr(payload, props.Rect{Percent: 84, Center: true}),
			pg.txt(lb.scanToPay, props.Text{Size: 6.5, Color: mGray, Align: align.Center, Top: 34})))
		return append(rows, mrow.New(37).Add(details...))
	}
	return append(rows, mrow.New().Add(details...))
}

// footer is the seller's legal and bank details on every page: name, address and seat,
// register entry and managing directors (§35a GmbHG, §37a HGB), VAT ID and tax number,
// bank and IBAN. Absent fields are left out.
func (pg page) footer() []core.Row {
	s, lh, lb := pg.inv.Seller, pg.inv.Letterhead, pg.lb
	legal := []string{s.Name, s.Address.Street + ", " + s.Address.Postcode + " " + s.Address.City}
	if lh.Seat != "" {
		legal = append(legal, lb.seat+" "+lh.Seat)
	}
	if lh.RegisterNumber != "" {
		legal = append(legal, lh.RegisterCourt+", "+lh.RegisterNumber)
	}
	if len(lh.ManagingDirectors) > 0 {
		legal = append(legal, lb.directors+": "+strings.Join(lh.ManagingDirectors, ", "))
	}
	var ids []string
	if s.VATID != "" {
		ids = append(ids, lb.vatID+" "+s.VATID)
	}
	if s.TaxNumber != "" {
		ids = append(ids, lb.taxNumber+" "+s.TaxNumber)
	}
	if p := pg.inv.Payment; p.IBAN != "" {
		ids = append(ids, strings.Join(nonEmpty(p.BankName, lb.iban+" "+groupIBAN(p.IBAN), lb.bic+" "+p.BIC), " · "))
	}
	foot := props.Text{Size: 6.5, Color: mGray}
	return []core.Row{
		line.NewRow(2, props.Line{Color: mGray, Thickness: 0.2, SizePercent: 100, OffsetPercent: 50}),
		mrow.New().Add(col.New(grid).Add(pg.txt(strings.Join(legal, " · "), foot))),
		mrow.New().Add(col.New(grid).Add(pg.txt(strings.Join(ids, " · "), foot))),
	}
}
