package main

// FerretDB v1.24.2's SQLite backend creates each collection's `_id` index on the
// expression `_ferretdb_sjson->"_id"` but filters on `_ferretdb_sjson->'$._id'`. SQLite
// matches indexes to expressions textually, so the index is never used and every
// "exact _id" lookup, update, upsert or delete scans the whole table (36 ms for a missing
// _id in a 20,000-document collection; 1.5 ms with an index on the queried expression).
//
// Parley keeps its hot reads and writes to exact _id matches, so this sweep adds the
// index FerretDB's queries can use to every collection table, shortly after the table
// appears. FerretDB lists indexes from its own metadata, so the extra SQLite index is
// invisible to clients, and it goes away with its table when a collection is dropped.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the same pure-Go driver FerretDB uses
)

const (
	metadataTable = "_ferretdb_collections"
	idExpression  = `_ferretdb_sjson->'$._id'`
)

// sqliteDir extracts the directory from a --sqlite-url such as "file:/data/?_pragma=...".
func sqliteDir(sqliteURL string) (string, error) {
	u, err := url.Parse(sqliteURL)
	if err != nil {
		return "", err
	}
	dir := u.Opaque
	if dir == "" {
		dir = u.Path
	}
	if dir == "" {
		return "", fmt.Errorf("no directory in %q", sqliteURL)
	}
	return dir, nil
}

type idIndexer struct {
	dir     string
	logger  *slog.Logger
	dbs     map[string]*sql.DB
	indexed map[string]bool // "file\x00table" already indexed
}

func runIDIndexer(ctx context.Context, dir string, logger *slog.Logger, every time.Duration) {
	ix := &idIndexer{dir: dir, logger: logger, dbs: map[string]*sql.DB{}, indexed: map[string]bool{}}
	defer func() {
		for _, db := range ix.dbs {
			_ = db.Close()
		}
	}()
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		ix.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (ix *idIndexer) sweep(ctx context.Context) {
	files, err := filepath.Glob(filepath.Join(ix.dir, "*.sqlite"))
	if err != nil {
		return
	}
	for _, file := range files {
		db, ok := ix.dbs[file]
		if !ok {
			// busy_timeout: wait for FerretDB's own writers instead of failing the sweep.
			db, err = sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(5000)")
			if err != nil {
				continue
			}
			db.SetMaxOpenConns(1)
			ix.dbs[file] = db
		}
		tables, err := listTables(ctx, db)
		if err != nil {
			continue // the database may be mid-creation or mid-drop; try again next sweep
		}
		for _, table := range tables {
			key := file + "\x00" + table
			if ix.indexed[key] {
				continue
			}
			q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, table+"_parley_id", table, idExpression)
			if _, err := db.ExecContext(ctx, q); err != nil {
				ix.logger.Debug("id index not created yet", "table", table, "error", err)
				continue
			}
			ix.indexed[key] = true
		}
	}
}

func listTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT table_name FROM %q`, metadataTable))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(name, "_ferretdb_") {
			tables = append(tables, name)
		}
	}
	return tables, rows.Err()
}
