// Package synthetic writes large synthetic datasets in kontor's dataset format, for
// benchmarks: a realistic mix of license methods, channels, countries, terms, trials,
// cancellations, usage types with PSP orders, spending limits, and a few percent of late
// and duplicate usage events, around the period-end run as of 2026-11-01.
package synthetic

import (
	"bufio"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/fixtures"
)

// Options size a synthetic dataset.
type Options struct {
	Customers int
	Events    int
	Seed      uint64
}

type country struct {
	code, vatPrefix, city string
	weight                int
	method                dataset.PaymentMethod
}

var countries = []country{
	{"DE", "DE", "Berlin", 60, dataset.SEPACreditTransfer},
	{"AT", "ATU", "Wien", 6, dataset.SEPACreditTransfer},
	{"FR", "FR", "Paris", 5, dataset.SEPACreditTransfer},
	{"NL", "NL", "Amsterdam", 5, dataset.SEPACreditTransfer},
	{"PL", "PL", "Łódź", 4, dataset.SEPACreditTransfer},
	{"GR", "EL", "Αθήνα", 2, dataset.SEPACreditTransfer},
	{"IT", "IT", "Milano", 3, dataset.SEPACreditTransfer},
	{"CH", "", "Zürich", 6, dataset.Card},
	{"US", "", "New York", 5, dataset.Card},
	{"GB", "", "London", 3, dataset.OnlinePayment},
	{"NO", "", "Oslo", 1, dataset.Card},
}

// Write writes a dataset into dir (created if needed) and returns the number of usage
// events written (with duplicates).
func Write(dir string, opt Options) (int, error) {
	if opt.Customers < 1 {
		return 0, fmt.Errorf("synthetic: at least one customer")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	for _, f := range []string{"seller.json", "logo.png", "catalog.json"} {
		b, err := fs.ReadFile(fixtures.Catalog, "demo/"+f)
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return 0, err
		}
	}
	var cat dataset.Catalog
	b, _ := fs.ReadFile(fixtures.Catalog, "demo/catalog.json")
	if err := json.Unmarshal(b, &cat); err != nil {
		return 0, err
	}
	manifest := fmt.Sprintf(`{"format": "kontor-dataset", "version": 1, "description": "synthetic: %d customers, %d usage events (seed %d)", "as_of": "2026-11-01", "billed_as_of": "2026-10-01"}`+"\n", opt.Customers, opt.Events, opt.Seed)
	if err := os.WriteFile(filepath.Join(dir, "dataset.json"), []byte(manifest), 0o644); err != nil {
		return 0, err
	}
	g := &gen{r: rand.New(rand.NewPCG(opt.Seed, 0x6b6f6e746f72)), cat: cat, opt: opt}
	return g.write(dir)
}

type gen struct {
	r   *rand.Rand
	cat dataset.Catalog
	opt Options
}

type csvFile struct {
	f *os.File
	b *bufio.Writer
	w *csv.Writer
}

func create(dir, name string, header ...string) (*csvFile, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	b := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(b)
	return &csvFile{f, b, w}, w.Write(header)
}

func (c *csvFile) close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	if err := c.b.Flush(); err != nil {
		return err
	}
	return c.f.Close()
}

func (g *gen) guid() string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", g.r.Uint32(), g.r.Uint32()&0xffff, g.r.Uint32()&0xfff, g.r.Uint32()&0xfff, g.r.Uint64()&0xffffffffffff)
}

func (g *gen) country() country {
	n := g.r.IntN(100)
	for _, c := range countries {
		if n < c.weight {
			return c
		}
		n -= c.weight
	}
	return countries[0]
}

type sub struct {
	id, plan string
	usage    []string
	method   dataset.LicenseMethod
	from     time.Time // when usage may occur
}

func (g *gen) write(dir string) (int, error) {
	cust, err := create(dir, "customers.csv", "id", "name", "street", "postcode", "city", "country", "vat_id", "email", "payment_method", "tenant_id", "tenant_name")
	if err != nil {
		return 0, err
	}
	partners := max(1, g.opt.Customers/200)
	part, err := create(dir, "partners.csv", "id", "microsoft_partner_id", "name", "street", "postcode", "city", "country", "vat_id", "email")
	if err != nil {
		return 0, err
	}
	for i := range partners {
		part.w.Write([]string{fmt.Sprintf("P-%05d", i), strconv.Itoa(5000000 + i), fmt.Sprintf("Partner %d GmbH", i), "Partnerweg 1", "80331", "München", "DE", fmt.Sprintf("DE%09d", 100000000+i), "billing@partner.example"})
	}
	subsF, err := create(dir, "subscriptions.csv", "id", "customer_id", "plan_id", "channel", "partner_id", "trial_start", "trial_extensions", "activated_on", "cancelled_on")
	if err != nil {
		return 0, err
	}
	reps, err := create(dir, "license_reports.csv", "subscription_id", "reported_on", "licensed_users", "licensable_users", "companies", "evaluation_companies")
	if err != nil {
		return 0, err
	}
	lims, err := create(dir, "spending_limits.csv", "subscription_id", "usage_type", "limit")
	if err != nil {
		return 0, err
	}
	var metered []sub
	subs := 0
	for i := range g.opt.Customers {
		c := g.country()
		id := fmt.Sprintf("C-%07d", i)
		vat := ""
		if c.vatPrefix != "" {
			vat = fmt.Sprintf("%s%09d", c.vatPrefix, 100000000+i)
		}
		cust.w.Write([]string{id, fmt.Sprintf("Kunde %d GmbH", i), fmt.Sprintf("Straße %d", i%300+1), fmt.Sprintf("%05d", 10000+i%89999), c.city, c.code, vat,
			fmt.Sprintf("ap%d@customer.example", i), string(c.method), g.guid(), fmt.Sprintf("tenant%d.onmicrosoft.com", i)})
		for range 1 + g.r.IntN(3) {
			if m, ok := g.subscription(subFiles{subsF, reps, lims}, fmt.Sprintf("S-%08d", subs), id, partners); ok {
				metered = append(metered, m)
			}
			subs++
		}
	}
	for _, f := range []*csvFile{cust, part, subsF, reps, lims} {
		if err := f.close(); err != nil {
			return 0, err
		}
	}
	return g.usage(dir, metered)
}

// subFiles are the files a subscription is written to.
type subFiles struct{ subs, reps, lims *csvFile }

// subscription writes subscription sid of customer id (of a random plan, channel, trial
// and cancellation), its license reports and spending limits; it returns the
// subscription and whether it has metered usage.
func (g *gen) subscription(f subFiles, sid, id string, partners int) (sub, bool) {
	p := g.cat.Plans[g.r.IntN(len(g.cat.Plans))]
	channel, partner := "end_customer", ""
	switch n := g.r.IntN(100); {
	case n < 15:
		channel, partner = "partner", fmt.Sprintf("P-%05d", g.r.IntN(partners))
	case n < 20:
		channel = "marketplace"
	}
	act := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.r.IntN(1030))
	trial, ext, cancelled := "", "", ""
	if g.r.IntN(100) < 5 {
		start := time.Date(2026, 9, 20+g.r.IntN(30), 0, 0, 0, 0, time.UTC)
		trial = start.Format(time.DateOnly)
		act = start.AddDate(0, 0, g.r.IntN(20))
		if g.r.IntN(2) == 0 {
			ext = "1"
		}
	}
	if g.r.IntN(100) < 3 {
		cancelled = time.Date(2026, 10, 1+g.r.IntN(31), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if cancelled < act.Format(time.DateOnly) {
			cancelled = act.Format(time.DateOnly)
		}
	}
	f.subs.w.Write([]string{sid, id, p.ID, channel, partner, trial, ext, act.Format(time.DateOnly), cancelled})
	switch p.LicenseMethod {
	case dataset.PerUser:
		users := 1 + g.r.IntN(40)
		f.reps.w.Write([]string{sid, "2023-12-31", strconv.Itoa(users), strconv.Itoa(users + g.r.IntN(5)), "", ""})
		if g.r.IntN(10) == 0 {
			f.reps.w.Write([]string{sid, time.Date(2026, 10, 2+g.r.IntN(29), 0, 0, 0, 0, time.UTC).Format(time.DateOnly), strconv.Itoa(users + 3), strconv.Itoa(users + 8), "", ""})
		}
	case dataset.PerCompany:
		f.reps.w.Write([]string{sid, "2023-12-31", "", "", strconv.Itoa(1 + g.r.IntN(8)), strconv.Itoa(g.r.IntN(2))})
	case dataset.PerTenant: // one tenant: no license report
	}
	var types []string
	for _, u := range p.Usage {
		types = append(types, u.Type)
		if g.r.IntN(20) == 0 {
			f.lims.w.Write([]string{sid, u.Type, strconv.Itoa(500 + g.r.IntN(3000))})
		}
	}
	return sub{id: sid, plan: p.ID, usage: types, method: p.LicenseMethod, from: act}, len(types) > 0
}

// eventID returns a random ID in the form of a version 4 UUID, as senders of usage
// events commonly make them: IDs in no particular order, which is what the store's
// unique index on them must cope with (sequential IDs would flatter the import).
func (g *gen) eventID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], g.r.Uint64())
	binary.BigEndian.PutUint64(b[8:], g.r.Uint64())
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// usage writes the events: October 2026 mostly, 1 % September events received in October
// (late), 2 % resent duplicates in a second file.
func (g *gen) usage(dir string, metered []sub) (int, error) {
	if len(metered) == 0 || g.opt.Events == 0 {
		return 0, nil
	}
	main, err := create(dir, "usage.csv", "event_id", "subscription_id", "usage_type", "quantity", "occurred_at", "received_at", "via_psp")
	if err != nil {
		return 0, err
	}
	dup, err := create(dir, "usage-resent.csv", "event_id", "subscription_id", "usage_type", "quantity", "occurred_at", "received_at", "via_psp")
	if err != nil {
		return 0, err
	}
	berlin := time.FixedZone("CEST", 2*3600)
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, berlin)
	written := 0
	rec := make([]string, 7)
	for range g.opt.Events {
		s := metered[g.r.IntN(len(metered))]
		typ := s.usage[g.r.IntN(len(s.usage))]
		at := oct.Add(time.Duration(g.r.Int64N(int64(30 * 24 * time.Hour))))
		recv := ""
		if g.r.IntN(100) == 0 {
			at = at.AddDate(0, -1, 0)
			recv = at.AddDate(0, 1, 0).Format(time.RFC3339)
		}
		psp := ""
		if typ == "payment-instructions" && g.r.IntN(10) < 3 {
			psp = "true"
		}
		rec[0], rec[1], rec[2] = g.eventID(), s.id, typ
		rec[3] = strconv.Itoa(1 + g.r.IntN(20))
		rec[4], rec[5], rec[6] = at.Format(time.RFC3339), recv, psp
		if err := main.w.Write(rec); err != nil {
			return written, err
		}
		written++
		if g.r.IntN(50) == 0 {
			dup.w.Write(rec)
			written++
		}
	}
	if err := main.close(); err != nil {
		return written, err
	}
	return written, dup.close()
}
