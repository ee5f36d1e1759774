package sqlitecache

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// baseConn is what database/sql uses of modernc's connection. modernc's connection does not
// implement driver.NamedValueChecker, and neither does conn, so database/sql converts
// arguments exactly as it does for a plain modernc connection.
type baseConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmt is what the cache runs of modernc's statement.
type stmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// conn is a modernc connection with a bounded LRU cache of the statements ExecContext and
// QueryContext ran on it. database/sql never uses a driver connection, or the Rows it
// returned, from two goroutines at once, so the cache needs no lock of its own.
type conn struct {
	base     baseConn
	capacity int
	lru      list.List // of *entry, the most recently used first
	entries  map[string]*list.Element

	// prepares and closes count the statements the cache prepared and closed, for tests.
	prepares, closes int
}

// entry is a cached statement. busy is set while Rows of the statement are open: running
// the statement again then would bind and step a statement in the middle of a result, so a
// second run of the query takes a one-shot statement instead (see conn.cached). evicted is
// set when the statement left the cache while busy: its Rows close it.
type entry struct {
	query   string
	stmt    stmt
	busy    bool
	evicted bool
}

var _ baseConn = (*conn)(nil)

func newConn(base baseConn, capacity int) *conn {
	return &conn{base: base, capacity: capacity, entries: make(map[string]*list.Element)}
}

// ExecContext runs query on its cached statement, preparing it on the first run.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return c.base.ExecContext(ctx, query, args)
	}
	// modernc resets the statement before Exec returns, so it is free again at once.
	return e.stmt.ExecContext(ctx, args)
}

// QueryContext runs query on its cached statement, preparing it on the first run. The
// statement is busy until the returned Rows is closed.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	e, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return c.base.QueryContext(ctx, query, args)
	}
	// modernc's Rows of a statement it keeps reset the statement at Close instead of
	// finalizing it, and leave it reset when the query fails or its context ends.
	r, err := e.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	br, ok := r.(baseRows)
	if !ok {
		_ = r.Close()
		return nil, fmt.Errorf("sqlitecache: %T lacks a column type method of database/sql's", r)
	}
	e.busy = true
	return &rows{baseRows: br, c: c, e: e}, nil
}

// cached returns query's statement from the cache, or prepares and caches it. It returns no
// entry, to have the caller run query on a one-shot statement as modernc does, when query is
// not cacheable or its statement is busy. A failed prepare is not cached: the next run tries
// again, and reports the error modernc reports.
func (c *conn) cached(ctx context.Context, query string) (*entry, error) {
	if el, ok := c.entries[query]; ok {
		e := el.Value.(*entry)
		if e.busy {
			return nil, nil
		}
		c.lru.MoveToFront(el)
		return e, nil
	}
	if !cacheable(query) {
		return nil, nil
	}
	ds, err := c.base.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s, ok := ds.(stmt)
	if !ok {
		_ = ds.Close()
		return nil, nil
	}
	c.prepares++
	e := &entry{query: query, stmt: s}
	c.entries[query] = c.lru.PushFront(e)
	if c.lru.Len() > c.capacity {
		c.evict(c.lru.Back())
	}
	return e, nil
}

// cacheable reports whether query is one statement. modernc keeps a prepared handle only
// for a text that is one whole statement; for a script (a migration: goose and River's
// migrator send each as one Exec) it keeps the text alone and parses each statement again
// on every run, so an entry would save nothing and hold the script for the connection's
// life. SQLite ends a statement at a ';' outside literals and comments, and modernc takes
// anything after it, even a newline, for more SQL: a query is cacheable when its first
// such ';' is its last byte or it has none. River's queries carry comments with ';' in them.
//
// The scan need not be exact, only safe: a statement taken for a script (a trigger's body,
// say) runs uncached, which is only slower, and a script taken for a statement would run
// as modernc runs it, from a cached copy of its text.
func cacheable(query string) bool {
	for i := 0; i < len(query); i++ {
		var end string
		switch c := query[i]; {
		case c == ';':
			return i == len(query)-1
		case c == '\'' || c == '"' || c == '`':
			end = string(c) // a doubled quote inside is read as two literals
		case c == '[':
			end = "]"
		case c == '-' && strings.HasPrefix(query[i+1:], "-"):
			end = "\n"
		case c == '/' && strings.HasPrefix(query[i+1:], "*"):
			end, i = "*/", i+1
		default:
			continue
		}
		j := strings.Index(query[i+1:], end)
		if j < 0 {
			return true // to the end of the text
		}
		i += j + len(end)
	}
	return true
}

// evict takes el's statement out of the cache and closes it, or leaves that to its Rows
// when they are open.
func (c *conn) evict(el *list.Element) {
	e := c.lru.Remove(el).(*entry)
	delete(c.entries, e.query)
	if e.busy {
		e.evicted = true
		return
	}
	// Closing a statement modernc has reset finalizes it, which does not fail; the caller
	// of the Exec or Query that made room has no use for an error here.
	_ = c.closeStmt(e)
}

func (c *conn) closeStmt(e *entry) error {
	c.closes++
	return e.stmt.Close()
}

// Close closes the cached statements and the connection.
func (c *conn) Close() error {
	var errs []error
	for el := c.lru.Front(); el != nil; el = el.Next() {
		errs = append(errs, c.closeStmt(el.Value.(*entry)))
	}
	c.lru.Init()
	clear(c.entries)
	return errors.Join(append(errs, c.base.Close())...)
}

// Prepare is modernc's: the caller (database/sql's Stmt) owns the statement.
func (c *conn) Prepare(query string) (driver.Stmt, error) { return c.base.Prepare(query) }

// PrepareContext is modernc's: the caller (database/sql's Stmt) owns the statement.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.base.PrepareContext(ctx, query)
}

// Begin is modernc's Begin, which is its BeginTx with no context and the default options.
func (c *conn) Begin() (driver.Tx, error) {
	return c.base.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx is modernc's.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.base.BeginTx(ctx, opts)
}

// Ping is modernc's.
func (c *conn) Ping(ctx context.Context) error { return c.base.Ping(ctx) }

// ResetSession is modernc's: it reports a connection whose query was interrupted as bad,
// and database/sql then closes it, and its statements with it.
func (c *conn) ResetSession(ctx context.Context) error { return c.base.ResetSession(ctx) }

// IsValid is modernc's.
func (c *conn) IsValid() bool { return c.base.IsValid() }
