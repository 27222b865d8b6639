package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/kontor-billing/kontor/report/reporttest"
	"github.com/kontor-billing/kontor/zugferd/zugferdtest"
)

var screenshots = flag.Bool("screenshots", false, "write the console's screenshots into docs/ (review them before committing)")

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs an action that returns a value.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*screenshots {
		return
	}
	png := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join("..", "docs", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func signIn(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	do(t, ctx, "sign in "+name,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("password"), passwords[name]),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("runs")))
}

// TestBrowserFinanceClosesAPeriod: in real headless Chromium a finance user signs in,
// opens the last run's report, dry-runs the next period, starts the run after confirming,
// watches it finish and downloads an invoice PDF, which passes the official validators.
// A viewer then sees the pages without anything that changes them, and a POST forged
// from the viewer's session is refused.
func TestBrowserFinanceClosesAPeriod(t *testing.T) {
	e := setup(t)
	ctx := reporttest.Browser(t)
	signIn(t, ctx, e.url, "fin")
	shot(t, ctx, "console-runs.png")
	do(t, ctx, "open the last run's report",
		chromedp.Click(chromedp.CSS(`tr[data-run="1"] a.report`)),
		chromedp.WaitVisible(chromedp.CSS("svg")))
	if title := value(t, ctx, "report title", chromedp.Title()); !strings.Contains(title, "1") {
		t.Errorf("report title %q", title)
	}
	do(t, ctx, "dry-run the next period",
		chromedp.Navigate(e.url+"/runs"),
		chromedp.SetValue(chromedp.ID("as-of"), "2026-12-01"),
		chromedp.Click(chromedp.ID("dry-run")),
		chromedp.WaitVisible(chromedp.ID("start-run")))
	if would := value(t, ctx, "would issue", chromedp.Text(chromedp.ID("would-issue"))); !strings.Contains(would, "invoice") {
		t.Fatalf("dry run shows %q", would)
	}
	shot(t, ctx, "console-dry-run.png")
	do(t, ctx, "start the run and watch it finish",
		chromedp.Click(chromedp.ID("start-run")),
		chromedp.WaitVisible(chromedp.ID("live")),
		chromedp.WaitVisible(chromedp.ID("live-report")))
	shot(t, ctx, "console-run-finished.png")
	do(t, ctx, "the runs list", chromedp.Navigate(e.url+"/runs"), chromedp.WaitVisible(chromedp.CSS(`tr[data-run="2"]`)))
	do(t, ctx, "find the new run's invoices",
		chromedp.Navigate(e.url+"/invoices?from=2026-11-01&to=2026-12-31"),
		chromedp.WaitVisible(chromedp.ID("invoices")))
	number := value(t, ctx, "an invoice number", chromedp.AttributeValue(chromedp.CSS(`#invoices tbody tr[data-number]`), "data-number")).Value
	shot(t, ctx, "console-invoices.png")
	b64 := value(t, ctx, "download "+number, chromedp.Evaluate[string](`fetch("/invoices/`+number+`/pdf").then(r => r.arrayBuffer()).then(b => {
		let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, chromedp.EvalAwaitPromise))
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("downloaded %d bytes: %v", len(pdf), err)
	}
	validatePDF(t, number, pdf)
	do(t, ctx, "a buyer's page", chromedp.Navigate(e.url+"/buyers/customer/C-001"), chromedp.WaitVisible(chromedp.ID("buyer-invoices")))
	shot(t, ctx, "console-buyer.png")

	do(t, ctx, "sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("signin")))
	signIn(t, ctx, e.url, "vera")
	for _, path := range []string{"/runs", "/invoices", "/buyers/customer/C-001"} {
		do(t, ctx, "viewer opens "+path, chromedp.Navigate(e.url+path), chromedp.WaitReady(chromedp.CSS("main")))
		forms := value(t, ctx, "forms", chromedp.Evaluate[int](`document.querySelectorAll('form[method="post"]:not([action="/logout"])').length`))
		buttons := value(t, ctx, "buttons", chromedp.Evaluate[int](`document.querySelectorAll('#dry-run, #start-run, form.credit').length`))
		if forms != 0 || buttons != 0 {
			t.Errorf("viewer's %s: %d forms that change something, %d such buttons", path, forms, buttons)
		}
	}
	shot(t, ctx, "console-viewer.png")
	status := value(t, ctx, "forged POST from the viewer's session", chromedp.Evaluate[int](`fetch("/runs", {method: "POST",
		headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "as_of=2027-01-01"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != 403 {
		t.Errorf("forged POST: %d, want 403", status)
	}
}

// validatePDF runs the official Factur-X PDF validator over a downloaded PDF.
func validatePDF(t *testing.T, name string, pdf []byte) {
	t.Helper()
	kit := zugferdtest.Kit(t)
	path := filepath.Join(t.TempDir(), name+".pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(kit, "validate-facturx-pdf"), path).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("=> PASS")) {
		t.Errorf("validate-facturx-pdf %s: %v\n%s", name, err, out)
	}
}
