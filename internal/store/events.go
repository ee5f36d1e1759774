package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/customergateway/gateway/internal/model"
)

// ErrDuplicateEvent is RecordEvent's answer when an event with the same id is stored.
var ErrDuplicateEvent = errors.New("store: an audit event with this id is already recorded")

// Store reads the gateway's own audit trail, a page at a time.
var _ model.AuditPageReader = (*Store)(nil)

const eventColumns = "id, occurred_at, type, kind, actor, customer_id, summary, target_id, result, applied_at, details"

// Source reports that the store's events are the gateway's own.
func (s *Store) Source() model.AuditSource { return model.SourceGateway }

// RecordEvent appends a gateway event to the audit trail. An empty ID becomes
// "gateway:<UUIDv7>" and an empty Source the gateway; OccurredAt and Kind are required.
// Events are never changed afterwards: a later delivery outcome is an event of its own.
func (s *Store) RecordEvent(ctx context.Context, e model.AuditEvent) error {
	return recordEvent(ctx, s.w, e)
}

// RecordEventTx is RecordEvent inside tx, so an event is kept exactly when what it tells of is.
func (s *Store) RecordEventTx(ctx context.Context, tx *sql.Tx, e model.AuditEvent) error {
	return recordEvent(ctx, tx, e)
}

func recordEvent(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, e model.AuditEvent) error {
	if e.Source != "" && e.Source != model.SourceGateway {
		return fmt.Errorf("store: the store keeps only gateway events, not %q", e.Source)
	}
	if e.OccurredAt.IsZero() || e.Kind == "" {
		return errors.New("store: an audit event needs occurred_at and kind")
	}
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("store: event id: %w", err)
		}
		e.ID = "gateway:" + id.String()
	}
	var applied sql.NullInt64
	if e.AppliedAt != nil {
		applied = sql.NullInt64{Int64: nanos(*e.AppliedAt), Valid: true}
	}
	var details sql.NullString
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("store: event details: %w", err)
		}
		details = sql.NullString{String: string(b), Valid: true}
	}
	res, err := db.ExecContext(ctx, `
		INSERT INTO gateway_events (`+eventColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO NOTHING`,
		e.ID, nanos(e.OccurredAt), string(e.Type), string(e.Kind), e.Actor, e.CustomerID, e.Summary,
		e.TargetID, e.Result, applied, details)
	inserted, err := affectedOne(res, err)
	if err != nil {
		return fmt.Errorf("store: record event: %w", err)
	}
	if !inserted {
		return ErrDuplicateEvent
	}
	return nil
}

// Events answers the gateway events with w.From <= occurred_at < w.To, ordered by
// occurred_at then id, their times in UTC.
func (s *Store) Events(ctx context.Context, w model.Window) ([]model.AuditEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventColumns+` FROM gateway_events
		WHERE occurred_at >= $1 AND occurred_at < $2 ORDER BY occurred_at, id`,
		nanos(w.From), nanos(w.To))
	if err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	defer rows.Close()
	var out []model.AuditEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	return out, nil
}

// EventsPage answers one page of the gateway events of p.Window: the filters, the order
// and the keyset after p.After are in the statement, so a page reads about p.Limit rows
// through an index (00007) whatever the range holds. Ids are compared byte by byte, as the
// audit trail orders them: SQLite's BINARY collation, and "C" on PostgreSQL whatever the
// database's own collation.
func (s *Store) EventsPage(ctx context.Context, p model.AuditPage) ([]model.AuditEvent, error) {
	if p.Limit < 1 {
		return nil, errors.New("store: an events page needs a limit")
	}
	id := "id"
	if s.engine == EnginePostgres {
		id = `id COLLATE "C"`
	}
	var conds []string
	var args []any
	add := func(cond string, vs ...any) {
		ps := make([]any, len(vs))
		for i, v := range vs {
			args = append(args, v)
			ps[i] = s.param(len(args))
		}
		conds = append(conds, fmt.Sprintf(cond, ps...))
	}
	add("occurred_at >= %s", nanos(p.Window.From))
	add("occurred_at < %s", nanos(p.Window.To))
	if p.Type != "" {
		add("type = %s", string(p.Type))
	}
	if p.Kind != "" {
		add("kind = %s", string(p.Kind))
	}
	if p.CustomerID != "" {
		add("customer_id = %s", p.CustomerID)
	}
	dir, cmp := "ASC", ">"
	if p.Desc {
		dir, cmp = "DESC", "<"
	}
	if p.After != nil {
		// The instant alone bounds the index range; the id breaks ties at that instant.
		at := nanos(p.After.At)
		add("occurred_at "+cmp+"= %s", at)
		add("(occurred_at "+cmp+" %s OR "+id+" "+cmp+" %s)", at, p.After.ID)
	}
	args = append(args, p.Limit)
	q := `SELECT ` + eventColumns + ` FROM gateway_events WHERE ` + strings.Join(conds, " AND ") +
		` ORDER BY occurred_at ` + dir + `, ` + id + ` ` + dir + ` LIMIT ` + s.param(len(args))
	var out []model.AuditEvent
	err := eachRow(ctx, s.r, q, args, func(rows *sql.Rows) error {
		e, err := scanEvent(rows)
		out = append(out, e)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	return out, nil
}

func scanEvent(rows *sql.Rows) (model.AuditEvent, error) {
	e := model.AuditEvent{Source: model.SourceGateway}
	var occurred int64
	var typ, kind string
	var applied sql.NullInt64
	var details sql.NullString
	err := rows.Scan(&e.ID, &occurred, &typ, &kind, &e.Actor, &e.CustomerID, &e.Summary,
		&e.TargetID, &e.Result, &applied, &details)
	if err != nil {
		return e, err
	}
	e.OccurredAt, e.Type, e.Kind = fromNanos(occurred), model.AuditType(typ), model.AuditKind(kind)
	if applied.Valid {
		t := fromNanos(applied.Int64)
		e.AppliedAt = &t
	}
	if details.Valid {
		if err := json.Unmarshal([]byte(details.String), &e.Details); err != nil {
			return e, fmt.Errorf("event %s details: %w", e.ID, err)
		}
	}
	return e, nil
}
