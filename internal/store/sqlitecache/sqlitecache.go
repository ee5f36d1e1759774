// Package sqlitecache wraps modernc.org/sqlite's connections with a cache of prepared
// statements, so that SQLite parses and plans a query once per connection instead of on
// every ExecContext and QueryContext.
//
// modernc's connection prepares, runs and finalizes a statement on each call, and
// database/sql on a *sql.DB (which is how River's riversqlite driver and the store send
// their SQL) never keeps one, so the parser took a quarter to a third of the CPU of the
// SQLite paths. The cache sits below database/sql, where it sees every query whatever
// sends it.
package sqlitecache

import (
	"context"
	"database/sql/driver"
	"fmt"

	"modernc.org/sqlite"
)

// capacity is how many statements a connection keeps. The store's and River's queries, with
// those of the store's and the queue's tests, come to about 150 distinct texts (a multi-row
// INSERT has one per row count). A statement the size of River's job updates holds about
// 16 KB, so a full cache about 4 MB a connection.
const capacity = 256

// Connector returns a connector for sql.OpenDB that opens dsn as sql.Open("sqlite", dsn)
// would, through the driver modernc.org/sqlite registers (with whatever functions, hooks
// and collations are registered on it), and caches each connection's statements.
//
// The dsn syntax is modernc's, see (*sqlite.Driver).Open; a malformed query string is
// reported here, everything else by the first connection.
func Connector(dsn string) (driver.Connector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &connector{base: base, capacity: capacity}, nil
}

type connector struct {
	base     driver.Connector
	capacity int
}

// Connect opens a modernc connection and wraps it.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	bc, ok := dc.(baseConn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("sqlitecache: %T lacks a method of database/sql's optional connection interfaces", dc)
	}
	return newConn(bc, c.capacity), nil
}

// Driver reports modernc's registered driver, as a database opened with sql.Open would.
func (c *connector) Driver() driver.Driver { return c.base.Driver() }
