package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestProfiles: --cpuprofile and --memprofile write profiles go tool pprof reads (gzipped
// protocol buffers) when the command ends.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	cli(t, 0, "preview", "--data", "../../fixtures/demo", "--cpuprofile", cpu, "--memprofile", mem)
	for _, f := range []string{cpu, mem} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("%s is not a gzipped profile (%d bytes)", filepath.Base(f), len(b))
		}
	}
}
