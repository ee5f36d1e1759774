package sqlitecache

import (
	"database/sql/driver"
	"reflect"
)

// rows are the Rows of a cached statement: closing them frees the statement for its next
// run. They pass on the column type methods of modernc's Rows, which (*sql.Rows).ColumnTypes
// reads, with database/sql's answer for a driver without one.
type rows struct {
	driver.Rows
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
	err := r.Rows.Close()
	e.busy = false
	if e.evicted {
		_ = r.c.closeStmt(e)
	}
	return err
}

func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	if p, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return p.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	if p, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return p.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *rows) ColumnTypeLength(i int) (int64, bool) {
	if p, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return p.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if p, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return p.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *rows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if p, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return p.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
