package zugferd

import "testing"

func TestGroupIBAN(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"DE89370400440532013000", "DE89 3704 0044 0532 0130 00"},
		{"NL91ABNA0417164300", "NL91 ABNA 0417 1643 00"},
		{"DE89", "DE89"},
		{"", ""},
	} {
		if got := groupIBAN(tt.in); got != tt.want {
			t.Errorf("groupIBAN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
