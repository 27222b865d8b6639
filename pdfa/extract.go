package pdfa

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

var reEF = regexp.MustCompile(`/EF\s*<<\s*/F\s+(\d+) 0 R`)

// Attached returns the bytes of the file embedded under name in a PDF written by Convert
// (or any PDF with a classic cross-reference table and direct stream lengths).
func Attached(pdf []byte, name string) ([]byte, error) {
	objs, _, err := parse(pdf)
	if err != nil {
		return nil, err
	}
	want := []byte("/F " + literal(name))
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
			return inflate(ef.stream)
		}
		return ef.stream, nil
	}
	return nil, fmt.Errorf("pdfa: no embedded file %s", name)
}
