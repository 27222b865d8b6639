// The outbox: notices and invoice emails, queued in the transaction that decides them and
// sent once each by the mail sender.

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
)

// NoticeKind is what a notice tells.
type NoticeKind string

const (
	NoticePaymentFailed      NoticeKind = "payment_failed"
	NoticeLicenseDeactivated NoticeKind = "license_deactivated"
	NoticeLicenseReactivated NoticeKind = "license_reactivated"
	NoticeInvoice            NoticeKind = "invoice" // the invoice's PDF and XML, when the seller sends them
)

// Notice is a message to a buyer. Customer, Invoice, Kind and On name it: it is queued
// once.
type Notice struct {
	Customer string
	Invoice  string
	Kind     NoticeKind
	On       calendar.Date
	Subject  string
	Message  string
	// Attachments are archive keys of the files sent with it.
	Attachments []string
}

// queueNotice puts n in the outbox unless it is there already, addressed to the billing
// email the dataset has for the buyer.
func queueNotice(ctx context.Context, tx pgx.Tx, n Notice) error {
	att, err := json.Marshal(append([]string{}, n.Attachments...))
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `insert into outbox (customer_id, invoice_number, kind, on_date, subject, message, attachments, recipient)
		values ($1, nullif($2, ''), $3, $4, $5, $6, $7,
			coalesce((select doc->>'email' from dataset_records where kind in ('customer', 'partner') and id = $1 limit 1), ''))
		on conflict do nothing`, n.Customer, n.Invoice, string(n.Kind), n.On.String(), n.Subject, n.Message, att); err != nil {
		return fmt.Errorf("queue %s notice for %s: %w", n.Kind, n.Customer, err)
	}
	return nil
}

// Mail is an outbox entry claimed for sending.
type Mail struct {
	ID          int64
	Kind        NoticeKind
	Recipient   string
	Subject     string
	Message     string
	Attachments []string
	Attempt     int
}

// OutboxLock keeps mail senders apart: one sends at a time, so that an entry left
// "sending" when the lock is taken was claimed by a sender that died.
const OutboxLock int64 = 0x6b6f6e746f720002

// RetryAfter is how long a failed send waits before the next attempt.
const RetryAfter = time.Minute

// SettleInDoubt marks the entries a dead sender left "sending" as in doubt: the sender may
// have handed them to the SMTP server before it died, so they are not sent again unless
// somebody says so (kontor outbox resend). The caller holds OutboxLock. It returns how many.
func (s *Store) SettleInDoubt(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `update outbox set state = 'in_doubt',
		last_error = 'the sender stopped between handing the message to the SMTP server and recording it sent'
		where state = 'sending'`)
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ClaimMail marks the next entry due for sending as being sent and returns it; ok is
// false when none is due. A pending entry is due, a failed one RetryAfter its last
// attempt.
func (s *Store) ClaimMail(ctx context.Context) (m Mail, ok bool, err error) {
	var att []byte
	err = s.pool.QueryRow(ctx, `update outbox set state = 'sending', claimed_at = now(), attempts = attempts + 1
		where id = (select id from outbox where state = 'pending' or (state = 'failed' and claimed_at < now() - $1::interval)
			order by id limit 1 for update skip locked)
		returning id, kind, recipient, subject, message, attachments, attempts`, RetryAfter.String()).
		Scan(&m.ID, &m.Kind, &m.Recipient, &m.Subject, &m.Message, &att, &m.Attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Mail{}, false, nil
	}
	if err != nil {
		return Mail{}, false, fmt.Errorf("outbox: claim: %w", err)
	}
	if err := json.Unmarshal(att, &m.Attachments); err != nil {
		return Mail{}, false, fmt.Errorf("outbox: entry %d: attachments: %w", m.ID, err)
	}
	return m, true, nil
}

// MailSent records entry id sent.
func (s *Store) MailSent(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `update outbox set state = 'sent', sent_at = now(), last_error = '' where id = $1`, id); err != nil {
		return fmt.Errorf("outbox: entry %d sent: %w", id, err)
	}
	return nil
}

// MailFailed records that sending entry id failed with why; it is tried again later.
func (s *Store) MailFailed(ctx context.Context, id int64, why string) error {
	if _, err := s.pool.Exec(ctx, `update outbox set state = 'failed', last_error = $2 where id = $1`, id, why); err != nil {
		return fmt.Errorf("outbox: entry %d failed: %w", id, err)
	}
	return nil
}

// ResendMail queues an entry in doubt (or failed) for sending again.
func (s *Store) ResendMail(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `update outbox set state = 'pending' where id = $1 and state in ('in_doubt', 'failed')`, id)
	if err != nil {
		return fmt.Errorf("outbox: resend %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("outbox: entry %d is not in doubt or failed", id)
	}
	return nil
}

// OutboxEntry is an outbox entry as listed.
type OutboxEntry struct {
	ID        int64
	Customer  string
	Invoice   string
	Kind      string
	On        string
	Recipient string
	State     string
	Attempts  int
	LastError string
}

// Outbox lists the entries in the given states (all when none is given), oldest first.
func (s *Store) Outbox(ctx context.Context, states ...string) ([]OutboxEntry, error) {
	rows, err := s.pool.Query(ctx, `select id, customer_id, coalesce(invoice_number, ''), kind, on_date::text, recipient, state, attempts, last_error
		from outbox where cardinality($1::text[]) = 0 or state = any($1) order by id`, states)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OutboxEntry, error) {
		var e OutboxEntry
		err := row.Scan(&e.ID, &e.Customer, &e.Invoice, &e.Kind, &e.On, &e.Recipient, &e.State, &e.Attempts, &e.LastError)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return out, nil
}

// QueueInvoiceMails puts in the outbox an email of each archived document among numbers
// (invoices and credit notes), and of each archived by a run that stopped before it was
// done, its PDF and XML attached, to the buyer's billing email: once each, however often
// it is called.
func (s *Store) QueueInvoiceMails(ctx context.Context, numbers []string) (int, error) {
	tag, err := s.pool.Exec(ctx, `insert into outbox (customer_id, invoice_number, kind, on_date, subject, message, attachments, recipient)
		select i.buyer_id, i.number, 'invoice', i.issue_date,
			case when i.type_code = '381' then 'Rechnungskorrektur / credit note ' else 'Rechnung / invoice ' end || i.number,
			case when i.model->>'language' = 'de'
				then 'Guten Tag,' || chr(10) || chr(10) || 'anbei erhalten Sie ' || case when i.type_code = '381' then 'die Rechnungskorrektur ' else 'die Rechnung ' end
					|| i.number || ' vom ' || to_char(i.issue_date, 'DD.MM.YYYY') || ' als PDF mit eingebetteter E-Rechnung (ZUGFeRD/Factur-X) und als XML.'
					|| chr(10) || chr(10) || 'Mit freundlichen Grüßen' || chr(10) || (i.model->'seller'->>'name')
				else 'Hello,' || chr(10) || chr(10) || 'please find attached ' || case when i.type_code = '381' then 'credit note ' else 'invoice ' end
					|| i.number || ' of ' || i.issue_date::text || ' as a PDF with the embedded e-invoice (ZUGFeRD/Factur-X) and as XML.'
					|| chr(10) || chr(10) || 'Kind regards' || chr(10) || (i.model->'seller'->>'name') end,
			(select jsonb_agg(d.archive_key order by d.kind) from documents d where d.invoice_id = i.id),
			coalesce(i.model->'buyer'->>'email', '')
		from invoices i
		where i.status = 'archived' and (i.number = any($1) or i.run_id in (select id from runs where status <> 'done'))
		on conflict do nothing`, numbers)
	if err != nil {
		return 0, fmt.Errorf("queue invoice emails: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
