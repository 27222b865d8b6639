package jobs_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kontor-billing/kontor/store/storetest"
	"github.com/kontor-billing/kontor/zugferd/zugferdtest"
)

// TestArchivedDemoPassesTheOfficialValidators validates every PDF and XML that the demo run
// (what make demo does) archives, with its final invoice numbers.
func TestArchivedDemoPassesTheOfficialValidators(t *testing.T) {
	kit := zugferdtest.Kit(t)
	_, st := storetest.New(t)
	if _, err := st.Import(context.Background(), load(t, "../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	arc := t.TempDir()
	runOnce(t, st, arc, "2026-11-01")
	xmls, _ := filepath.Glob(filepath.Join(arc, "invoices/2026/11/*.xml"))
	pdfs, _ := filepath.Glob(filepath.Join(arc, "invoices/2026/11/*.pdf"))
	if len(xmls) != 25 || len(pdfs) != 25 {
		t.Fatalf("%d XML and %d PDF archived, want 25 each", len(xmls), len(pdfs))
	}
	out, err := exec.Command(filepath.Join(kit, "validate-cii"), append([]string{"-q"}, xmls...)...).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("25 valid, 0 invalid")) {
		t.Errorf("validate-cii: %v\n%s", err, out)
	}
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("VALID")) && !bytes.Contains(line, []byte("(0 error(s), 0 warning(s))")) {
			t.Errorf("validate-cii: %s", line)
		}
	}
	out, err = exec.Command(filepath.Join(kit, "validate-facturx-pdf"), pdfs...).CombinedOutput()
	if err != nil || bytes.Count(out, []byte("=> PASS")) != 25 || bytes.Contains(out, []byte("[WARN]")) {
		t.Errorf("validate-facturx-pdf: %v\n%s", err, out)
	}
}
