package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/console"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newServe(dbFlag *string, logger *slog.Logger) *cobra.Command {
	var addr, archiveFlag, certFile, keyFile string
	var behindTLS bool
	cmd := &cobra.Command{
		Use:   "serve [--addr ADDR]",
		Short: "Serve the finance console: runs, dry runs, invoices, customers, license reports",
		Long: `serve runs the finance console, a web application over the database and the archive.
Users sign in with a name and password (kontor user add); viewers read, finance also
dry-runs, starts runs and credits invoices, admins also manage users.

Serve it over TLS: --tls-cert and --tls-key, or behind a proxy that terminates TLS, then
with --behind-tls-proxy, so that the session cookie is marked Secure. It stops on SIGINT
or SIGTERM, finishing the requests in flight; a run it started stops after the invoice in
hand, as kontor run does, and the next run finishes it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (certFile == "") != (keyFile == "") {
				return usageError(errors.New("serve: --tls-cert and --tls-key go together"))
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, databaseURL(*dbFlag))
			if err != nil {
				return err
			}
			defer st.Close()
			if users, err := st.Users(ctx); err == nil && len(users) == 0 {
				logger.Warn("the console has no user yet: add one with kontor user add NAME --role admin")
			}
			r, arc, err := renderAndArchive(ctx, archiveFlag)
			if err != nil {
				return err
			}
			seller, err := st.Seller(ctx)
			if err != nil {
				logger.Warn("no dataset imported yet: Stripe events are dated in UTC", "err", err)
				seller.Location = time.UTC
			}
			srv, err := console.New(ctx, console.Config{Store: st, Archive: arc, Renderer: r, Logger: logger,
				Charger: stripeCharger(), Webhooks: stripeWebhook(st, seller.Location, logger),
				SecureCookies: certFile != "" || behindTLS})
			if err != nil {
				return err
			}
			if err := startMail(ctx, st, arc, seller.Email, logger); err != nil {
				return err
			}
			err = serveConsole(ctx, addr, certFile, keyFile, srv.Handler(), logger)
			srv.Wait()
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&archiveFlag, "archive", "", "archive URL (default $KONTOR_ARCHIVE, else ./archive)")
	cmd.Flags().StringVar(&certFile, "tls-cert", "", "TLS certificate file (PEM)")
	cmd.Flags().StringVar(&keyFile, "tls-key", "", "TLS key file (PEM)")
	cmd.Flags().BoolVar(&behindTLS, "behind-tls-proxy", false, "a proxy in front terminates TLS: mark the session cookie Secure")
	return cmd
}

// serveConsole serves h on addr until ctx ends, then lets the requests in flight finish.
func serveConsole(ctx context.Context, addr, certFile, keyFile string, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return usageError(fmt.Errorf("serve: --addr %s: %w", addr, err))
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	logger.Info("console listening", "addr", ln.Addr().String(), "tls", certFile != "")
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: stop: %w", err)
	}
	logger.Info("console stopped")
	return nil
}

func newUser(dbFlag *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the console's users: add, list, remove",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError(errors.New("user: name a subcommand: add, list or remove"))
		},
	}
	var role string
	add := &cobra.Command{
		Use:   "add NAME --role viewer|finance|admin",
		Short: "Add a console user; the password is read from standard input or asked for",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !console.ValidRole(role) {
				return usageError(fmt.Errorf("user add: --role %q: want viewer, finance or admin", role))
			}
			password, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("user add: %w", err)}
			}
			hash, err := console.HashPassword(password)
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("user add: %w", err)}
			}
			return withStore(cmd, *dbFlag, func(st *store.Store) error {
				if err := st.AddUser(cmd.Context(), store.User{Name: args[0], Role: role, PasswordHash: hash}); err != nil {
					return &exitError{code: exitFailure, err: err}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "added %s (%s)\n", args[0], role)
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "viewer, finance or admin")
	_ = add.MarkFlagRequired("role")
	list := &cobra.Command{
		Use: "list", Short: "List the console's users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, *dbFlag, func(st *store.Store) error {
				users, err := st.Users(cmd.Context())
				for _, u := range users {
					fmt.Fprintf(cmd.OutOrStdout(), "%-20s %-8s added %s\n", u.Name, u.Role, u.Created.UTC().Format("2006-01-02 15:04 UTC"))
				}
				return err
			})
		},
	}
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Remove a console user and end its sessions", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, *dbFlag, func(st *store.Store) error {
				if err := st.RemoveUser(cmd.Context(), args[0]); err != nil {
					return &exitError{code: exitFailure, err: err}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(add, list, remove)
	return cmd
}

func withStore(cmd *cobra.Command, dbFlag string, fn func(*store.Store) error) error {
	st, err := store.Open(cmd.Context(), databaseURL(dbFlag))
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// readPassword asks for the password twice on a terminal, without echo; otherwise it reads
// the first line of in (a script's pipe).
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		fmt.Fprint(prompt, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if string(first) != string(again) {
			return "", errors.New("the passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
