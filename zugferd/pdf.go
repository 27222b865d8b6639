package zugferd

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2/pkg/core/entity"
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
	cfg           *entity.Config // the maroto configuration the layouts' rows are built for
	images        imageCache
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
	return &Renderer{regular: regular, bold: bold, intent: intent, cfg: marotoConfig(), Producer: "kontor"}, nil
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

// PDF renders inv as a Factur-X / ZUGFeRD PDF/A-3b document that embeds xml (the CII of
// inv, from XML) as factur-x.xml with AFRelationship Alternative.
func (r *Renderer) PDF(inv *invoice.Invoice, xml []byte) ([]byte, error) {
	lb := labelsFor(inv.Language)
	title := lb.invoice
	docType := "INVOICE"
	if inv.TypeCode == invoice.CreditNote {
		title = lb.creditNote
	}
	sh, err := r.sheet(inv, lb)
	if err != nil {
		return nil, fmt.Errorf("invoice %s: layout: %w", inv.Number, err)
	}
	doc, err := r.layout(sh)
	if err != nil {
		return nil, fmt.Errorf("invoice %s: layout: %w", inv.Number, err)
	}
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

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
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
