package dataset_test

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withLetterhead returns seller.json with fields added before its closing brace.
func withLetterhead(fields string) []byte {
	s := strings.TrimRight(datasettest.Seller, "\n ")
	return []byte(strings.TrimSuffix(s, "}") + ", " + fields + "}\n")
}

// TestLetterhead: the register, directors, seat, logo and accent colour are optional and
// checked; the logo is read from beside seller.json, and a bad one is an error naming the
// file.
func TestLetterhead(t *testing.T) {
	logo := pngOf(t, 160, 160)
	for _, tt := range []struct {
		name   string
		fields string
		files  map[string][]byte
		wants  string // "" for a dataset that loads
	}{
		{"none (a sole trader)", "", nil, ""},
		{"all", `"register_court": "Amtsgericht Charlottenburg", "register_number": "HRB 123456 B", "managing_directors": ["A B", "C D"], "seat": "Berlin", "logo": "logo.png", "accent_color": "#183E6E"`,
			map[string][]byte{"logo.png": logo}, ""},
		{"court without number", `"register_court": "Amtsgericht Charlottenburg"`, nil, "seller.json: field register_number: register_court and register_number go together"},
		{"empty director", `"managing_directors": ["A B", " "]`, nil, "field managing_directors[1]: is empty"},
		{"accent not a colour", `"accent_color": "blue"`, nil, `field accent_color: "blue" is not a colour`},
		{"logo missing", `"logo": "logo.png"`, nil, "logo.png: logo (seller.json, field logo): cannot read"},
		{"logo not an image", `"logo": "logo.png"`, map[string][]byte{"logo.png": []byte("GIF89a")}, "logo.png: logo (seller.json, field logo): is not a PNG or JPEG image"},
		{"logo too large a file", `"logo": "logo.png"`, map[string][]byte{"logo.png": append(append([]byte(nil), logo...), make([]byte, 600<<10)...)}, "is 600 KiB; at most 512 KiB"},
		{"logo too many pixels", `"logo": "logo.png"`, map[string][]byte{"logo.png": pngOf(t, 3000, 10)}, "is 3000 × 10 pixels; at most 2000 on a side"},
		{"logo in another directory", `"logo": "../logo.png"`, nil, "must be a file name beside seller.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := datasettest.World{}.FS()
			if tt.fields != "" {
				f["seller.json"] = &fstest.MapFile{Data: withLetterhead(tt.fields)}
			}
			for name, data := range tt.files {
				f[name] = &fstest.MapFile{Data: data}
			}
			ds, err := dataset.Load(f)
			if tt.wants == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ds.Seller.Logo, tt.files["logo.png"]) {
					t.Errorf("logo %d bytes, want %d", len(ds.Seller.Logo), len(tt.files["logo.png"]))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wants) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.wants)
			}
		})
	}
}
