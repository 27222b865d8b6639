package report

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/shopspring/decimal"
)

// A chart is a horizontal bar chart drawn as inline SVG: one row per label, one bar per
// series (grouped) or one bar split into the series (stacked). go-chart was tried first; it
// draws the smallest value of a bar chart as a zero-height bar and has no grouped bars, and
// a few rectangles need no library.
type chart struct {
	Title   string
	Series  []string // legend, one colour each
	Stacked bool
	Rows    []chartRow
}

type chartRow struct {
	Label  string
	Values []decimal.Decimal // one per series
	// Texts are the values as printed (money with two decimals, counts as integers).
	Texts []string
}

// palette: colour-blind safe (Okabe–Ito).
var palette = []string{"#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7", "#56B4E9"}

const (
	chartWidth = 720
	labelWidth = 240
	valueWidth = 130
	barHeight  = 16
	rowGap     = 10
)

// svg draws the chart. Values only set the bar lengths; the numbers shown are Texts.
// Negative values draw no bar.
func (c chart) svg() template.HTML {
	var maxV float64
	for _, r := range c.Rows {
		var sum float64
		for _, v := range r.Values {
			f := max(v.InexactFloat64(), 0)
			if c.Stacked {
				sum += f
			} else {
				maxV = max(maxV, f)
			}
		}
		maxV = max(maxV, sum)
	}
	plot := float64(chartWidth - labelWidth - valueWidth)
	scale := func(v decimal.Decimal) float64 {
		if maxV == 0 {
			return 0
		}
		return max(v.InexactFloat64(), 0) / maxV * plot
	}
	bars := len(c.Series)
	if c.Stacked {
		bars = 1
	}
	rowH := bars*barHeight + rowGap
	legendH := 24
	height := legendH + len(c.Rows)*rowH + rowGap
	var b strings.Builder
	fmt.Fprintf(&b, `<figure><figcaption>%s</figcaption>`, esc(c.Title))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" aria-labelledby="%s">`,
		chartWidth, height, chartWidth, height, esc(c.id()))
	fmt.Fprintf(&b, `<title id="%s">%s</title>`, esc(c.id()), esc(c.Title))
	x := float64(labelWidth)
	for i, s := range c.Series {
		fmt.Fprintf(&b, `<rect x="%.1f" y="6" width="12" height="12" fill="%s"/><text x="%.1f" y="16">%s</text>`, x, palette[i%len(palette)], x+16, esc(s))
		x += 24 + 7*float64(len([]rune(s)))
	}
	y := legendH
	for _, r := range c.Rows {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-8, y+barHeight-4, esc(shorten(r.Label, 36)))
		if c.Stacked {
			x := float64(labelWidth)
			var parts []string
			for i, v := range r.Values {
				w := scale(v)
				fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`,
					x, y, w, barHeight, palette[i%len(palette)], esc(c.Series[i]), esc(r.Texts[i]))
				x += w
				parts = append(parts, r.Texts[i])
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, x+6, y+barHeight-4, esc(strings.Join(parts, " / ")))
		} else {
			for i, v := range r.Values {
				w := scale(v)
				by := y + i*barHeight
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`,
					labelWidth, by, w, barHeight-2, palette[i%len(palette)], esc(c.Series[i]), esc(r.Texts[i]))
				fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, float64(labelWidth)+w+6, by+barHeight-5, esc(r.Texts[i]))
			}
		}
		y += rowH
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String()) // every text in it went through esc
}

func (c chart) id() string {
	var b strings.Builder
	b.WriteString("chart-")
	for _, r := range strings.ToLower(c.Title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// shorten cuts a label to n characters, ending it with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func esc(s string) string { return template.HTMLEscapeString(s) }
