// The console's users, their sessions and the audit log.

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoUser is the error of a user that does not exist.
var ErrNoUser = errors.New("no such user")

// ErrUserExists is the error of adding a user whose name is taken.
var ErrUserExists = errors.New("user exists")

// User is a console user. PasswordHash is an argon2id hash in PHC string form.
type User struct {
	Name, Role, PasswordHash string
	Created                  time.Time
}

// AddUser adds a user.
func (s *Store) AddUser(ctx context.Context, u User) error {
	_, err := s.pool.Exec(ctx, `insert into users (name, role, password_hash) values ($1, $2, $3)`, u.Name, u.Role, u.PasswordHash)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("add user %s: %w", u.Name, ErrUserExists)
	}
	if err != nil {
		return fmt.Errorf("add user %s: %w", u.Name, err)
	}
	return nil
}

// RemoveUser removes a user and its sessions.
func (s *Store) RemoveUser(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `delete from users where name = $1`, name)
	if err != nil {
		return fmt.Errorf("remove user %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("remove user %s: %w", name, ErrNoUser)
	}
	return nil
}

// Users lists the users by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `select name, role, password_hash, created_at from users order by name`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		return u, r.Scan(&u.Name, &u.Role, &u.PasswordHash, &u.Created)
	})
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return users, nil
}

// UserByName returns a user, or ErrNoUser.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `select name, role, password_hash, created_at from users where name = $1`, name).
		Scan(&u.Name, &u.Role, &u.PasswordHash, &u.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("user %s: %w", name, ErrNoUser)
	}
	if err != nil {
		return u, fmt.Errorf("user %s: %w", name, err)
	}
	return u, nil
}

// CreateSession stores a session of user by the hash of its ID, valid until expires.
func (s *Store) CreateSession(ctx context.Context, idHash, user string, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `insert into sessions (id_hash, user_name, expires_at) values ($1, $2, $3)`, idHash, user, expires)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionUser returns the user of an unexpired session, or ErrNoUser.
func (s *Store) SessionUser(ctx context.Context, idHash string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `select u.name, u.role, u.created_at from sessions s join users u on u.name = s.user_name
		where s.id_hash = $1 and s.expires_at > now()`, idHash).Scan(&u.Name, &u.Role, &u.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("session: %w", ErrNoUser)
	}
	if err != nil {
		return u, fmt.Errorf("session: %w", err)
	}
	return u, nil
}

// DeleteSession ends a session; expired sessions go with it.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.pool.Exec(ctx, `delete from sessions where id_hash = $1 or expires_at < now()`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// AuditEntry is a line of the audit log.
type AuditEntry struct {
	At                   time.Time
	User, Action, Object string
}

// Audit records that user did action on object.
func (s *Store) Audit(ctx context.Context, user, action, object string) error {
	if _, err := s.pool.Exec(ctx, `insert into audit_log (user_name, action, object) values ($1, $2, $3)`, user, action, object); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditLog returns the latest limit entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `select at, user_name, action, object from audit_log order by id desc limit $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	log, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		return e, r.Scan(&e.At, &e.User, &e.Action, &e.Object)
	})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return log, nil
}
