// Package archive keeps issued invoices, write-once: a key once written is never
// overwritten. Backends: a local directory (file://PATH, the default ./out/archive) and S3
// or an S3-compatible store (s3://BUCKET/PREFIX).
package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/calendar"
)

// DefaultURL is the archive used when none is configured.
const DefaultURL = "file://./out/archive"

// ErrConflict means a key holds other bytes than those being archived: the stored object
// is kept, never overwritten.
var ErrConflict = errors.New("archive: key exists with different content")

// ErrNotFound means the key is not in the archive.
var ErrNotFound = errors.New("archive: not found")

// Store is an archive backend.
type Store interface {
	// Put stores data under key unless the key exists: with the same bytes it succeeds (an
	// idempotent re-run), with other bytes it fails with ErrConflict.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the bytes under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Stat returns the size and SHA-256 of the object under key, or ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
}

// Info describes an archived object.
type Info struct {
	Size   int64
	SHA256 string // hex; recorded at Put (S3 metadata) or computed (directory)
}

// Open returns the archive at url: file://PATH (or a plain path) or s3://BUCKET/PREFIX
// (see OpenS3).
func Open(ctx context.Context, url string) (Store, error) {
	switch {
	case strings.HasPrefix(url, "file://"):
		return NewLocal(strings.TrimPrefix(url, "file://"))
	case strings.HasPrefix(url, "s3://"):
		return OpenS3(ctx, url)
	case strings.Contains(url, "://"):
		return nil, fmt.Errorf("archive %q: unsupported scheme (use file://PATH or s3://BUCKET/PREFIX)", url)
	}
	return NewLocal(url)
}

var number = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,39}$`)

// Key returns the archive key of an invoice's file: invoices/YYYY/MM/NUMBER.EXT. Only a
// validated document number and the issue date reach a key; nothing a customer typed.
func Key(num string, issue calendar.Date, ext string) (string, error) {
	if !number.MatchString(num) {
		return "", fmt.Errorf("archive: %q is not a document number", num)
	}
	switch ext {
	case "pdf", "xml", "json":
	default:
		return "", fmt.Errorf("archive: unknown file kind %q", ext)
	}
	y, m, _ := issue.Date()
	return fmt.Sprintf("invoices/%04d/%02d/%s.%s", y, int(m), num, ext), nil
}

// Local is an archive in a local directory. Files being written live in DIR/.tmp (not
// part of the archive) until they are linked to their name.
type Local struct {
	dir, tmp string
	wholeFS  bool // sync the whole filesystem (syncFS) instead of each file and directory
}

// staleAfter is the age at which a temporary file is debris of a crashed writer.
const staleAfter = time.Hour

// NewLocal returns the archive in dir, creating it, and removes temporary files that a
// crashed writer left behind.
func NewLocal(dir string) (*Local, error) {
	tmp := filepath.Join(dir, ".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("archive %s: %w", dir, err)
	}
	if entries, err := os.ReadDir(tmp); err == nil {
		for _, e := range entries {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleAfter {
				os.Remove(filepath.Join(tmp, e.Name()))
			}
		}
	}
	return &Local{dir: dir, tmp: tmp, wholeFS: canSyncFS}, nil
}

func (l *Local) path(key string) (string, error) {
	clean := filepath.Clean(key)
	if filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") || strings.HasPrefix(clean, ".tmp") {
		return "", fmt.Errorf("archive: key %q leaves the archive", key)
	}
	return filepath.Join(l.dir, clean), nil
}

// Object is a key and the bytes to archive under it.
type Object struct {
	Key  string
	Data []byte
}

// Put writes data under key once: a temporary file is written and synced, then linked to
// its name, which fails if the name exists.
func (l *Local) Put(ctx context.Context, key string, data []byte) error {
	return l.PutAll(ctx, []Object{{key, data}})
}

// PutAll writes each object as Put does, in three steps for all of them: their bytes into
// temporary files, made durable; each linked to its name (which fails if the name holds
// other bytes); the names made durable. Where the system can sync a whole filesystem
// (Linux syncfs) each step's sync is one call for all files, instead of one fsync per
// file and per directory: on a filesystem that is busy with little else, a block of
// files costs two journal commits instead of one per file. A crash before the last
// sync loses at most the names of this call's files (never a name with other bytes),
// which a rerun writes again. When it returns nil every object is durable under its key.
func (l *Local) PutAll(ctx context.Context, objs []Object) error {
	tmps := make([]string, 0, len(objs))
	defer func() {
		for _, t := range tmps {
			os.Remove(t)
		}
	}()
	for _, o := range objs {
		t, err := l.write(o.Key, o.Data, !l.wholeFS)
		if err != nil {
			return err
		}
		tmps = append(tmps, t)
	}
	if l.wholeFS {
		if err := syncFS(l.dir); err != nil {
			return fmt.Errorf("archive %s: %w", l.dir, err)
		}
	}
	dirs := map[string]bool{}
	for i, o := range objs {
		dir, err := l.link(o.Key, o.Data, tmps[i])
		if err != nil {
			return err
		}
		dirs[dir] = true
	}
	if l.wholeFS {
		if err := syncFS(l.dir); err != nil {
			return fmt.Errorf("archive %s: %w", l.dir, err)
		}
		return nil
	}
	for dir := range dirs {
		d, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("archive %s: %w", dir, err)
		}
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("archive %s: %w", dir, err)
		}
	}
	return nil
}

// write writes data for key into a new temporary file, synced when sync is set, and
// returns its path.
func (l *Local) write(key string, data []byte, sync bool) (string, error) {
	tmp, err := os.CreateTemp(l.tmp, "put-*")
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", key, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return tmp.Name(), fmt.Errorf("archive %s: %w", key, err)
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return tmp.Name(), fmt.Errorf("archive %s: %w", key, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return tmp.Name(), fmt.Errorf("archive %s: %w", key, err)
	}
	return tmp.Name(), nil
}

// link links the durable temporary file tmp to key's name and returns the name's
// directory. A name that exists with the same bytes is kept (a rerun); with other bytes it
// is ErrConflict.
func (l *Local) link(key string, data []byte, tmp string) (string, error) {
	p, err := l.path(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("archive %s: %w", key, err)
	}
	err = os.Link(tmp, p)
	if errors.Is(err, os.ErrExist) {
		stored, rerr := os.ReadFile(p)
		if rerr != nil {
			return "", fmt.Errorf("archive %s: %w", key, rerr)
		}
		if bytes.Equal(stored, data) {
			// The name may not be durable yet if its writer crashed before its sync.
			return filepath.Dir(p), nil
		}
		return "", fmt.Errorf("%s: %w", key, ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", key, err)
	}
	return filepath.Dir(p), nil
}

// Stat returns the size and SHA-256 of the file under key.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	b, err := l.Get(ctx, key)
	if err != nil {
		return Info{}, err
	}
	sum := sha256.Sum256(b)
	return Info{Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// Get reads the bytes under key.
func (l *Local) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", key, err)
	}
	return b, nil
}
