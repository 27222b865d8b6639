package pdfa

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

var (
	reW          = regexp.MustCompile(`/W\s*\[`)
	reCIDToGID   = regexp.MustCompile(`/CIDToGIDMap\s+(\d+) 0 R`)
	reWhitespace = regexp.MustCompile(`\s+`)
)

// pruneWidths removes from a CIDFontType2 dictionary's /W array the CIDs that its
// CIDToGIDMap sends to glyph 0 (.notdef): subsetters such as gofpdf list widths for every
// character of the original font, most of which are not in the subset.
func pruneWidths(dict []byte, objs map[int]*object) ([]byte, error) {
	m := reCIDToGID.FindSubmatch(dict)
	loc := reW.FindIndex(dict)
	if m == nil || loc == nil {
		return dict, nil
	}
	num, _ := strconv.Atoi(string(m[1]))
	mo := objs[num]
	if mo == nil || mo.stream == nil {
		return dict, nil
	}
	gids := mo.stream
	if reFlate.Match(mo.dict) {
		var err error
		if gids, err = inflate(gids); err != nil {
			return nil, fmt.Errorf("CIDToGIDMap %d: %w", num, err)
		}
	}
	inSubset := func(cid int) bool {
		return 2*cid+1 < len(gids) && (gids[2*cid] != 0 || gids[2*cid+1] != 0)
	}
	// Find the closing bracket of /W [ … ] (one level of nested arrays).
	start, depth, end := loc[1], 1, -1
	for i := start; i < len(dict); i++ {
		switch dict[i] {
		case '[':
			depth++
		case ']':
			depth--
		}
		if depth == 0 {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, fmt.Errorf("unterminated /W array")
	}
	body := bytes.ReplaceAll(bytes.ReplaceAll(dict[start:end], []byte("["), []byte(" [ ")), []byte("]"), []byte(" ] "))
	toks := reWhitespace.Split(string(bytes.TrimSpace(body)), -1)
	widths := map[int]string{}
	var order []int
	put := func(cid int, w string) {
		if _, seen := widths[cid]; !seen {
			order = append(order, cid)
		}
		widths[cid] = w
	}
	for i := 0; i < len(toks); {
		c1, err := strconv.Atoi(toks[i])
		if err != nil || i+1 >= len(toks) {
			return nil, fmt.Errorf("bad /W array near %q", toks[i])
		}
		if toks[i+1] == "[" {
			j := i + 2
			for ; j < len(toks) && toks[j] != "]"; j++ {
				put(c1+j-i-2, toks[j])
			}
			i = j + 1
			continue
		}
		if i+2 >= len(toks) {
			return nil, fmt.Errorf("bad /W range at CID %d", c1)
		}
		c2, err := strconv.Atoi(toks[i+1])
		if err != nil || c2 < c1 || c2-c1 > 1<<16 {
			return nil, fmt.Errorf("bad /W range at CID %d", c1)
		}
		for c := c1; c <= c2; c++ {
			put(c, toks[i+2])
		}
		i += 3
	}
	var out bytes.Buffer
	out.WriteString("/W [")
	prev := -2
	for _, cid := range order {
		if !inSubset(cid) {
			continue
		}
		if cid == prev+1 {
			fmt.Fprintf(&out, " %s", widths[cid])
		} else {
			if prev >= 0 {
				out.WriteString("]")
			}
			fmt.Fprintf(&out, " %d [%s", cid, widths[cid])
		}
		prev = cid
	}
	if prev >= 0 {
		out.WriteString("]")
	}
	out.WriteString(" ]")
	return append(append(append([]byte{}, dict[:loc[0]]...), out.Bytes()...), dict[end+1:]...), nil
}
