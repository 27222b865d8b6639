package pdfa

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"image/jpeg"
	"image/png"
	"strconv"
)

// Image is a raster image prepared once for any number of documents: a JPEG kept as it is
// (DCTDecode), a PNG decoded and compressed as RGB, with its transparency as a soft mask
// (which PDF/A-2 and -3 allow). It is safe for concurrent use.
type Image struct {
	// Width and Height are the image's size in pixels.
	Width, Height int
	dict, data    []byte // the image XObject's dictionary entries but the mask, and its stream
	mask          []byte // the soft mask's compressed stream; nil when the image is opaque
}

// ErrImageFormat is the error of an image that is neither a PNG nor a JPEG kontor can embed.
var ErrImageFormat = errors.New("not a PNG or a baseline RGB or grayscale JPEG")

// NewImage reads a PNG or JPEG image. CMYK JPEGs are refused: their colours are not in the
// document's sRGB output intent.
func NewImage(data []byte) (*Image, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return pngImage(data)
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		return jpegImage(data)
	}
	return nil, ErrImageFormat
}

func jpegImage(data []byte) (*Image, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImageFormat, err)
	}
	space := ""
	switch cfg.ColorModel {
	case color.YCbCrModel, color.RGBAModel:
		space = "/DeviceRGB"
	case color.GrayModel:
		space = "/DeviceGray"
	default:
		return nil, fmt.Errorf("%w: a CMYK JPEG", ErrImageFormat)
	}
	return &Image{Width: cfg.Width, Height: cfg.Height, data: data,
		dict: fmt.Appendf(nil, "/Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode", cfg.Width, cfg.Height, space)}, nil
}

func pngImage(data []byte) (*Image, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImageFormat, err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rgb := make([]byte, 0, w*h*3)
	alpha := make([]byte, 0, w*h)
	opaque := true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			rgb = append(rgb, c.R, c.G, c.B)
			alpha = append(alpha, c.A)
			opaque = opaque && c.A == 0xFF
		}
	}
	im := &Image{Width: w, Height: h, data: deflate(rgb),
		dict: fmt.Appendf(nil, "/Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode", w, h)}
	if !opaque {
		im.mask = deflate(alpha)
	}
	return im, nil
}

// writeImages adds the images the pages use and returns their resource dictionary entries.
func (d *Document) writeImages(t *objectTable) []byte {
	var res bytes.Buffer
	for i, im := range d.images {
		smask := ""
		if im.mask != nil {
			m := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>",
				im.Width, im.Height, len(im.mask)), stream: im.mask, shared: true})
			smask = fmt.Sprintf(" /SMask %d 0 R", m)
		}
		o := t.add(&object{dict: fmt.Appendf(nil, "<< /Type /XObject /Subtype /Image %s%s /Length %d >>", im.dict, smask, len(im.data)),
			stream: im.data, shared: true})
		fmt.Fprintf(&res, " /Im%d %d 0 R", i+1, o)
	}
	return res.Bytes()
}

func (d *Document) imageIndex(im *Image) int {
	for i, m := range d.images {
		if m == im {
			return i
		}
	}
	d.images = append(d.images, im)
	return len(d.images) - 1
}

// Image draws im scaled to w × h with its top left corner at (x, y).
func (p *Page) Image(im *Image, x, y, w, h float64) {
	i := p.doc.imageIndex(im)
	b := &p.content
	b.WriteString("q ")
	num(b, w)
	b.WriteString(" 0 0 ")
	num(b, h)
	b.WriteByte(' ')
	num(b, x)
	b.WriteByte(' ')
	num(b, p.doc.height-y-h)
	fmt.Fprintf(b, " cm /Im%d Do Q\n", i+1)
}

// Modules fills runs of square modules of side size, a grid's top left corner at (x, y):
// each run is a row, its first column and its length, in modules. The grid is drawn as one
// path in module units under a scaling transform (a QR code as vectors, its coordinates
// small integers).
func (p *Page) Modules(x, y, size float64, runs [][3]int, c Color) {
	p.setFill(c)
	b := &p.content
	b.WriteString("q ")
	num(b, size)
	b.WriteString(" 0 0 ")
	num(b, -size)
	b.WriteByte(' ')
	num(b, x)
	b.WriteByte(' ')
	num(b, p.doc.height-y)
	b.WriteString(" cm\n")
	for _, r := range runs {
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(r[1]), 10))
		b.WriteByte(' ')
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(r[0]), 10))
		b.WriteByte(' ')
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(r[2]), 10))
		b.WriteString(" 1 re\n")
	}
	b.WriteString("f Q\n")
}
