package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // the logo may be a JPEG
	_ "image/png"  // or a PNG
	"io/fs"
	"regexp"
	"strings"
)

// The limits of a logo: a letterhead's logo is a few kilobytes; these keep a mistaken
// photograph or a decompression bomb out of every invoice.
const (
	maxLogoBytes  = 512 << 10
	maxLogoPixels = 2000
)

var accentPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// letterhead checks the seller's optional register and letterhead fields and reads the logo.
func (l *loader) letterhead(s *Seller) {
	c := func(ok bool, field, format string, args ...any) bool {
		return l.jsonCheck(ok, SellerFile, "", field, format, args...)
	}
	c((s.RegisterCourt == "") == (s.RegisterNumber == ""), "register_number",
		"register_court and register_number go together (%q, %q)", s.RegisterCourt, s.RegisterNumber)
	for i, d := range s.ManagingDirectors {
		c(strings.TrimSpace(d) != "", fmt.Sprintf("managing_directors[%d]", i), "is empty")
	}
	c(s.AccentColor == "" || accentPattern.MatchString(s.AccentColor), "accent_color", "%q is not a colour like \"#1A4D8F\"", s.AccentColor)
	s.Logo = nil
	if s.LogoFile == "" {
		return
	}
	data, err := readLogo(l.fsys, s.LogoFile)
	if err != nil {
		l.add(&Error{File: s.LogoFile, Reason: "logo (seller.json, field logo): " + err.Error()})
		return
	}
	s.Logo = data
}

func readLogo(fsys fs.FS, name string) ([]byte, error) {
	if !fs.ValidPath(name) || strings.Contains(name, "/") {
		return nil, errors.New("must be a file name beside seller.json")
	}
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if info.Size() > maxLogoBytes {
		return nil, fmt.Errorf("is %d KiB; at most %d KiB", info.Size()>>10, maxLogoBytes>>10)
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("is not a PNG or JPEG image: %w", err)
	}
	if cfg.Width > maxLogoPixels || cfg.Height > maxLogoPixels {
		return nil, fmt.Errorf("is %d × %d pixels; at most %d on a side", cfg.Width, cfg.Height, maxLogoPixels)
	}
	if format == "jpeg" && cfg.ColorModel == color.CMYKModel {
		return nil, errors.New("is a CMYK JPEG; save it as RGB")
	}
	return data, nil
}
