// Package pdfa writes PDF/A-3b documents with an embedded file, such as Factur-X /
// ZUGFeRD invoices: pages of text, rectangles and lines in embedded TrueType fonts
// (Document), XMP metadata, the output intent and the associated file. It parses each font
// once per process and shares font subsets between documents (Font), which is what makes
// it fast. Output is deterministic: the same pages and options give the same bytes.
//
// It also reads back the embedded file of a PDF it wrote (Attached).
package pdfa

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"

	"github.com/klauspost/compress/zlib"
)

// Options describe the document and its attachment.
type Options struct {
	Title, Author, Subject, Keywords string
	Creator, Producer                string
	// Language of the document (catalog /Lang), e.g. "de" or "en".
	Language string
	// Date is the document's creation and modification date.
	Date time.Time
	// OutputIntent is the output profile (OutputIntent GTS_PDFA1), see NewOutputIntent.
	OutputIntent *OutputIntent
	Attachment   Attachment
	// XMPExtension is extra RDF (rdf:Description elements) for the XMP packet, such as the
	// Factur-X extension schema and properties.
	XMPExtension string
}

// Attachment is a file embedded in the PDF and associated with the document (/AF).
type Attachment struct {
	Name         string // e.g. factur-x.xml
	Description  string
	MIMEType     string // e.g. text/xml
	Relationship string // AFRelationship: Alternative, Data, Source, …
	Data         []byte
}

// OutputIntent is an ICC output profile prepared once for many documents.
type OutputIntent struct {
	condition string
	deflated  []byte
}

// NewOutputIntent prepares an RGB ICC profile (such as sRGB) named condition.
func NewOutputIntent(profile []byte, condition string) (*OutputIntent, error) {
	if len(profile) < 40 || string(profile[36:40]) != "acsp" {
		return nil, errors.New("pdfa: not an ICC profile (no 'acsp' signature)")
	}
	return &OutputIntent{condition: condition, deflated: deflate(profile)}, nil
}

type object struct {
	dict   []byte // the dictionary or, for non-stream objects, the whole body
	stream []byte // nil for non-stream objects
	// shared marks a stream that many documents carry alike (a font subset, the ICC
	// profile): the document ID is computed without it.
	shared bool
}

// Compressors are kept for reuse: a new one allocates about a megabyte of state. Font
// subsets and the output profile, written once and shared by many documents, are
// compressed at BestCompression; per-document streams (page content, the attachment) at
// BestSpeed: on a run's documents the higher levels cost two to four times the CPU for a
// few kilobytes.
var (
	bestWriters = newWriters(zlib.BestCompression, 4)
	fastWriters = newWriters(zlib.BestSpeed, 16)
)

// writers is a free list of zlib writers of one level, holding at most as many as its
// capacity. Unlike a sync.Pool it keeps them across garbage collections, which a run's
// rendering sets off every few documents: writers dropped at each collection and made
// anew were a fifth of the bytes a document allocated.
type writers struct {
	level int
	free  chan *zlib.Writer
}

func newWriters(level, capacity int) *writers {
	return &writers{level: level, free: make(chan *zlib.Writer, capacity)}
}

func (ws *writers) get() *zlib.Writer {
	select {
	case w := <-ws.free:
		return w
	default:
		w, _ := zlib.NewWriterLevel(nil, ws.level)
		return w
	}
}

func (ws *writers) put(w *zlib.Writer) {
	select {
	case ws.free <- w:
	default: // enough kept
	}
}

func compress(ws *writers, b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/2 + 64)
	w := ws.get()
	w.Reset(&buf)
	_, _ = w.Write(b) // into a bytes.Buffer: cannot fail
	_ = w.Close()
	ws.put(w)
	return buf.Bytes()
}

func deflate(b []byte) []byte     { return compress(bestWriters, b) }
func deflateFast(b []byte) []byte { return compress(fastWriters, b) }

func write(objs map[int]*object, last, root, info int) []byte {
	size := 64 + 20*(last+1) + 256
	for _, o := range objs {
		size += len(o.dict) + len(o.stream) + 48
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")
	h := md5.New()
	offsets := make([]int, last+1)
	for num := 1; num <= last; num++ {
		o := objs[num]
		if o == nil {
			continue
		}
		offsets[num] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", num)
		b.Write(o.dict)
		h.Write(o.dict)
		if !o.shared {
			h.Write(o.stream)
		}
		if o.stream != nil {
			b.WriteString("\nstream\n")
			b.Write(o.stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	var id [md5.Size]byte
	h.Sum(id[:0])
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", last+1)
	for num := 1; num <= last; num++ {
		if offsets[num] == 0 {
			b.WriteString("0000000000 65535 f \n")
			continue
		}
		fmt.Fprintf(&b, "%010d 00000 n \n", offsets[num])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%X> <%X>] >>\nstartxref\n%d\n%%%%EOF\n", last+1, root, info, id[:], id[:], xref)
	return b.Bytes()
}

// pdfDate writes a PDF date string in UTC.
func pdfDate(t time.Time) string { return "(D:" + t.UTC().Format("20060102150405") + "Z)" }

// literal writes an ASCII PDF string literal.
func literal(s string) string {
	var b bytes.Buffer
	b.WriteByte('(')
	for _, c := range []byte(s) {
		switch c {
		case '(', ')', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c < 0x20 || c > 0x7E {
				fmt.Fprintf(&b, "\\%03o", c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte(')')
	return b.String()
}

// textString writes a PDF text string: a literal when s is printable ASCII, else UTF-16BE
// with a byte order mark, in hex.
func textString(s string) string {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7E {
			ascii = false
			break
		}
	}
	if ascii {
		return literal(s)
	}
	var b bytes.Buffer
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

// nameEscape writes a PDF name body: / and other delimiters as #XX.
func nameEscape(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		if c <= 0x20 || c >= 0x7F || bytes.IndexByte([]byte("/#()<>[]{}%"), c) >= 0 {
			fmt.Fprintf(&b, "#%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
