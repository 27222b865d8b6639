package reporttest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/report/reporttest"
)

// The browser check must be able to fail: a page that logs an error, throws and loads a
// resource its policy forbids is caught.
func TestOpenReportsWhatWentWrong(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // in a problem; "" for a clean page
	}{
		{"clean", `<p>fine</p>`, ""},
		{"console error", `<script>console.error("bad total")</script>`, "bad total"},
		{"exception", `<script>null.x()</script>`, "TypeError"},
		{"blocked image", `<img src="https://cdn.example.invalid/logo.png">`, "cdn.example.invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			csp := `default-src 'none'; script-src 'unsafe-inline'`
			page := `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="` + csp + `"><title>t</title></head><body>` + tc.body + `</body></html>`
			path := filepath.Join(t.TempDir(), "page.html")
			if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
				t.Fatal(err)
			}
			p := reporttest.Open(t, path)
			got := strings.Join(p.Problems, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want one with %q", got, tc.want)
			}
		})
	}
}
