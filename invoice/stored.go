// Invoices as the store keeps them: what a run's stages read and write of the system of
// record, beside the invoice model.

package invoice

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/kontor-billing/kontor/calendar"
)

// Stored is an invoice (or credit note) as the store keeps it: its ID, the run that
// assembled it and where it is in its life.
type Stored struct {
	ID      int64
	RunID   int64 // 0 for credit notes, issued outside runs
	Status  Status
	Invoice *Invoice
}

// Ref is a stored invoice as a run lists the work pending: without its model, which the
// run reads batch by batch.
type Ref struct {
	ID     int64
	Status Status
	// TypeCode and IssueDate choose a draft's number series.
	TypeCode  DocumentType
	IssueDate calendar.Date
}

// File is a rendered file of an invoice.
type File struct {
	Kind   string // pdf, xml or json (the archive's manifest)
	SHA256 string
	Bytes  []byte
}

// NewFile returns a file with its hash.
func NewFile(kind string, b []byte) File {
	sum := sha256.Sum256(b)
	return File{Kind: kind, SHA256: hex.EncodeToString(sum[:]), Bytes: b}
}

// RenderedFiles are the rendered files of a finalized invoice.
type RenderedFiles struct {
	ID    int64
	Files []File
}

// ArchiveKeys are where an invoice's files were archived: the archive key by file kind.
type ArchiveKeys struct {
	ID   int64
	Keys map[string]string
}
