// Package zugferdtest finds the official e-invoice validators for tests.
package zugferdtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Kit returns the directory of the shared validation kit (../shared/validation beside the
// repository). Where it or Java is absent the test is skipped with a loud message; on CI
// (CI=true) it fails, since CI must validate every invoice.
func Kit(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "validation")
	missing := ""
	if _, err := os.Stat(filepath.Join(dir, "validate-cii")); err != nil {
		missing = dir + " is absent"
	} else if _, err := exec.LookPath("java"); err != nil {
		missing = "java is not installed (make deps installs the validators' Debian packages)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OFFICIAL VALIDATION CANNOT RUN ON CI: %s", missing)
		}
		t.Skipf("SKIPPING OFFICIAL VALIDATION: %s", missing)
	}
	return dir
}
