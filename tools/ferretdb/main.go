// Command parley-ferretdb runs FerretDB v1 (SQLite backend) as Parley's embedded
// development and test database.
//
// Why a wrapper instead of `go install .../cmd/ferretdb@v1.24.2`: a binary built that
// way panics at start-up, because the module zip lacks the build/version/version.txt
// file that FerretDB's release tooling generates. The embeddable package below is the
// same server without that check. It accepts the official binary's flag names for the
// subset Parley uses, so the Node side starts either one with the same arguments.
//
// It also exits when its standard input closes: the Node process holds the other end,
// so the database never outlives the app, even when the app is killed with SIGKILL.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "backend handler (sqlite)")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI of the data directory")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	watchStdin := flag.Bool("exit-on-stdin-close", true, "exit when standard input is closed")
	guardReplies := flag.Bool("reply-guard", true, "drop the replies FerretDB sends to requests flagged moreToCome (see replyguard.go)")
	idIndexes := flag.Bool("id-indexes", true, "index the _id expression FerretDB's SQLite queries use (see idindex.go)")
	// Accepted for compatibility with the official binary's command line; the
	// embeddable server has neither telemetry nor a debug HTTP listener.
	flag.String("telemetry", "disable", "ignored")
	flag.String("debug-addr", "-", "ignored")
	flag.String("state-dir", ".", "ignored")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(*logLevel))); err != nil {
		fmt.Fprintf(os.Stderr, "parley-ferretdb: bad --log-level %q\n", *logLevel)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	listener := ferretdb.ListenerConfig{TCP: *listenAddr}
	if *guardReplies {
		// FerretDB listens on a private Unix socket; clients reach it through the guard.
		dir, err := os.MkdirTemp("", "parley-ferretdb-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "parley-ferretdb: %s\n", err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
		backend := filepath.Join(dir, "ferretdb.sock")
		listener = ferretdb.ListenerConfig{Unix: backend}
		ln, err := net.Listen("tcp", *listenAddr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "parley-ferretdb: %s\n", err)
			os.Exit(1)
		}
		go serveReplyGuard(ctx, ln, backend, logger)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    logger,
		Handler:   *handler,
		SQLiteURL: *sqliteURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley-ferretdb: %s\n", err)
		os.Exit(1)
	}

	if *handler == "sqlite" && *idIndexes {
		dir, err := sqliteDir(*sqliteURL)
		if err != nil {
			fmt.Fprintf(os.Stderr, "parley-ferretdb: %s\n", err)
			os.Exit(2)
		}
		go runIDIndexer(ctx, dir, logger, time.Second)
	}

	fmt.Fprintf(os.Stderr, "parley-ferretdb: listening on %s\n", *listenAddr)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "parley-ferretdb: %s\n", err)
		os.Exit(1)
	}
}
