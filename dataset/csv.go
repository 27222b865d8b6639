package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/shopspring/decimal"
)

// row is one CSV record being read; its accessors record an Error for a bad field and
// return the zero value, so that reading goes on and every problem is reported.
type row struct {
	l      *loader
	file   string
	line   int
	record string // the record's ID, once known
	cols   map[string]int
	rec    []string
	bad    bool // some field of this row was rejected
}

func (r *row) fail(field, format string, args ...any) {
	r.bad = true
	r.l.add(&Error{File: r.file, Line: r.line, Record: r.record, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// str returns the trimmed text of a column ("" when the file has no such column).
func (r *row) str(col string) string {
	i, ok := r.cols[col]
	if !ok || i >= len(r.rec) {
		return ""
	}
	s := strings.TrimSpace(r.rec[i])
	if !utf8.ValidString(s) {
		r.bad = true
		r.l.notUTF8(r.file, r.line)
		return ""
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		r.fail(col, "contains a control character")
		return ""
	}
	return s
}

func (r *row) required(col string) string {
	s := r.str(col)
	if s == "" && !r.failedOn(col) {
		r.fail(col, "is required")
	}
	return s
}

// failedOn is a guard against reporting a field twice; str reports its own problems.
func (r *row) failedOn(col string) bool {
	for _, e := range r.l.errs {
		if e.File == r.file && e.Line == r.line && e.Field == col {
			return true
		}
	}
	return false
}

func (r *row) id(col string) string {
	s := r.required(col)
	if s != "" && !isID(s) {
		r.fail(col, "%q is not an ID (letters, digits and . _ : -, at most 64, starting with a letter or digit)", s)
		return ""
	}
	return s
}

func (r *row) date(col string) calendar.Date {
	s := r.str(col)
	if s == "" {
		return calendar.Date{}
	}
	d, err := calendar.Parse(s)
	if err != nil {
		r.fail(col, "%v", err)
	}
	return d
}

func (r *row) instant(col string) time.Time {
	s := r.str(col)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail(col, "%q is not a timestamp with offset (want RFC 3339, e.g. 2026-10-05T14:03:00+02:00)", s)
	}
	return t
}

// count reads a whole number >= 0; an empty cell is -1 ("not reported").
func (r *row) count(col string) int {
	s := r.str(col)
	if s == "" {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		r.fail(col, "%q is not a whole number >= 0", s)
		return -1
	}
	return n
}

func (r *row) decimal(col string) (decimal.Decimal, bool) {
	s := r.str(col)
	if s == "" {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil || strings.ContainsAny(s, "eE") {
		r.fail(col, "%q is not a decimal number (write 12.5, no exponent, no thousands separator)", s)
		return decimal.Decimal{}, false
	}
	return d, true
}

func (r *row) boolean(col string) bool {
	switch s := r.str(col); strings.ToLower(s) {
	case "", "false", "0", "no":
		return false
	case "true", "1", "yes":
		return true
	default:
		r.fail(col, "%q is not true or false", s)
		return false
	}
}

// readCSV reads a CSV file with a header line. Columns in required must be present in the
// header; any column not in required or optional is an error (it is most likely a typo).
// It returns false when the file does not exist.
func (l *loader) readCSV(file string, required, optional []string, each func(*row)) bool {
	f, err := l.fsys.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		l.add(&Error{File: file, Reason: err.Error()})
		return true
	}
	defer func() { _ = f.Close() }() // read only
	var in io.Reader = f
	if l.onRead != nil {
		in = &countingReader{r: f, onRead: l.onRead}
	}
	cr := csvReader(in)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		l.add(&Error{File: file, Line: 1, Reason: "is empty: a header line is required"})
		return true
	}
	if err != nil {
		l.add(&Error{File: file, Line: 1, Reason: csvReason(err)})
		return true
	}
	cols, ok := l.columns(file, header, required, optional)
	if !ok {
		l.broken[file] = true
		return true
	}
	r := &row{l: l, file: file, cols: cols}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				l.add(&Error{File: file, Reason: csvReason(err)})
				return true
			}
			l.add(&Error{File: file, Line: pe.StartLine, Reason: csvReason(err)})
			if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
				return true // the rest of the file cannot be read reliably
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(header) {
			l.add(&Error{File: file, Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		*r = row{l: l, file: file, line: line, cols: cols, rec: rec}
		each(r)
		if l.tooMany() || l.halt != nil || l.broken[file] {
			return true
		}
	}
}

// columns maps the header's columns to their positions; an unknown or repeated column
// is an error, and a missing required one: then ok is false, and the rows are not read.
func (l *loader) columns(file string, header, required, optional []string) (cols map[string]int, ok bool) {
	cols = map[string]int{}
	known := map[string]bool{}
	for _, c := range required {
		known[c] = true
	}
	for _, c := range optional {
		known[c] = true
	}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !known[h] {
			l.add(&Error{File: file, Line: 1, Field: h, Reason: fmt.Sprintf("unknown column (known: %s)", strings.Join(append(append([]string{}, required...), optional...), ", "))})
			continue
		}
		if _, dup := cols[h]; dup {
			l.add(&Error{File: file, Line: 1, Field: h, Reason: "column appears twice"})
			continue
		}
		cols[h] = i
	}
	ok = true
	for _, c := range required {
		if _, found := cols[c]; !found {
			l.add(&Error{File: file, Line: 1, Field: c, Reason: "required column is missing"})
			ok = false
		}
	}
	return cols, ok
}

// csvReader reads CSV with the delimiter its header line uses: a comma, or a semicolon
// where the header has semicolons and no comma, as spreadsheets write CSV in locales whose
// decimal separator is a comma (German Excel's "CSV (Trennzeichen-getrennt)"). Records
// may have any number of fields (the caller checks them) and are reused.
func csvReader(in io.Reader) *csv.Reader {
	br := bufio.NewReaderSize(in, 64<<10) // csv.NewReader reads through it, not around it
	head, _ := br.Peek(4 << 10)           // fewer bytes (and an error) at the end of a short file
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	cr := csv.NewReader(br)
	if bytes.IndexByte(head, ';') >= 0 && bytes.IndexByte(head, ',') < 0 {
		cr.Comma = ';'
	}
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	return cr
}

// notUTF8 records that file is not UTF-8 text, found at line: once, with the fix, as
// one error for the file (not one per field), and stops reading it.
func (l *loader) notUTF8(file string, line int) {
	if l.broken[file] {
		return
	}
	l.broken[file] = true
	l.add(&Error{File: file, Line: line, Reason: fmt.Sprintf("is not UTF-8 text (first on this line): save it as UTF-8 "+
		"(in Excel: Save As, \"CSV UTF-8\") or convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8 %s", file)})
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "malformed CSV: " + pe.Err.Error()
	}
	return "cannot read: " + err.Error()
}
