package dataset

import (
	"math/big"
	"regexp"
	"strings"
)

// The code lists below are those the CEN EN 16931 validation artefacts accept
// (BR-CL-14 for countries, BR-CL-04 for currencies), so a dataset that loads cannot produce
// an invoice the validator rejects for its codes.
var (
	countryCodes  = codeSet("AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BL BJ BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW")
	currencyCodes = codeSet("AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW")
)

// euVATPrefix maps the EU member states to the prefix of their VAT IDs (Greece: EL).
var euVATPrefix = map[string]string{
	"AT": "AT", "BE": "BE", "BG": "BG", "CY": "CY", "CZ": "CZ", "DE": "DE", "DK": "DK",
	"EE": "EE", "ES": "ES", "FI": "FI", "FR": "FR", "GR": "EL", "HR": "HR", "HU": "HU",
	"IE": "IE", "IT": "IT", "LT": "LT", "LU": "LU", "LV": "LV", "MT": "MT", "NL": "NL",
	"PL": "PL", "PT": "PT", "RO": "RO", "SE": "SE", "SI": "SI", "SK": "SK",
}

// IsEU reports whether an ISO 3166-1 country code is an EU member state.
func IsEU(country string) bool { _, ok := euVATPrefix[country]; return ok }

func codeSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(s) {
		m[c] = true
	}
	return m
}

var (
	vatIDBody   = regexp.MustCompile(`^[A-Z0-9+*.]{2,13}$`)
	bicPattern  = regexp.MustCompile(`^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$`)
	emailFormat = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	unitCode    = regexp.MustCompile(`^[A-Z0-9]{2,3}$`)
	seriesChars = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,19}$`)
	// creditorID is a SEPA creditor identifier: country, check digits, business code, national ID.
	creditorID = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$`)
)

// checkVATID validates the form of a VAT ID for a country: the member state's prefix
// followed by 2 to 13 letters or digits. It does not ask VIES.
func checkVATID(id, country string) string {
	if len(id) < 4 {
		return "is too short for a VAT ID"
	}
	prefix, eu := euVATPrefix[country]
	if !eu {
		prefix = country
	}
	if id[:2] != prefix {
		return "must start with the country prefix " + prefix
	}
	if !vatIDBody.MatchString(id[2:]) {
		return "must be the prefix followed by 2 to 13 capital letters or digits, no spaces"
	}
	return ""
}

// checkIBAN validates an IBAN's form and its ISO 13616 mod-97 check digits.
func checkIBAN(iban string) string {
	if len(iban) < 15 || len(iban) > 34 {
		return "must be 15 to 34 characters, no spaces"
	}
	for i, r := range iban {
		switch {
		case r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i >= 2:
		default:
			return "must be capital letters and digits, no spaces, starting with the country code"
		}
	}
	if !countryCodes[iban[:2]] {
		return "starts with an unknown country code"
	}
	if mod97(iban[4:]+iban[:4]) != 1 {
		return "has wrong check digits"
	}
	return ""
}

// checkCreditorID validates a SEPA creditor identifier's form and its mod-97 check digits
// (computed without the 3-character business code).
func checkCreditorID(id string) string {
	if !creditorID.MatchString(id) {
		return "must be a SEPA creditor identifier such as DE98ZZZ09999999999"
	}
	if mod97(id[7:]+id[:4]) != 1 {
		return "has wrong check digits"
	}
	return ""
}

func mod97(s string) int64 {
	var digits strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			digits.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		} else {
			digits.WriteRune(r)
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	if !ok {
		return -1
	}
	return new(big.Int).Mod(n, big.NewInt(97)).Int64()
}

// isID reports whether s is an ID: letters and digits (ASCII) and . _ : -, at most 64,
// starting with a letter or digit. It is checked for every usage row, so it is a loop
// over bytes rather than a regular expression (a tenth of the time).
func isID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}
