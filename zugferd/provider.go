package zugferd

import (
	"errors"
	"fmt"
	"sync"

	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/extension"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/linestyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/orientation"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/pdfa"
	goqr "github.com/piglig/go-qr"
)

// provider draws maroto's rows, columns and components on the pages of a pdfa.Document:
// kontor's PDF/A-3 writer as a maroto core.Provider. The cells maroto passes are in
// millimetres from the top left corner of the page's content box (inside the margins);
// CreateCol and CreateRow move a cursor along the row, as maroto's gofpdf provider does.
//
// It draws what the invoice layouts use: text, lines, cell backgrounds, images from bytes
// (PNG, JPEG) and QR codes, as vectors. Data-matrix and bar codes, images read from files,
// background images, cell borders, dashed lines and protection (encryption, which PDF/A
// forbids) are refused: the first such request is the error of the document.
type provider struct {
	r    *Renderer
	doc  *pdfa.Document
	page *pdfa.Page
	x, y float64 // the cursor, mm from the content box's top left corner
	err  error
	// wrapped keeps the lines a text was broken into when maroto measured it, for drawing
	// it: maroto measures every text before it draws it.
	wrapped map[wrapKey][]string
}

type wrapKey struct {
	text        string
	size, width float64
	bold        bool
}

var _ core.Provider = (*provider)(nil)

// errUnsupported is the error of a maroto feature the provider does not draw.
var errUnsupported = errors.New("not drawn by kontor's PDF/A-3 provider")

func (p *provider) fail(what string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %w", what, errUnsupported)
	}
}

// abs converts a position in the content box to points from the page's top left corner.
func absX(x float64) float64 { return (marginL + x) * ptPerMM }
func absY(y float64) float64 { return (marginT + y) * ptPerMM }

func pdfColor(c *props.Color) pdfa.Color {
	if c == nil {
		return pdfa.Color{}
	}
	return pdfa.Color{R: uint8(c.Red), G: uint8(c.Green), B: uint8(c.Blue)}
}

func (p *provider) face(style fontstyle.Type) *pdfa.Font {
	if style == fontstyle.Bold || style == fontstyle.BoldItalic {
		return p.r.bold
	}
	return p.r.regular
}

// CreateRow ends a row: the cursor moves to the start of the next.
func (p *provider) CreateRow(height float64) { p.x, p.y = 0, p.y+height }

// CreateCol paints a column's background at the cursor and moves the cursor past it.
func (p *provider) CreateCol(width, height float64, _ *entity.Config, prop *props.Cell) {
	if prop != nil {
		if prop.BorderType != border.None {
			p.fail("cell border")
		}
		if prop.BackgroundColor != nil {
			p.page.Rect(absX(p.x), absY(p.y), width*ptPerMM, height*ptPerMM, pdfColor(prop.BackgroundColor))
		}
	}
	p.x += width
}

// GetFontHeight is the height of a line of text in mm.
func (p *provider) GetFontHeight(prop *props.Font) float64 { return lineHeight(prop.Size) }

// GetLinesQuantity is the number of lines text breaks into in colWidth mm.
func (p *provider) GetLinesQuantity(text string, prop *props.Text, colWidth float64) int {
	return len(p.wrap(text, prop, colWidth))
}

// wrap breaks text into lines no wider than width mm, once for measuring and drawing.
func (p *provider) wrap(text string, prop *props.Text, width float64) []string {
	f := p.face(prop.Style)
	k := wrapKey{text: text, size: prop.Size, width: width, bold: f == p.r.bold}
	if lines, ok := p.wrapped[k]; ok {
		return lines
	}
	lines := wrap(f, prop.Size, width*ptPerMM, text)
	if p.wrapped == nil {
		p.wrapped = map[wrapKey][]string{}
	}
	p.wrapped[k] = lines
	return lines
}

// AddText draws text in the cell, broken into lines at spaces where it is wider than the
// cell, each line aligned as prop says.
func (p *provider) AddText(text string, cell *entity.Cell, prop *props.Text) {
	f := p.face(prop.Style)
	width := cell.Width - prop.Left - prop.Right
	lh := lineHeight(prop.Size) + prop.VerticalPadding
	base := cell.Y + prop.Top + f.Ascent(prop.Size)/ptPerMM
	for i, l := range p.wrap(text, prop, width) {
		x := cell.X + prop.Left
		switch prop.Align {
		case align.Right:
			x = cell.X + cell.Width - prop.Right - f.Width(l, prop.Size)/ptPerMM
		case align.Center, align.Middle:
			x += (width - f.Width(l, prop.Size)/ptPerMM) / 2
		case align.Left, align.Justify, align.Top, align.Bottom:
		}
		p.page.Text(f, prop.Size, absX(x), absY(base+float64(i)*lh), l, pdfColor(prop.Color))
	}
}

// AddLine draws a solid line across the cell at prop's offset, prop's share of its size long.
func (p *provider) AddLine(cell *entity.Cell, prop *props.Line) {
	if prop.Style != "" && prop.Style != linestyle.Solid {
		p.fail("dashed line")
		return
	}
	c := pdfColor(prop.Color)
	if prop.Orientation == orientation.Vertical {
		size := cell.Height * prop.SizePercent / 100
		x, y := cell.X+cell.Width*prop.OffsetPercent/100, cell.Y+(cell.Height-size)/2
		p.page.Line(absX(x), absY(y), absX(x), absY(y+size), prop.Thickness*ptPerMM, c)
		return
	}
	size := cell.Width * prop.SizePercent / 100
	x, y := cell.X+(cell.Width-size)/2, cell.Y+cell.Height*prop.OffsetPercent/100
	p.page.Line(absX(x), absY(y), absX(x+size), absY(y), prop.Thickness*ptPerMM, c)
}

// place fits a w × h picture into the cell as maroto does: scaled to prop's share of the
// cell, keeping its proportions, centred or at prop's left and top offsets.
func place(cell *entity.Cell, prop *props.Rect, w, h float64) (x, y, pw, ph float64) {
	sw, sh := cell.Width*prop.Percent/100, cell.Height*prop.Percent/100
	scale := min(sw/w, sh/h)
	if prop.JustReferenceWidth {
		scale = sw / w
	}
	pw, ph = w*scale, h*scale
	if prop.Center {
		return cell.X + (cell.Width-pw)/2, cell.Y + (cell.Height-ph)/2, pw, ph
	}
	return cell.X + prop.Left, cell.Y + prop.Top, pw, ph
}

// qrCode encodes code as a QR code at error correction level M, as EPC069-12 asks, not
// raised where the data would fit a higher level (Nayuki's algorithm, through
// github.com/piglig/go-qr: about 0.1 ms for an EPC payload, where boombuler/barcode, which
// maroto's gofpdf provider uses, takes 2.5 ms choosing the mask).
func qrCode(code string) (*goqr.QrCode, error) {
	segs, err := goqr.MakeSegments(code)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	qr, err := goqr.EncodeSegments(segs, goqr.Medium, 1, 40, -1, false)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return qr, nil
}

// AddQrCode draws code as a QR code in vectors: each row's runs of dark modules as filled
// rectangles.
func (p *provider) AddQrCode(code string, cell *entity.Cell, prop *props.Rect) {
	qr, err := qrCode(code)
	if err != nil {
		p.err = errors.Join(p.err, err)
		return
	}
	n := qr.Size()
	x, y, side, _ := place(cell, prop, float64(n), float64(n))
	var runs [][3]int
	for row := range n {
		for col := 0; col < n; {
			if !qr.Module(col, row) {
				col++
				continue
			}
			start := col
			for col < n && qr.Module(col, row) {
				col++
			}
			runs = append(runs, [3]int{row, start, col - start})
		}
	}
	p.page.Modules(absX(x), absY(y), side/float64(n)*ptPerMM, runs, pdfa.Color{})
}

// GetDimensionsByQrCode is the QR code's size in modules.
func (p *provider) GetDimensionsByQrCode(code string) (*entity.Dimensions, error) {
	qr, err := qrCode(code)
	if err != nil {
		return nil, err
	}
	n := float64(qr.Size())
	return &entity.Dimensions{Width: n, Height: n}, nil
}

// AddImageFromBytes draws a PNG or JPEG image in the cell.
func (p *provider) AddImageFromBytes(data []byte, cell *entity.Cell, prop *props.Rect, _ extension.Type) {
	im, err := p.r.images.get(data)
	if err != nil {
		p.err = errors.Join(p.err, fmt.Errorf("image: %w", err))
		return
	}
	x, y, w, h := place(cell, prop, float64(im.Width), float64(im.Height))
	p.page.Image(im, absX(x), absY(y), w*ptPerMM, h*ptPerMM)
}

// GetDimensionsByImageByte is the image's size in pixels.
func (p *provider) GetDimensionsByImageByte(data []byte, _ extension.Type) (*entity.Dimensions, error) {
	im, err := p.r.images.get(data)
	if err != nil {
		return nil, err
	}
	return &entity.Dimensions{Width: float64(im.Width), Height: float64(im.Height)}, nil
}

func (p *provider) AddMatrixCode(string, *entity.Cell, *props.Rect) { p.fail("data-matrix code") }
func (p *provider) AddBarCode(string, *entity.Cell, *props.Barcode) { p.fail("bar code") }
func (p *provider) AddImageFromFile(string, *entity.Cell, *props.Rect) {
	p.fail("image from a file (pass its bytes)")
}
func (p *provider) AddBackgroundImageFromBytes([]byte, *entity.Cell, *props.Rect, extension.Type) {
	p.fail("background image")
}
func (p *provider) GetDimensionsByMatrixCode(string) (*entity.Dimensions, error) {
	return nil, fmt.Errorf("data-matrix code: %w", errUnsupported)
}
func (p *provider) GetDimensionsByImage(string) (*entity.Dimensions, error) {
	return nil, fmt.Errorf("image from a file (pass its bytes): %w", errUnsupported)
}
func (p *provider) SetProtection(pr *entity.Protection) {
	if pr != nil {
		p.fail("protection (PDF/A forbids encryption)")
	}
}

// SetCompression does nothing: kontor always compresses.
func (p *provider) SetCompression(bool) {}

// SetMetadata does nothing: Renderer.PDF writes the document's metadata with the XMP the
// Factur-X profile requires.
func (p *provider) SetMetadata(*entity.Metadata) {}

// GenerateBytes is refused: Renderer.PDF writes the document with its attachment.
func (p *provider) GenerateBytes() ([]byte, error) {
	return nil, fmt.Errorf("GenerateBytes: %w; use Renderer.PDF", errUnsupported)
}

// imageCache keeps images parsed once for all documents, by their bytes (the seller's
// logo is decoded and compressed once, not for every invoice), and the logos by their ID.
type imageCache struct {
	mu     sync.Mutex
	images map[string]*pdfa.Image
	logos  map[string][]byte
}

func (c *imageCache) get(data []byte) (*pdfa.Image, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if im, ok := c.images[string(data)]; ok {
		return im, nil
	}
	im, err := pdfa.NewImage(data)
	if err != nil {
		return nil, err
	}
	if c.images == nil {
		c.images = map[string]*pdfa.Image{}
	}
	c.images[string(data)] = im
	return im, nil
}

// AddLogo gives the renderer a logo image (PNG or JPEG), which invoices name by its ID
// (invoice.LogoID).
func (r *Renderer) AddLogo(data []byte) error {
	if _, err := r.images.get(data); err != nil {
		return err
	}
	r.images.mu.Lock()
	defer r.images.mu.Unlock()
	if r.images.logos == nil {
		r.images.logos = map[string][]byte{}
	}
	r.images.logos[invoice.LogoID(data)] = data
	return nil
}

// HasLogo reports whether the renderer has the logo named id.
func (r *Renderer) HasLogo(id string) bool {
	_, ok := r.logo(id)
	return ok
}

func (r *Renderer) logo(id string) ([]byte, bool) {
	r.images.mu.Lock()
	defer r.images.mu.Unlock()
	data, ok := r.images.logos[id]
	return data, ok
}
