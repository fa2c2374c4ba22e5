package store

import "github.com/uptrace/bun"

// Tx is a transaction a service opens with DB.RunInTx or DB.BeginTx to make
// several store calls one unit of work; every store function that takes a
// bun.IDB accepts it. It is named here so that only this package imports
// Bun (ARCHITECTURE.md, checked by internal/archtest).
type Tx = bun.Tx

// QueryEvent is what a query hook (DB.AddQueryHook) sees of each query;
// tests count reads with it.
type QueryEvent = bun.QueryEvent
