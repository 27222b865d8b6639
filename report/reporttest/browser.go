// Package reporttest opens kontor's HTML reports in a real headless Chromium for tests.
package reporttest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Page is a report as Chromium rendered it.
type Page struct {
	// Problems are console errors and warnings, uncaught exceptions and browser log errors
	// (a blocked resource, a Content-Security-Policy violation) seen while loading.
	Problems []string
	// Screenshot is a PNG of the whole page.
	Screenshot []byte
	ctx        context.Context
}

// Chromium returns the browser binary. Where it is absent the test is skipped with a loud
// message; on CI (CI=true) it fails, since CI must check the reports in a browser.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH (make deps installs Debian's chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatalf("BROWSER TEST CANNOT RUN ON CI: %s", msg)
	}
	t.Skipf("SKIPPING BROWSER TEST: %s", msg)
	return ""
}

// Browser starts headless Chromium for the test, a 1280 × 900 window with a fresh
// profile, stopped when the test ends; its context runs chromedp actions.
func Browser(t testing.TB) context.Context {
	t.Helper()
	bin := Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// Open loads the HTML file at path in headless Chromium, waits for it to render, records
// what went wrong and takes a screenshot. Evaluate reads the page afterwards.
func Open(t testing.TB, path string) *Page {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	bctx := Browser(t)
	p := &Page{ctx: bctx}
	var mu sync.Mutex
	messages := chromedp.Console(bctx) // subscribes now: nothing the page logs is lost
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleLog, chromedp.ConsoleType("info"), chromedp.ConsoleType("debug"):
				continue
			default: // warnings, errors and exceptions are problems
			}
			mu.Lock()
			p.Problems = append(p.Problems, fmt.Sprintf("%s (%s): %s %s", m.Type, m.Source, m.Text, m.URL))
			mu.Unlock()
		}
	}()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+abs), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("chromium: open %s: %v", path, err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("chromium: screenshot of %s: %v", path, err)
	}
	p.Screenshot = shot
	// Messages travel through a queue: give the last ones time to arrive.
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	p.Problems = append([]string(nil), p.Problems...)
	return p
}

// Evaluate runs a JavaScript expression in the page and decodes its JSON value into out.
func (p *Page) Evaluate(t testing.TB, expr string, out any) {
	t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		t.Fatalf("chromium: evaluate: %v", err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("chromium: evaluate: %s: %v", raw, err)
	}
}

// Save writes the screenshot into the test's artifact directory (kept with go test
// -artifacts) and returns its path.
func (p *Page) Save(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, p.Screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
