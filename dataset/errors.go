package dataset

import (
	"fmt"
	"strings"
)

// Error is one problem in a dataset: where it is and what is wrong.
type Error struct {
	File   string // file name within the dataset directory
	Line   int    // 1-based line in the file; 0 when the file is JSON or the problem is the file
	Record string // the record's ID or JSON path, when known
	Field  string // the column or JSON field, when the problem is one field
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Record != "" {
		fmt.Fprintf(&b, ": %s", e.Record)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Errors is every problem found in a dataset, in the order the files were read.
type Errors []*Error

func (es Errors) Error() string {
	if len(es) == 1 {
		return "invalid dataset: " + es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid dataset: %d errors:", len(es))
	for _, e := range es {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}
