package zugferd

import (
	"strings"
	"testing"
)

func TestWrap(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	f := r.regular
	w := f.Width("Sehr lange", 10) // the width of two words
	for _, c := range []struct {
		name, text string
		width      float64
		want       []string
	}{
		{"fits", "Sehr lange", w, []string{"Sehr lange"}},
		{"empty", "", w, []string{""}},
		{"at spaces", "Sehr lange Firma mit Zusatz", w, []string{"Sehr lange", "Firma mit", "Zusatz"}},
		{"spaces collapse where it breaks", "Sehr  lange   Firma", w, []string{"Sehr lange", "Firma"}},
		{"long word broken", "XXXXXXXXXXXXXXXXXXXXXXXX", f.Width("XXXXXXXX", 10), []string{"XXXXXXXX", "XXXXXXXX", "XXXXXXXX"}},
		{"narrower than a character", "ab", 1, []string{"a", "b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := wrap(f, 10, c.width, c.text)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("got %q, want %q", got, c.want)
			}
			for _, l := range got {
				if f.Width(l, 10) > c.width && len([]rune(l)) > 1 {
					t.Errorf("line %q is wider than %v", l, c.width)
				}
			}
		})
	}
}

// TestLayoutPaginates: rows flow onto new pages above the footer, a row taller than a page
// is split between pages, and every page gets the footer and its number.
func TestLayoutPaginates(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	footer := []row{{height: 3.5, cells: []cell{r.txt(grid, "footer", textStyle{size: 6.5})}}}
	var body []row
	for range 100 { // 100 rows of 5 mm: 500 mm of a 266 mm page body
		body = append(body, row{height: 5, cells: []cell{r.txt(grid, "line", textStyle{})}})
	}
	if n := r.layout(body, footer, "{current}/{total}").Pages(); n != 2 {
		t.Errorf("100 rows of 5 mm: %d pages, want 2", n)
	}
	tall := row{cells: []cell{r.txt(4, strings.Repeat("word ", 600), textStyle{size: 9})}}
	b := r.measure(tall)
	if b.height < 2*(pageH-marginT-margB) {
		t.Fatalf("test row is only %.0f mm tall", b.height)
	}
	n := r.layout([]row{tall}, footer, "{current}/{total}").Pages()
	if want := int(b.height/(pageH-marginT-margB-3.5)) + 1; n < want || n > want+1 {
		t.Errorf("a %.0f mm row: %d pages, want about %d", b.height, n, want)
	}
	first, rest, ok := b.split(50)
	if !ok || first.height > 50 || len(first.cells[0].lines)+len(rest.cells[0].lines) != len(b.cells[0].lines) {
		t.Errorf("split at 50 mm: first %.1f mm, ok %v, lines %d+%d of %d", first.height, ok, len(first.cells[0].lines), len(rest.cells[0].lines), len(b.cells[0].lines))
	}
	if _, _, ok := b.split(1); ok {
		t.Error("split into 1 mm, less than one line")
	}
}
