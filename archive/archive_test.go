package archive_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/archive/archivetest"
	"github.com/kontor-billing/kontor/calendar"
)

func TestKeys(t *testing.T) {
	k, err := archive.Key("RE-2026-000001", calendar.MustParse("2026-11-01"), "pdf")
	if err != nil || k != "invoices/2026/11/RE-2026-000001.pdf" {
		t.Errorf("key %q %v", k, err)
	}
	for _, bad := range []string{"../etc/passwd", "RE 1", "", "re-1", "RE/1"} {
		if _, err := archive.Key(bad, calendar.MustParse("2026-11-01"), "pdf"); err == nil {
			t.Errorf("number %q accepted in a key", bad)
		}
	}
	if _, err := archive.Key("RE-1", calendar.MustParse("2026-11-01"), "exe"); err == nil {
		t.Error("unknown extension accepted")
	}
}

// writeOnce checks the write-once contract of a backend.
func writeOnce(t *testing.T, a archive.Store) {
	ctx := context.Background()
	key := "invoices/2026/11/RE-2026-000001.pdf"
	if err := a.Put(ctx, key, []byte("first")); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := a.Put(ctx, key, []byte("first")); err != nil {
		t.Errorf("idempotent re-put of the same bytes: %v", err)
	}
	err := a.Put(ctx, key, []byte("other"))
	if !errors.Is(err, archive.ErrConflict) {
		t.Errorf("conflicting bytes: err = %v, want ErrConflict", err)
	}
	got, err := a.Get(ctx, key)
	if err != nil || string(got) != "first" {
		t.Errorf("stored %q %v: the original must never be overwritten", got, err)
	}
	if _, err := a.Get(ctx, "invoices/2026/11/none.pdf"); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
	// sha256("first")
	info, err := a.Stat(ctx, key)
	if err != nil || info.Size != 5 || info.SHA256 != "a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e" {
		t.Errorf("stat: %+v %v", info, err)
	}
	if _, err := a.Stat(ctx, "invoices/2026/11/none.pdf"); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("stat of a missing key: %v", err)
	}
}

func TestLocalWriteOnce(t *testing.T) {
	dir := t.TempDir()
	a, err := archive.Open(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	writeOnce(t, a)
	if err := a.Put(context.Background(), "../escape", []byte("x")); err == nil {
		t.Error("a key leaving the archive was accepted")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".tmp/*")); len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	if err := a.Put(context.Background(), ".tmp/x", []byte("x")); err == nil {
		t.Error("a key inside the temporary directory was accepted")
	}
	// Debris of a crashed writer is removed when the archive is opened.
	stale := filepath.Join(dir, ".tmp", "put-crashed")
	os.WriteFile(stale, []byte("partial"), 0o644)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	if _, err := archive.NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary file not removed")
	}
}

// TestLocalPutAll stores several objects at once: the same write-once contract as Put, per
// object, and a conflict names its key while the objects before it stay stored.
func TestLocalPutAll(t *testing.T) {
	ctx := context.Background()
	pdf, xml := "invoices/2026/11/RE-2026-000001.pdf", "invoices/2026/12/RE-2026-000002.xml"
	for _, tc := range []struct {
		name    string
		before  []archive.Object
		put     []archive.Object
		wantErr string // substring; "" for success
		want    map[string]string
	}{
		{name: "new keys in two directories",
			put:  []archive.Object{{Key: pdf, Data: []byte("p")}, {Key: xml, Data: []byte("x")}},
			want: map[string]string{pdf: "p", xml: "x"}},
		{name: "a rerun with the same bytes",
			before: []archive.Object{{Key: pdf, Data: []byte("p")}},
			put:    []archive.Object{{Key: pdf, Data: []byte("p")}, {Key: xml, Data: []byte("x")}},
			want:   map[string]string{pdf: "p", xml: "x"}},
		{name: "other bytes under a stored key",
			before:  []archive.Object{{Key: xml, Data: []byte("x")}},
			put:     []archive.Object{{Key: pdf, Data: []byte("p")}, {Key: xml, Data: []byte("changed")}},
			wantErr: xml,
			want:    map[string]string{pdf: "p", xml: "x"}},
		{name: "a key leaving the archive",
			put:     []archive.Object{{Key: "../x.pdf", Data: []byte("p")}},
			wantErr: "leaves the archive",
			want:    map[string]string{}},
	} {
		for _, eachFile := range []bool{false, true} {
			name := tc.name
			if eachFile {
				name += ", syncing each file"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				a, err := archive.NewLocal(dir)
				if err != nil {
					t.Fatal(err)
				}
				if eachFile {
					a.SyncEachFile()
				}
				if err := a.PutAll(ctx, tc.before); err != nil {
					t.Fatal(err)
				}
				err = a.PutAll(ctx, tc.put)
				switch {
				case tc.wantErr == "" && err != nil:
					t.Fatalf("PutAll: %v", err)
				case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
					t.Fatalf("PutAll: err %v, want one naming %q", err, tc.wantErr)
				}
				for key, data := range tc.want {
					if got, err := a.Get(ctx, key); err != nil || string(got) != data {
						t.Errorf("%s holds %q (%v), want %q", key, got, err, data)
					}
				}
				if leftovers, _ := filepath.Glob(filepath.Join(dir, ".tmp/*")); len(leftovers) != 0 {
					t.Errorf("temporary files left behind: %v", leftovers)
				}
			})
		}
	}
}

func TestS3WriteOnce(t *testing.T) {
	srv := archivetest.Start(t)
	srv.Bucket(t, "invoices")
	archivetest.SetEnv(t)
	a, err := archive.Open(context.Background(), srv.URL("invoices", "acme"))
	if err != nil {
		t.Fatal(err)
	}
	writeOnce(t, a)
	if _, err := os.Stat(filepath.Join(srv.Dir, "invoices/acme/invoices/2026/11/RE-2026-000001.pdf")); err != nil {
		t.Errorf("object not under the prefix: %v", err)
	}
}

func TestS3ClearErrors(t *testing.T) {
	srv := archivetest.Start(t)
	srv.Bucket(t, "invoices")
	archivetest.SetEnv(t)
	_, err := archive.Open(context.Background(), srv.URL("no-such-bucket", ""))
	if err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Errorf("missing bucket: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
	_, err = archive.Open(context.Background(), srv.URL("invoices", ""))
	if err == nil || !strings.Contains(err.Error(), "check the credentials") {
		t.Errorf("wrong credentials: %v", err)
	}
	if _, err := archive.Open(context.Background(), "s3:///nobucket"); err == nil {
		t.Error("an s3 URL without bucket was accepted")
	}
	if _, err := archive.Open(context.Background(), "ftp://x"); err == nil {
		t.Error("an unknown scheme was accepted")
	}
}

// BenchmarkLocalPutAll archives blocks of 75 files of 40 KB (25 invoices' XML, PDF and
// model), 8 blocks at once as a run does, syncing the whole filesystem twice per block
// (where the system can) or each file and directory.
func BenchmarkLocalPutAll(b *testing.B) {
	for _, eachFile := range []bool{false, true} {
		name := "syncfs"
		if eachFile {
			name = "fsync-each"
		}
		b.Run(name, func(b *testing.B) {
			a, err := archive.NewLocal(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			if eachFile {
				a.SyncEachFile()
			}
			data := make([]byte, 40_000)
			var block atomic.Int64
			b.SetParallelism(4) // 8 goroutines on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := block.Add(1)
					objs := make([]archive.Object, 75)
					for i := range objs {
						objs[i] = archive.Object{Key: fmt.Sprintf("invoices/2026/11/B%d-%d.pdf", n, i), Data: data}
					}
					if err := a.PutAll(context.Background(), objs); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*75)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
