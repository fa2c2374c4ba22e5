// Package importer reads the data exports people download from their
// platforms — Spotify's account-data and extended streaming histories,
// Google Takeout's YouTube watch and search histories — and turns them into
// normalised Records, the same shape the API poller produces, so that both
// paths meet in one deduplicating upsert.
//
// Files are streamed element by element (a lifetime streaming history is
// hundreds of megabytes); records reach the caller's Sink in batches. The
// package knows nothing about storage: the caller upserts each batch.
package importer
