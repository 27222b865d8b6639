package zugferd_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/pdfa/pdfatest"
	"github.com/kontor-billing/kontor/zugferd"
	"github.com/kontor-billing/kontor/zugferd/zugferdtest"
)

var (
	rendererOnce sync.Once
	renderer     *zugferd.Renderer
	rendererErr  error
)

func newRenderer(t testing.TB) *zugferd.Renderer {
	t.Helper()
	rendererOnce.Do(func() { renderer, rendererErr = zugferd.NewRenderer() })
	if rendererErr != nil {
		t.Fatal(rendererErr)
	}
	return renderer
}

// documents returns every invoice and credit note of the demo and the scenarios.
func documents(t testing.TB) map[string]*invoice.Invoice {
	t.Helper()
	dirs, _ := filepath.Glob("../fixtures/scenarios/*")
	dirs = append(dirs, "../fixtures/demo")
	docs := map[string]*invoice.Invoice{}
	for _, dir := range dirs {
		ds, err := dataset.LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := jobs.RunPreview(ds, ds.Manifest.AsOf)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Seller.Logo) > 0 {
			if err := newRenderer(t).AddLogo(ds.Seller.Logo); err != nil {
				t.Fatal(err)
			}
		}
		for _, inv := range p.Batch.Invoices {
			docs[filepath.Base(dir)+"-"+inv.Number] = inv
		}
	}
	if len(docs) < 35 {
		t.Fatalf("only %d documents", len(docs))
	}
	docs["partner-300-lines"] = longPartnerInvoice(t, docs["multi-page-DRAFT-0001"], 300)
	return docs
}

// longPartnerInvoice is a partner's invoice of n lines: the multi-page scenario's lines
// repeated for further end customers, numbered through, its totals computed anew.
func longPartnerInvoice(t testing.TB, base *invoice.Invoice, n int) *invoice.Invoice {
	t.Helper()
	if base == nil || base.BuyerKind != invoice.PartnerBuyer || len(base.VAT) != 1 {
		t.Fatal("the multi-page scenario no longer has a partner invoice with one VAT rate")
	}
	inv := *base
	inv.Number = "DRAFT-0300"
	inv.Lines = nil
	for i := 0; len(inv.Lines) < n; i++ {
		l := base.Lines[i%len(base.Lines)]
		if copyNo := i / len(base.Lines); copyNo > 0 {
			l.EndCustomer.ID = fmt.Sprintf("%s-%d", l.EndCustomer.ID, copyNo)
			l.EndCustomer.Name = fmt.Sprintf("%s %d", l.EndCustomer.Name, copyNo)
			l.Note = l.EndCustomer.Note(inv.Language)
		}
		l.ID = strconv.Itoa(len(inv.Lines) + 1)
		inv.Lines = append(inv.Lines, l)
	}
	v := base.VAT[0]
	inv.VAT, inv.Totals = invoice.Totalize(inv.Lines, invoice.VATRule{Category: v.Category, Rate: v.Rate,
		ExemptionCode: v.ExemptionCode, ExemptionText: v.ExemptionText})
	return &inv
}

// hostile returns invoices whose texts are what users type: XML specials, right-to-left
// scripts, emoji, combining marks, very long strings.
func hostile(t testing.TB) map[string]*invoice.Invoice {
	t.Helper()
	var base *invoice.Invoice
	for name, inv := range documents(t) {
		if strings.HasPrefix(name, "domestic-19-") {
			base = inv
		}
	}
	texts := map[string]string{
		"specials": `Müller & Söhne <GmbH> "Quote" 'Apos' ]]> &amp; ]]&gt;`,
		"rtl":      "שלום עולם · مرحبا بالعالم · Ελλάδα · Łódź",
		"emoji":    "Café ☕ 🚀 Team 👩‍💻 e\u0301 \u200d",
		"long":     strings.Repeat("Sehr lange Firmenbezeichnung mit Zusatz ", 40) + strings.Repeat("X", 500),
		"cjk":      "株式会社テスト 北京",
	}
	out := map[string]*invoice.Invoice{}
	for name, s := range texts {
		inv := *base
		inv.Number = "HOSTILE-" + strings.ToUpper(name)
		inv.Buyer.Name, inv.Buyer.Address.Street, inv.Buyer.Address.City = s, s, s
		inv.Lines = append([]invoice.Line(nil), base.Lines...)
		inv.Lines[0].Name, inv.Lines[0].Note = s, s
		inv.Notes = []string{s}
		out[name] = &inv
	}
	return out
}

type rendered struct{ xml, pdf []byte }

func render(t testing.TB, inv *invoice.Invoice) rendered {
	t.Helper()
	x, err := zugferd.XML(inv)
	if err != nil {
		t.Fatalf("%s: %v", inv.Number, err)
	}
	p, err := newRenderer(t).PDF(inv, x)
	if err != nil {
		t.Fatalf("%s: %v", inv.Number, err)
	}
	return rendered{x, p}
}

func TestRenderingIsDeterministic(t *testing.T) {
	for name, inv := range documents(t) {
		a, b := render(t, inv), render(t, inv)
		if !bytes.Equal(a.xml, b.xml) || !bytes.Equal(a.pdf, b.pdf) {
			t.Errorf("%s: two renderings differ", name)
		}
	}
}

func TestEmbeddedXMLEqualsStandalone(t *testing.T) {
	docs := documents(t)
	for name, inv := range hostile(t) {
		docs["hostile-"+name] = inv
	}
	for name, inv := range docs {
		r := render(t, inv)
		got, err := pdfatest.Attached(r.pdf, zugferd.AttachmentName)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, r.xml) {
			t.Errorf("%s: the XML in the PDF differs from the standalone XML", name)
		}
		if !bytes.HasPrefix(r.pdf, []byte("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")) {
			t.Errorf("%s: header is not PDF 1.7 with a binary comment", name)
		}
	}
	// Cross-check one document with poppler's pdfdetach, an independent reader.
	if _, err := exec.LookPath("pdfdetach"); err == nil {
		inv := docs["demo-DRAFT-0001"]
		r := render(t, inv)
		dir := t.TempDir()
		pdf := filepath.Join(dir, "a.pdf")
		os.WriteFile(pdf, r.pdf, 0o644)
		out := filepath.Join(dir, "out.xml")
		if b, err := exec.Command("pdfdetach", "-savefile", zugferd.AttachmentName, "-o", out, pdf).CombinedOutput(); err != nil {
			t.Fatalf("pdfdetach: %v %s", err, b)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, r.xml) {
			t.Error("pdfdetach extracts other bytes than the standalone XML")
		}
	}
}

func TestXMLRefusesWhatXMLCannotCarry(t *testing.T) {
	var base *invoice.Invoice
	for _, inv := range hostile(t) {
		base = inv
		break
	}
	for _, s := range []string{"bell\a", "nul\x00", "cr\r", "bad utf-8 \xff", "noncharacter \uFFFE"} {
		inv := *base
		inv.Buyer.Name = s
		_, err := zugferd.XML(&inv)
		var ite *zugferd.InvalidTextError
		if !errors.As(err, &ite) || ite.Field != "buyer name" {
			t.Errorf("%q: err = %v, want an InvalidTextError for the buyer name", s, err)
		}
	}
}

// wellFormed reports whether b parses as XML to the end.
func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Müller & Söhne <GmbH>", "Hauptstraße 1", "Print Agent ]]> \"x\"")
	f.Add("שלום", "مرحبا", "🚀👩‍💻")
	f.Add("\x00\x01", "\r\n\t", "\xff\xfe")
	f.Add(strings.Repeat("W", 3000), "", "e\u0301\u200d\uFEFF")
	docs := documents(f)
	base := docs["domestic-19-DRAFT-0001"]
	r := newRenderer(f)
	f.Fuzz(func(t *testing.T, name, street, item string) {
		inv := *base
		inv.Buyer.Name, inv.Buyer.Address.Street = name, street
		inv.Lines = append([]invoice.Line(nil), base.Lines...)
		inv.Lines[0].Name, inv.Lines[0].Note = item, item
		x, err := zugferd.XML(&inv)
		if err != nil {
			var ite *zugferd.InvalidTextError
			if !errors.As(err, &ite) {
				t.Fatalf("XML failed without a clear error: %v", err)
			}
			return
		}
		if err := wellFormed(x); err != nil {
			t.Fatalf("XML not well-formed: %v\n%s", err, x)
		}
		p, err := r.PDF(&inv, x)
		if err != nil {
			t.Fatalf("PDF: %v", err)
		}
		got, err := pdfatest.Attached(p, zugferd.AttachmentName)
		if err != nil || !bytes.Equal(got, x) {
			t.Fatalf("embedded XML differs: %v", err)
		}
	})
}

var verdict = regexp.MustCompile(`(?m)^(VALID|INVALID)\s+(\S+).*\((\d+) error\(s\), (\d+) warning\(s\)\)`)

// TestOfficialValidators runs every document the project produces in its fixtures, and
// the hostile texts, through the shared validate-cii and validate-facturx-pdf.
func TestOfficialValidators(t *testing.T) {
	kit := zugferdtest.Kit(t)
	dir := t.TempDir()
	docs := documents(t)
	for name, inv := range hostile(t) {
		docs["hostile-"+name] = inv
	}
	var xmls, pdfs []string
	for name, inv := range docs {
		r := render(t, inv)
		x, p := filepath.Join(dir, name+".xml"), filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(x, r.xml, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, r.pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		xmls, pdfs = append(xmls, x), append(pdfs, p)
	}
	out, err := exec.Command(filepath.Join(kit, "validate-cii"), append([]string{"-q"}, xmls...)...).CombinedOutput()
	if err != nil {
		t.Errorf("validate-cii: %v\n%s", err, tail(out))
	}
	got := verdict.FindAllSubmatch(out, -1)
	if len(got) != len(xmls) {
		t.Fatalf("validate-cii reported %d verdicts for %d files:\n%s", len(got), len(xmls), tail(out))
	}
	var bad []string
	for _, v := range got {
		if string(v[1]) != "VALID" || string(v[3]) != "0" || string(v[4]) != "0" {
			bad = append(bad, string(v[2]))
		}
	}
	if len(bad) > 0 {
		detail, _ := exec.Command(filepath.Join(kit, "validate-cii"), bad...).CombinedOutput()
		t.Errorf("validate-cii: %d of %d files with errors or warnings:\n%s", len(bad), len(xmls), tail(detail))
	}
	out, err = exec.Command(filepath.Join(kit, "validate-facturx-pdf"), pdfs...).CombinedOutput()
	if err != nil {
		t.Errorf("validate-facturx-pdf: %v\n%s", err, tail(out))
	}
	if n := bytes.Count(out, []byte("=> PASS")); n != len(pdfs) {
		t.Errorf("validate-facturx-pdf passed %d of %d PDFs:\n%s", n, len(pdfs), tail(out))
	}
	for _, l := range bytes.Split(out, []byte("\n")) {
		if bytes.Contains(l, []byte("[WARN]")) || bytes.Contains(l, []byte("[FAIL]")) {
			t.Errorf("validate-facturx-pdf: %s", l)
		}
	}
	t.Logf("%d XML and %d PDF documents passed the official validators with no warning", len(xmls), len(pdfs))
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// BenchmarkRender renders one typical one-page invoice, XML and PDF/A-3.
func BenchmarkRender(b *testing.B) {
	inv := documents(b)["demo-DRAFT-0001"]
	r := newRenderer(b)
	b.ReportAllocs()
	for b.Loop() {
		x, err := zugferd.XML(inv)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.PDF(inv, x); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRendererIsSafeForConcurrentUse(t *testing.T) {
	docs := documents(t)
	var invs []*invoice.Invoice
	for _, name := range []string{"demo-DRAFT-0001", "demo-DRAFT-0013", "multi-page-DRAFT-0001", "non-eu-o-DRAFT-0001"} {
		invs = append(invs, docs[name])
	}
	want := make([][]byte, len(invs))
	for i, inv := range invs {
		want[i] = render(t, inv).pdf
	}
	var wg sync.WaitGroup
	got := make([][]byte, len(invs)*3)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inv := invs[i%len(invs)]
			x, err := zugferd.XML(inv)
			if err != nil {
				t.Error(err)
				return
			}
			got[i], err = newRenderer(t).PDF(inv, x)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range got {
		if !bytes.Equal(got[i], want[i%len(invs)]) {
			t.Errorf("concurrent rendering %d differs from sequential rendering", i)
		}
	}
}

// BenchmarkLayoutOnly renders the same invoice as BenchmarkRender with plain maroto and its
// embedded UTF-8 font: no XML, no PDF/A-3 finishing. The ratio of the two is kontor's
// rendering cost against a naive maroto render.
func BenchmarkLayoutOnly(b *testing.B) {
	inv := documents(b)["demo-DRAFT-0001"]
	r := newRenderer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := zugferd.Layout(r, inv); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPDFShowsTheInvoice extracts the text of every rendered document, as a reader's PDF
// viewer would (pdftotext), and finds the document number, the customer number and the
// amount due in it.
func TestPDFShowsTheInvoice(t *testing.T) {
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("SKIP: pdftotext (poppler-utils) is not installed; `make deps` installs it")
	}
	dir := t.TempDir()
	digits := strings.NewReplacer(".", "", ",", "")
	for name, inv := range documents(t) {
		path := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(path, render(t, inv).pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "-layout", path, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: pdftotext: %v\n%s", name, err, out)
		}
		text := string(out)
		for _, want := range []string{inv.Number, inv.BuyerID} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: %q not in the PDF's text", name, want)
			}
		}
		due := digits.Replace(inv.Totals.DuePayable.StringFixed(2)) + " " + inv.Currency
		if !strings.Contains(digits.Replace(text), due) {
			t.Errorf("%s: amount due %s not in the PDF's text:\n%s", name, due, text)
		}
		checkLegalTexts(t, name, inv, strings.Join(strings.Fields(text), " "))
	}
}

// checkLegalTexts finds what the law asks of the document in its text: the demo seller's
// register entry and managing directors (§35a GmbHG), the exemption reason in the buyer's
// language, and a correction titled as one, never "Gutschrift" (a self-billed invoice).
func checkLegalTexts(t *testing.T, name string, inv *invoice.Invoice, text string) {
	t.Helper()
	var want, unwanted []string
	german := inv.Language == "de"
	if strings.HasPrefix(name, "demo-") {
		seat := "Registered office: Berlin"
		if german {
			seat = "Sitz: Berlin"
		}
		want = append(want, "Amtsgericht Charlottenburg, HRB 123456 B", "Dr. Anna Lindqvist, Jonas Petersen", seat)
	}
	exempt := map[invoice.VATCategory][2]string{
		invoice.ReverseCharge:   {"Steuerschuldnerschaft des Leistungsempfängers", "Reverse charge"},
		invoice.NotSubjectToVAT: {"Nicht im Inland steuerbare Leistung", "Not subject to VAT"},
	}[inv.VAT[0].Category]
	switch {
	case exempt[0] == "":
	case german:
		want, unwanted = append(want, exempt[0]), append(unwanted, exempt[1])
	default:
		want = append(want, exempt[1])
	}
	if inv.TypeCode == invoice.CreditNote {
		if german {
			want, unwanted = append(want, "Rechnungskorrektur", "Korrektur zu Rechnung "+inv.Preceding), append(unwanted, "Gutschrift")
		} else {
			want = append(want, "Credit note", "Corrects invoice "+inv.Preceding)
		}
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: %q not in the PDF's text:\n%s", name, w, text)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(text, u) {
			t.Errorf("%s: %q in the PDF's text of a German document", name, u)
		}
	}
}
