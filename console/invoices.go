package console

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
)

type invoicesPage struct {
	Query    store.InvoiceQuery
	From, To string
	Found    []store.InvoiceRow
	Statuses invoice.CodeList[invoice.Status]
	Error    string
	Credited string
}

// invoicesPage finds issued invoices and credit notes by number, buyer, period and state.
func (s *Server) invoicesPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	p := invoicesPage{Statuses: invoice.Statuses, From: v.Get("from"), To: v.Get("to"), Credited: v.Get("credited"),
		Query: store.InvoiceQuery{Number: strings.TrimSpace(v.Get("number")), Buyer: strings.TrimSpace(v.Get("buyer")), Status: invoice.Status(v.Get("status"))}}
	if p.Query.Status != "" && !invoice.Statuses.Valid(p.Query.Status) {
		p.Error = "unknown state " + string(p.Query.Status)
		s.renderStatus(w, r, http.StatusBadRequest, "invoices", p)
		return
	}
	if p.From != "" || p.To != "" {
		from, err1 := calendar.Parse(p.From)
		to, err2 := calendar.Parse(p.To)
		if err1 != nil || err2 != nil || to.Before(from) {
			p.Error = "the period needs two dates YYYY-MM-DD, the first not after the second"
			s.renderStatus(w, r, http.StatusBadRequest, "invoices", p)
			return
		}
		p.Query.Period = calendar.Period{Start: from, End: to}
	}
	found, err := s.cfg.Store.SearchInvoices(r.Context(), p.Query)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Found = found
	s.render(w, r, "invoices", p)
}

// fileKinds are the files of an issued document the console serves, with their types.
var fileKinds = map[string]string{"pdf": "application/pdf", "xml": "application/xml"}

// download serves a document's PDF or XML from the archive. The archive key comes from
// the store, never from the request, and the bytes are served only when their SHA-256 is
// the one recorded when they were rendered.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	number, kind := r.PathValue("number"), r.PathValue("kind")
	ctype, ok := fileKinds[kind]
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, err := s.cfg.Store.ArchivedFileOf(r.Context(), number, kind)
	if errors.Is(err, store.ErrNoDocument) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data, err := s.cfg.Archive.Get(r.Context(), f.Key)
	if errors.Is(err, archive.ErrNotFound) {
		s.cfg.Logger.Error("console: archived file missing", "number", number, "key", f.Key)
		http.Error(w, "the archived file is missing; run kontor archive verify", http.StatusBadGateway)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 {
		s.cfg.Logger.Error("console: archived file changed", "number", number, "key", f.Key)
		http.Error(w, "the archived file is not the one issued; it is not served (run kontor archive verify)", http.StatusBadGateway)
		return
	}
	s.audit(r, userOf(r).Name, "download", number+"."+kind)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, fileName(number), kind))
	_, _ = w.Write(data)
}

// fileName keeps the characters of a document number a file name may hold.
func fileName(number string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, number)
}

// credit issues a credit note for the whole of an invoice, with the posted reason.
func (s *Server) credit(w http.ResponseWriter, r *http.Request) {
	number, reason := r.PathValue("number"), strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		http.Error(w, "a credit note needs a reason", http.StatusBadRequest)
		return
	}
	asOf := calendar.Of(s.now(), s.location(r))
	sum, err := jobs.CreditNote(r.Context(), s.cfg.Store, number, nil, reason, jobs.RunOptions{AsOf: asOf,
		Renderer: s.cfg.Renderer, Archive: s.cfg.Archive, Logger: s.cfg.Logger, StartedBy: userOf(r).Name, Charger: s.cfg.Charger})
	if err != nil {
		s.cfg.Logger.Warn("console: credit note refused", "number", number, "err", err)
		http.Error(w, "no credit note: "+err.Error(), http.StatusConflict)
		return
	}
	issued := ""
	if len(sum.Issued) > 0 {
		issued = sum.Issued[0].Number
	}
	s.audit(r, userOf(r).Name, "credit", number+" by "+issued+": "+reason)
	http.Redirect(w, r, "/invoices?credited="+issued+"&number="+issued, http.StatusSeeOther)
}
