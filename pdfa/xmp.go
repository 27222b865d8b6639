package pdfa

import (
	"bytes"
	"encoding/xml"
	"time"
)

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// xmpPacket is the document's XMP metadata: PDF/A-3 identification (part 3, conformance
// B), Dublin Core, PDF and XMP basic properties mirroring the document information
// dictionary, and opt.XMPExtension.
func xmpPacket(opt Options) []byte {
	date := opt.Date.UTC().Format(time.RFC3339)
	var b bytes.Buffer
	b.WriteString("<?xpacket begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString(`<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>3</pdfaid:part>
<pdfaid:conformance>B</pdfaid:conformance>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">` + esc(opt.Title) + `</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>` + esc(opt.Author) + `</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">` + esc(opt.Subject) + `</rdf:li></rdf:Alt></dc:description>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdf:Producer>` + esc(opt.Producer) + `</pdf:Producer>
<pdf:Keywords>` + esc(opt.Keywords) + `</pdf:Keywords>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<xmp:CreatorTool>` + esc(opt.Creator) + `</xmp:CreatorTool>
<xmp:CreateDate>` + date + `</xmp:CreateDate>
<xmp:ModifyDate>` + date + `</xmp:ModifyDate>
<xmp:MetadataDate>` + date + `</xmp:MetadataDate>
</rdf:Description>
`)
	b.WriteString(opt.XMPExtension)
	b.WriteString("</rdf:RDF>\n</x:xmpmeta>\n")
	// Padding lets an editor update the packet in place, as XMP recommends.
	for range 20 {
		b.WriteString("                                                                                                    \n")
	}
	b.WriteString(`<?xpacket end="w"?>`)
	return b.Bytes()
}
