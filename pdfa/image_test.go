package pdfa

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"testing"
	"time"
)

func encoded(t *testing.T, enc func(*bytes.Buffer, image.Image) error, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestImages: a PNG becomes RGB with a soft mask only where it has transparency, a JPEG
// is embedded as it is, anything else is refused; the images drawn are the page's XObjects.
func TestImages(t *testing.T) {
	opaque := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for i := range opaque.Pix {
		opaque.Pix[i] = 0xFF
	}
	clear := image.NewNRGBA(image.Rect(0, 0, 4, 2)) // all transparent
	gray := image.NewGray(image.Rect(0, 0, 3, 3))
	gray.Set(1, 1, color.Gray{Y: 80})
	pngEnc := func(b *bytes.Buffer, img image.Image) error { return png.Encode(b, img) }
	jpgEnc := func(b *bytes.Buffer, img image.Image) error { return jpeg.Encode(b, img, nil) }
	for _, tt := range []struct {
		name              string
		data              []byte
		w, h              int
		mask              bool
		filter, colourSpc string
	}{
		{"opaque PNG", encoded(t, pngEnc, opaque), 4, 2, false, "/FlateDecode", "/DeviceRGB"},
		{"transparent PNG", encoded(t, pngEnc, clear), 4, 2, true, "/FlateDecode", "/DeviceRGB"},
		{"grey JPEG", encoded(t, jpgEnc, gray), 3, 3, false, "/DCTDecode", "/DeviceGray"},
		{"colour JPEG", encoded(t, jpgEnc, opaque), 4, 2, false, "/DCTDecode", "/DeviceRGB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			im, err := NewImage(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if im.Width != tt.w || im.Height != tt.h || (im.mask != nil) != tt.mask {
				t.Errorf("%d × %d, mask %v; want %d × %d, mask %v", im.Width, im.Height, im.mask != nil, tt.w, tt.h, tt.mask)
			}
			for _, want := range []string{tt.filter, tt.colourSpc} {
				if !bytes.Contains(im.dict, []byte(want)) {
					t.Errorf("dictionary %s has no %s", im.dict, want)
				}
			}
		})
	}
	for _, bad := range [][]byte{[]byte("GIF89a"), []byte("\x89PNG\r\n\x1a\nbroken"), {0xFF, 0xD8, 0xFF}} {
		if _, err := NewImage(bad); !errors.Is(err, ErrImageFormat) {
			t.Errorf("%q: error %v, want ErrImageFormat", bad, err)
		}
	}

	im, _ := NewImage(encoded(t, pngEnc, clear))
	d := NewDocument(100, 100)
	p := d.AddPage()
	p.Image(im, 10, 10, 20, 10)
	p.Image(im, 40, 10, 20, 10) // the same image twice: one XObject
	b, _ := os.ReadFile("../zugferd/assets/sRGB.icc")
	intent, err := NewOutputIntent(b, "sRGB IEC61966-2.1")
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := d.Write(Options{Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), OutputIntent: intent,
		Attachment: Attachment{Name: "a.xml", MIMEType: "text/xml", Relationship: "Data", Data: []byte("<a/>")}})
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(pdf, []byte("/Subtype /Image")); n != 2 { // the image and its mask
		t.Errorf("%d image objects, want 2", n)
	}
	if !bytes.Contains(pdf, []byte("/XObject << /Im1 ")) || !bytes.Contains(pdf, []byte("/SMask ")) {
		t.Error("no XObject resource or no soft mask")
	}
}
