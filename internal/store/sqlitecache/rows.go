package sqlitecache

import "database/sql/driver"

// baseRows is what database/sql uses of modernc's Rows: the column type methods are what
// (*sql.Rows).ColumnTypes reads.
type baseRows interface {
	driver.Rows
	driver.RowsColumnTypeScanType
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
}

// rows are the Rows of a cached statement: closing them frees the statement for its next
// run. Everything else is modernc's.
type rows struct {
	baseRows
	c *conn
	e *entry // nil once closed
}

// Close closes the Rows, which resets the statement, and frees the statement, or closes it
// if it left the cache meanwhile.
func (r *rows) Close() error {
	e := r.e
	if e == nil {
		return nil
	}
	r.e = nil
	err := r.baseRows.Close()
	e.busy = false
	if e.evicted {
		_ = r.c.closeStmt(e)
	}
	return err
}
