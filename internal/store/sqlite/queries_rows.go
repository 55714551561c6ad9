package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Helpers of the list queries of queries_members.go and queries_people.go.

// pageLimit turns a page size for LIMIT ?: one that is not positive means no limit, which
// SQLite spells -1.
func pageLimit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// queryList runs a query of many rows and turns each row into a T with scan. what names the
// list in errors ("list bans of room r1"). The result is nil when no row matched.
func queryList[T any](ctx context.Context, q querier, what string, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
