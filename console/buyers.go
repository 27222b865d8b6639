package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/kontor-billing/kontor/dataset"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/report"
	"github.com/kontor-billing/kontor/store"
)

type buyerPage struct {
	Kind          invoice.BuyerKind
	ID            string
	Party         buyerParty
	Subscriptions []dataset.Subscription
	Status        store.CustomerStatus
}

// buyerParty is what the page shows of a customer or partner record.
type buyerParty struct {
	Name               string `json:"name"`
	Country            string `json:"country"`
	Email              string `json:"email"`
	TenantID           string `json:"tenant_id"`
	TenantName         string `json:"tenant_name"`
	MicrosoftPartnerID string `json:"microsoft_partner_id"`
}

// buyerPage shows a customer or partner: its invoices and their payments, the license
// and its grace, usage blocked by spending limits, notifications, and why the latest run
// skipped it.
func (s *Server) buyerPage(w http.ResponseWriter, r *http.Request) {
	kind, id := invoice.BuyerKind(r.PathValue("kind")), r.PathValue("id")
	if !invoice.BuyerKinds.Valid(kind) {
		http.NotFound(w, r)
		return
	}
	party, subs, err := s.cfg.Store.Buyer(r.Context(), kind, id)
	if errors.Is(err, store.ErrNoBuyer) {
		http.NotFound(w, r)
		return
	}
	p := buyerPage{Kind: kind, ID: id}
	if err == nil {
		err = json.Unmarshal(party, &p.Party)
	}
	for _, sub := range subs {
		var ds dataset.Subscription
		if err == nil {
			err = json.Unmarshal(sub, &ds)
		}
		p.Subscriptions = append(p.Subscriptions, ds)
	}
	if err == nil {
		p.Status, err = s.cfg.Store.Status(r.Context(), kind, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, userOf(r).Name, "view buyer", string(kind)+" "+id)
	s.render(w, r, "buyer", p)
}

// licensesPage serves the license report over a period, by country or app, with the
// charts kontor report licenses draws.
func (s *Server) licensesPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	by := v.Get("by")
	if by == "" {
		by = "country"
	}
	to := calendar.Of(s.now(), s.location(r))
	from := to.AddMonths(-11)
	var err1, err2 error
	if v.Get("from") != "" {
		from, err1 = calendar.Parse(v.Get("from"))
	}
	if v.Get("to") != "" {
		to, err2 = calendar.Parse(v.Get("to"))
	}
	if err1 != nil || err2 != nil || to.Before(from) || (by != "country" && by != "app") {
		http.Error(w, "from and to are dates YYYY-MM-DD, the first not after the second; by is country or app", http.StatusBadRequest)
		return
	}
	ds, err := s.cfg.Store.Dataset(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := report.Licenses(ds, from, to, by)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	html, err := report.LicensesHTML(rows, by, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(html)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	log, err := s.cfg.Store.AuditLog(r.Context(), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "audit", log)
}

// location is the billing time zone, for today's date; UTC when the store has no seller.
func (s *Server) location(r *http.Request) *time.Location {
	seller, err := s.cfg.Store.Seller(r.Context())
	if err != nil || seller.Location == nil {
		return time.UTC
	}
	return seller.Location
}
