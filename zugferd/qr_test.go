package zugferd_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/zugferd"
	"github.com/kontor-billing/kontor/zugferd/zugferdtest"
)

// TestQRCodeScans renders the last page of every document, which holds the payment
// details, to an image (pdftoppm, at 100 dpi, coarser than a scan of a printed page) and
// reads it with a real QR decoder (zbarimg). A EUR invoice paid by SEPA credit transfer
// with an amount due carries one EPC QR code, whose IBAN, amount and reference are those
// of its XML (BT-84, BT-115, BT-1); every other document carries none.
func TestQRCodeScans(t *testing.T) {
	pdftoppm := zugferdtest.Tool(t, "pdftoppm", "poppler-utils")
	zbarimg := zugferdtest.Tool(t, "zbarimg", "zbar-tools")
	dir := t.TempDir()
	withCode := 0
	for name, inv := range documents(t) {
		r := render(t, inv)
		pdf := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(pdf, r.pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		img := filepath.Join(dir, name)
		last := strconv.Itoa(bytes.Count(r.pdf, []byte("/Type /Page ")))
		if out, err := exec.Command(pdftoppm, "-r", "100", "-f", last, "-l", last, "-singlefile", "-png", pdf, img).CombinedOutput(); err != nil {
			t.Fatalf("%s: pdftoppm: %v\n%s", name, err, out)
		}
		out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", img+".png").Output()
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 4 {
			err = nil // no code on the page
		}
		_, want := zugferd.EPCPayload(inv)
		switch {
		case err != nil:
			t.Fatalf("%s: zbarimg: %v", name, err)
		case len(out) == 0:
			if want {
				t.Errorf("%s: no QR code found; it is paid by transfer in EUR", name)
			}
			continue
		case !want:
			t.Errorf("%s: a QR code on a document that should have none:\n%s", name, out)
			continue
		}
		withCode++
		if n := strings.Count(string(out), "BCD\n"); n != 1 {
			t.Errorf("%s: %d QR codes, want 1", name, n)
		}
		checkEPC(t, name, strings.TrimSuffix(string(out), "\n"), string(r.xml))
	}
	if withCode == 0 {
		t.Fatal("no document with a QR code")
	}
	t.Logf("%d QR codes read back and matched their XML", withCode)
}

// checkEPC compares a decoded EPC QR payload with the invoice's XML.
func checkEPC(t *testing.T, name, payload, xml string) {
	t.Helper()
	f := strings.Split(payload, "\n")
	if len(f) < 11 || f[0] != "BCD" || f[1] != "002" || f[2] != "1" || f[3] != "SCT" {
		t.Errorf("%s: not an EPC QR code (version 002, UTF-8, SCT): %q", name, payload)
		return
	}
	field := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(xml)
		if m == nil {
			t.Fatalf("%s: %s not in the XML", name, re)
		}
		return m[1]
	}
	iban := field(`<ram:PayeePartyCreditorFinancialAccount>\s*<ram:IBANID>([^<]+)</ram:IBANID>`)
	due := field(`<ram:DuePayableAmount>([^<]+)</ram:DuePayableAmount>`)
	number := field(`<rsm:ExchangedDocument>\s*<ram:ID>([^<]+)</ram:ID>`)
	for _, c := range []struct{ what, got, want string }{
		{"IBAN", f[6], iban}, {"amount", f[7], "EUR" + due}, {"reference", f[10], number},
	} {
		if c.got != c.want {
			t.Errorf("%s: QR code %s %q, XML %q", name, c.what, c.got, c.want)
		}
	}
}

// TestLongInvoicePaginates renders a partner's invoice of 300 lines and reads each page's
// text (pdftotext): every page carries the table header while lines run on, "Seite i von
// n" and the footer; the totals stand on the page of the last line.
func TestLongInvoicePaginates(t *testing.T) {
	pdftotext := zugferdtest.Tool(t, "pdftotext", "poppler-utils")
	inv := documents(t)["partner-300-lines"]
	pdf := filepath.Join(t.TempDir(), "long.pdf")
	if err := os.WriteFile(pdf, render(t, inv).pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	lb := map[string][3]string{"de": {"Einzelpreis", "Seite %d von %d", "Summe netto"}, "en": {"Unit price", "Page %d of %d", "Total net"}}[inv.Language]
	last := inv.Lines[len(inv.Lines)-1]
	pages, totals := 0, 0
	for p := 1; ; p++ {
		out, err := exec.Command(pdftotext, "-f", strconv.Itoa(p), "-l", strconv.Itoa(p), "-layout", pdf, "-").CombinedOutput()
		if err != nil && p > 1 {
			break // past the last page
		}
		if err != nil {
			t.Fatalf("pdftotext page %d: %v\n%s", p, err, out)
		}
		text := string(out)
		switch {
		case strings.Contains(text, lb[2]):
			if !regexp.MustCompile(`(?m)^\s*` + last.ID + `\s+` + regexp.QuoteMeta(last.Name)).MatchString(text) {
				t.Errorf("page %d has the totals but not the last line %s %q:\n%s", p, last.ID, last.Name, text)
			}
			totals = p
		case totals > 0: // the payment details after the totals
		case !strings.Contains(text, lb[0]):
			t.Errorf("page %d: no table header (%q):\n%s", p, lb[0], text)
		}
		if !strings.Contains(text, inv.Seller.TaxNumber) {
			t.Errorf("page %d: no footer", p)
		}
		pages = p
	}
	if pages < 5 || totals == 0 {
		t.Fatalf("%d pages for 300 lines, the totals on page %d", pages, totals)
	}
	for p := 1; p <= pages; p++ {
		out, _ := exec.Command(pdftotext, "-f", strconv.Itoa(p), "-l", strconv.Itoa(p), pdf, "-").Output()
		if want := fmt.Sprintf(lb[1], p, pages); !strings.Contains(string(out), want) {
			t.Errorf("page %d: %q missing", p, want)
		}
	}
	t.Logf("300 lines on %d pages", pages)
}
