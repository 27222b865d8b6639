// Package pdfatest reads back what the tests need of the PDFs kontor writes: the files
// embedded in them. It is a reader for tests only (regular expressions over a classic
// cross-reference table), kept out of the pdfa package so that no binary carries it.
package pdfatest

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type object struct {
	dict   []byte // the dictionary or, for non-stream objects, the whole body
	stream []byte // nil for non-stream objects
}

var (
	reXref       = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	reObjStart   = regexp.MustCompile(`^(\d+) 0 obj\s*`)
	reLength     = regexp.MustCompile(`/Length\s+(\d+)(?:\s|/|>)`)
	reFlate      = regexp.MustCompile(`/Filter\s*/FlateDecode`)
	reWhitespace = regexp.MustCompile(`\s+`)
)

// parse reads the objects of a PDF with a classic cross-reference table.
func parse(pdf []byte) (map[int]*object, []byte, error) {
	m := reXref.FindSubmatch(pdf)
	if m == nil {
		return nil, nil, errors.New("pdfa: no startxref at the end of the file")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if off >= len(pdf) || !bytes.HasPrefix(pdf[off:], []byte("xref")) {
		return nil, nil, errors.New("pdfa: startxref does not point at a cross-reference table (xref streams are not supported)")
	}
	p := off + 4
	objs := map[int]*object{}
	fields := func() []string {
		for p < len(pdf) && (pdf[p] == '\n' || pdf[p] == '\r' || pdf[p] == ' ') {
			p++
		}
		e := bytes.IndexAny(pdf[p:], "\r\n")
		if e < 0 {
			e = len(pdf) - p
		}
		line := string(pdf[p : p+e])
		p += e
		return reWhitespace.Split(line, -1)
	}
	for {
		f := fields()
		if len(f) == 0 || f[0] == "trailer" || f[0] == "" {
			break
		}
		if len(f) < 2 {
			return nil, nil, fmt.Errorf("pdfa: bad xref subsection header %q", f)
		}
		first, err1 := strconv.Atoi(f[0])
		count, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil || count < 0 || count > 1<<20 {
			return nil, nil, fmt.Errorf("pdfa: bad xref subsection header %q", f)
		}
		for i := range count {
			e := fields()
			if len(e) < 3 {
				return nil, nil, errors.New("pdfa: truncated xref entry")
			}
			if e[2] != "n" {
				continue
			}
			at, err := strconv.Atoi(e[0])
			if err != nil || at >= len(pdf) {
				return nil, nil, fmt.Errorf("pdfa: bad xref entry %q", e)
			}
			o, err := readObject(pdf, at, first+i)
			if err != nil {
				return nil, nil, err
			}
			objs[first+i] = o
		}
	}
	t := bytes.LastIndex(pdf, []byte("trailer"))
	if t < 0 {
		return nil, nil, errors.New("pdfa: no trailer")
	}
	return objs, pdf[t:], nil
}

func readObject(pdf []byte, at, num int) (*object, error) {
	m := reObjStart.FindSubmatchIndex(pdf[at:])
	if m == nil || string(pdf[at+m[2]:at+m[3]]) != strconv.Itoa(num) {
		return nil, fmt.Errorf("pdfa: object %d not found at offset %d", num, at)
	}
	body := pdf[at+m[1]:]
	end := bytes.Index(body, []byte("endobj"))
	s := bytes.Index(body, []byte("stream"))
	if s < 0 || (end >= 0 && s > end) {
		if end < 0 {
			return nil, fmt.Errorf("pdfa: object %d has no endobj", num)
		}
		return &object{dict: bytes.TrimSpace(body[:end])}, nil
	}
	dict := bytes.TrimSpace(body[:s])
	lm := reLength.FindSubmatch(dict)
	if lm == nil {
		return nil, fmt.Errorf("pdfa: stream object %d has no direct /Length", num)
	}
	n, _ := strconv.Atoi(string(lm[1]))
	d := s + len("stream")
	if d < len(body) && body[d] == '\r' {
		d++
	}
	if d < len(body) && body[d] == '\n' {
		d++
	}
	if d+n > len(body) {
		return nil, fmt.Errorf("pdfa: stream of object %d runs past the end of the file", num)
	}
	return &object{dict: dict, stream: body[d : d+n]}, nil
}

var reEF = regexp.MustCompile(`/EF\s*<<\s*/F\s+(\d+) 0 R`)

// Attached returns the bytes of the file embedded under name in a PDF written by
// pdfa.Document.Write (or any PDF with a classic cross-reference table and direct stream
// lengths).
func Attached(pdf []byte, name string) ([]byte, error) {
	objs, _, err := parse(pdf)
	if err != nil {
		return nil, err
	}
	want := []byte("/F (" + strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(name) + ")")
	for _, num := range sortedKeys(objs) {
		o := objs[num]
		if o.stream != nil || !bytes.Contains(o.dict, []byte("/Type /Filespec")) || !bytes.Contains(o.dict, want) {
			continue
		}
		m := reEF.FindSubmatch(o.dict)
		if m == nil {
			return nil, fmt.Errorf("pdfa: file specification %d of %s has no /EF /F", num, name)
		}
		n, _ := strconv.Atoi(string(m[1]))
		ef := objs[n]
		if ef == nil || ef.stream == nil {
			return nil, fmt.Errorf("pdfa: embedded file stream %d of %s missing", n, name)
		}
		if reFlate.Match(ef.dict) {
			return Inflate(ef.stream)
		}
		return ef.stream, nil
	}
	return nil, fmt.Errorf("pdfa: no embedded file %s", name)
}

// Inflate decompresses a FlateDecode stream.
func Inflate(b []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func sortedKeys(m map[int]*object) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// write serialises the objects with a PDF 1.7 header, a binary comment line, a classic
// cross-reference table and a trailer whose /ID is the MD5 of the body without the
// shared streams (the fonts are most of a one-page invoice's bytes and identical across
// documents; the page content and the embedded XML, which make a document what it is,
// are hashed).
