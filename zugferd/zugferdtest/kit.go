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

// Tool returns the path of a command a test needs (pdftoppm, zbarimg); where it is absent
// the test is skipped with a loud message naming the Debian package, and on CI it fails.
func Tool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s IS MISSING ON CI: install %s (make deps)", name, debianPackage)
	}
	t.Skipf("SKIPPING: %s is not installed; `make deps` installs %s", name, debianPackage)
	return ""
}
