package zugferd

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/johnfercher/maroto/v2/pkg/components/code"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/image"
	mrow "github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/kontor-billing/kontor/invoice"
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

// probe is a row that notes the page it is drawn on.
type probe struct {
	core.Row
	name string
	seen *[]string
}

func (pr probe) Render(p core.Provider, cell entity.Cell) {
	pp := p.(*provider)
	page := 0
	for i := range pp.doc.Pages() {
		if pp.doc.Page(i) == pp.page {
			page = i + 1
		}
	}
	*pr.seen = append(*pr.seen, fmt.Sprintf("%s@%d", pr.name, page))
	pr.Row.Render(p, cell)
}

// TestLayoutPaginates: bands flow onto new pages above the footer, a band that does not fit
// moves to the next page whole, the table header is repeated on a page a band opens, a
// band taller than a page breaks between its rows, and every page gets the footer.
func TestLayoutPaginates(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	row5 := func(name string) core.Row {
		return probe{Row: mrow.New(5).Add(col.New(grid).Add(r.txt(name, props.Text{}))), name: name, seen: &seen}
	}
	footer := []core.Row{row5("footer")}
	var bands []band
	for i := range 52 { // 52 rows of 5 mm: 260 mm of the 265 mm above the footer
		bands = append(bands, band{rows: []core.Row{row5(fmt.Sprint("r", i))}})
	}
	bands = append(bands, band{rows: []core.Row{row5("last"), row5("totals")}, head: []core.Row{row5("head")}})
	var tall []core.Row
	for i := range 60 {
		tall = append(tall, row5(fmt.Sprint("t", i)))
	}
	bands = append(bands, band{rows: tall, head: []core.Row{row5("head")}})
	doc, err := r.layout(sheet{bands: bands, footer: footer, pageNumber: "{current}/{total}"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(seen, " ")
	for _, want := range []string{"r51@1 head@2 last@2 totals@2 t0@2 ", "t49@2 head@3 t50@3", "footer@1 footer@2 footer@3"} {
		if !strings.Contains(got, want) {
			t.Errorf("pages do not hold %q:\n%s", want, got)
		}
	}
	if doc.Pages() != 3 {
		t.Errorf("%d pages, want 3", doc.Pages())
	}
}

// TestProviderRefusesWhatItCannotDraw: a maroto component the provider does not draw is
// the document's error, not a silently missing part.
func TestProviderRefusesWhatItCannotDraw(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]core.Component{
		"bar code":   code.NewBar("123456"),
		"image file": image.NewFromFile("logo.png"),
	} {
		_, err := r.layout(sheet{bands: []band{{rows: []core.Row{mrow.New(20).Add(col.New(grid).Add(c))}}}})
		if !errors.Is(err, errUnsupported) {
			t.Errorf("%s: error %v, want errUnsupported", name, err)
		}
	}
}

// TestLogoMustBeGiven: an invoice naming a logo the renderer was not given fails, rather
// than going out without its letterhead; once given, it renders.
func TestLogoMustBeGiven(t *testing.T) {
	logo, err := os.ReadFile("../fixtures/demo/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	inv := &invoice.Invoice{Number: "RE-1", Language: "de", Letterhead: invoice.Letterhead{Logo: invoice.LogoID(logo)}}
	if _, err := r.sheet(inv, labelsFor("de")); err == nil || !strings.Contains(err.Error(), "not given to the renderer") {
		t.Errorf("error %v, want the logo not given", err)
	}
	if err := r.AddLogo(logo); err != nil {
		t.Fatal(err)
	}
	if !r.HasLogo(inv.Letterhead.Logo) {
		t.Error("HasLogo false after AddLogo")
	}
	if _, err := r.sheet(inv, labelsFor("de")); err != nil {
		t.Error(err)
	}
	if err := r.AddLogo([]byte("not an image")); err == nil {
		t.Error("AddLogo took bytes that are no image")
	}
}
